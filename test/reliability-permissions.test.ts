/**
 * Publish into a folder Metarr may not write, with a real permission error (EACCES from the kernel,
 * not an injected fs) under a real worker process: dead-lettered at once with what to fix, old files
 * intact, and a retry through the API succeeds once the permission is back.
 *
 * Root ignores permission bits, so as root (this machine, CI) the worker runs as `nobody`: `fork` with
 * `uid`/`gid` rather than `setpriv`/`runuser`, because it needs no extra binary, keeps the IPC channel
 * the worker's `ready` message uses (as spawnProcess does), and libuv drops root's supplementary groups
 * (setgroups) before switching. Not root: the worker runs as this user and chmod alone is enough.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type InspectedJob, isTempFileName } from '@metarr/core';
import { snapshotFiles, startFakeFanart, startFakeTmdb } from '@metarr/testkit';
import t from 'tap';
import { ROOT, type Stack, spawnProcess, startStack, waitFor } from './support/stack.ts';

type TestT = Pick<typeof t, 'teardown'>;
interface Identity {
  uid: number;
  gid: number;
}

const NOBODY: Identity = { uid: 65534, gid: 65534 };
const WORKER_MAIN = path.join(ROOT, 'packages', 'worker', 'src', 'main.ts');

const isRoot = () => process.getuid?.() === 0;

async function chownTree(dir: string, who: Identity): Promise<void> {
  await fs.chown(dir, who.uid, who.gid);
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true }))
    await fs.lchown(path.join(e.parentPath, e.name), who.uid, who.gid);
}

/**
 * Whether the worker's user (`as`, or this process) really gets a permission error in a 0555 folder
 * under `dir` while it may write `dir` itself: null when so, else why not (no setuid allowed, a file
 * system ignoring modes, a path that user cannot reach, …).
 */
async function writeDenied(dir: string, as: Identity | null, home: string): Promise<string | null> {
  const probe = path.join(dir, 'probe');
  await fs.mkdir(probe);
  if (as) await fs.chown(probe, as.uid, as.gid);
  await fs.chmod(probe, 0o555);
  const allowed = path.join(dir, 'probe-allowed');
  const denied = path.join(probe, 'probe-denied');
  try {
    let codes: { allowed: string; denied: string };
    if (!as) {
      const attempt = (file: string) =>
        fs.writeFile(file, '').then(
          () => 'written',
          (err: NodeJS.ErrnoException) => String(err.code),
        );
      codes = { allowed: await attempt(allowed), denied: await attempt(denied) };
    } else {
      // Its sources must be readable by that user too, or the worker could not even start.
      const script = `const fs = require('node:fs');
        fs.accessSync(${JSON.stringify(WORKER_MAIN)}, fs.constants.R_OK);
        const attempt = (file) => { try { fs.writeFileSync(file, ''); return 'written'; } catch (err) { return err.code; } };
        console.log(JSON.stringify({ allowed: attempt(${JSON.stringify(allowed)}), denied: attempt(${JSON.stringify(denied)}) }));`;
      const r = spawnSync(process.execPath, ['-e', script], {
        ...as,
        encoding: 'utf8',
        env: processInfoEnv(home),
      });
      if (r.error) return `cannot start a process as uid ${as.uid}: ${r.error.message}`;
      try {
        codes = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
      } catch {
        return `a process as uid ${as.uid} failed: ${r.stderr.slice(-500)}`;
      }
    }
    if (codes.allowed !== 'written') return `cannot write the test folder (${codes.allowed})`;
    if (codes.denied !== 'EACCES') return `a write into a 0555 folder gave ${codes.denied}`;
    return null;
  } finally {
    await fs.chmod(probe, 0o755);
    await fs.rm(probe, { recursive: true, force: true });
    await fs.rm(allowed, { force: true });
  }
}

/**
 * tap's process-info hook rides along into every child and writes a record under
 * `_TAPJS_PROCESSINFO_CWD_/.tap` at exit: point it at a folder the unprivileged child may write.
 */
function processInfoEnv(writable: string): NodeJS.ProcessEnv {
  return { ...process.env, _TAPJS_PROCESSINFO_CWD_: writable };
}

/** The worker entrypoint as its own OS process (as `as` when given); resolves once it is ready. */
async function startWorker(
  t: TestT,
  env: Record<string, string>,
  home: string,
  as: Identity | null,
): Promise<{ logLines: () => Record<string, unknown>[] }> {
  // See processInfoEnv: tap's hook in the child must write somewhere that user may.
  const worker = await spawnProcess(
    t,
    'worker',
    { _TAPJS_PROCESSINFO_CWD_: home, HOME: home, TMPDIR: home, ...env },
    as ?? undefined,
  );
  const logLines = () =>
    worker
      .output()
      .split('\n')
      .flatMap((l) => {
        try {
          return l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [];
        } catch {
          return []; // the last line may still be on its way
        }
      });
  return { logLines };
}

async function publishes(stack: Stack) {
  return (await stack.jobs.rows({ types: ['publish'] })) as (InspectedJob & { output: any })[];
}

t.test(
  'folder not writable (real EACCES) under a worker process: dead-lettered at once with what to do, old files intact, retry succeeds once fixed',
  async (t) => {
    if (process.platform === 'win32') {
      t.plan(0, 'POSIX permission bits only; the injected-fs unit test covers EACCES/EPERM');
      return;
    }
    const as = isRoot() ? NOBODY : null;
    const dir = t.testdir({ media: { Movie: { 'M.mkv': 'v' } }, worker: {} });
    const home = path.join(dir, 'worker');
    if (as) await chownTree(dir, as);
    const why = await writeDenied(dir, as, home);
    if (why) {
      t.plan(0, `no real permission error here (${why}); the injected-fs unit test covers EACCES/EPERM`);
      return;
    }
    const root = path.join(dir, 'media');
    const folder = path.join(root, 'Movie');

    const tmdb = await startFakeTmdb();
    const fanart = await startFakeFanart();
    t.teardown(() => Promise.all([tmdb.close(), fanart.close()]));
    // API in this process; the only worker is the unprivileged process below.
    const stack = await startStack(t, { worker: false });
    const worker = await startWorker(
      t,
      {
        DATABASE_URL: stack.database.url,
        METARR_DATA_DIR: home,
        METARR_WORKER_CONCURRENCY: '2',
        METARR_DB_POOL_MAX: '4',
        METARR_SHUTDOWN_GRACE_SECONDS: '2',
        TMDB_API_KEY: 'tmdb-test-key',
        FANART_API_KEY: 'fanart-test-key',
        METARR_TMDB_BASE_URL: tmdb.apiUrl,
        METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
        METARR_FANART_BASE_URL: fanart.apiUrl,
      },
      home,
      as,
    );

    const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
    t.equal(lib.status, 201, lib.text);
    await stack.queue.enqueue('scan-movie', {
      libraryId: lib.json.id,
      path: folder,
      trigger: 'manual',
      tmdbId: 603,
    });
    await waitFor(
      'first publish completed',
      async () => (await publishes(stack)).some((j) => j.state === 'completed'),
      30_000,
    );
    const before = await snapshotFiles(folder);
    t.ok(before['M.nfo'] && before['M-poster.jpg'], 'published once: NFO and poster');
    if (as)
      t.equal((await fs.stat(path.join(folder, 'M.nfo'))).uid, as.uid, 'written by the unprivileged worker');

    // New metadata, so the next publish must rewrite the NFO; then the folder stops being writable.
    const movieId = (await stack.api('GET', '/api/movies')).json[0].id as number;
    const meta = await stack.db
      .selectFrom('movie_metadata')
      .select('data')
      .where('movie_id', '=', movieId)
      .executeTakeFirstOrThrow();
    const tagline = 'Changed while the folder was not writable';
    await stack.db
      .updateTable('movie_metadata')
      .set({ data: JSON.stringify({ ...(meta.data as object), tagline }) })
      .where('movie_id', '=', movieId)
      .execute();
    await fs.chmod(folder, 0o555);
    t.teardown(() => fs.chmod(folder, 0o755).catch(() => {}));

    const job = await stack.queue.enqueue('publish', { movieId });
    t.ok(job?.id, 'publish enqueued');
    const jobId = String(job?.id);
    // A retryable mapping would show up as `retry` here: wait for either, then tell them apart.
    const failed = await waitFor(
      'publish failed',
      async () =>
        (await publishes(stack)).find((j) => j.id === jobId && ['failed', 'retry'].includes(j.state)),
      30_000,
    );
    t.equal(failed.state, 'failed', 'failed for good, not scheduled for a retry');
    t.equal(failed.retry_count, 0, 'no retry was burnt');
    t.match(failed.output, { code: 'FOLDER_NOT_WRITABLE', retryable: false });
    t.match(
      failed.output.error,
      `Metarr cannot write to ${folder} (EACCES)`,
      'names the folder and the errno',
    );
    t.match(failed.output.error, /check the folder's owner and permissions/, 'says what to do');

    const dead = await waitFor(
      'dead letter',
      async () =>
        (await stack.api('GET', '/api/jobs/dead-letter?type=publish')).json.find(
          (d: { jobId: string }) => d.jobId === jobId,
        ),
      10_000,
    );
    t.match(
      dead,
      { type: 'publish', retryCount: 0, output: { code: 'FOLDER_NOT_WRITABLE' } },
      'in the dead-letter queue',
    );
    const failedLine = await waitFor(
      'the worker logged the failure',
      async () => worker.logLines().find((l) => l.msg === 'Job failed' && l.jobId === jobId),
      5000,
    );
    t.match(failedLine, { code: 'FOLDER_NOT_WRITABLE', willRetry: false }, 'the worker logs it as final');

    t.same(await snapshotFiles(folder), before, 'old NFO and artwork byte-identical');
    t.same((await fs.readdir(folder)).filter(isTempFileName), [], 'no temp file left');

    // The user fixes the permission and retries the job from the jobs page.
    await fs.chmod(folder, 0o755);
    const retry = await stack.api('POST', `/api/jobs/${jobId}/retry`);
    t.equal(retry.status, 202, retry.text);
    await waitFor(
      'retried publish completed',
      async () => (await publishes(stack)).find((j) => j.id === jobId && j.state === 'completed'),
      30_000,
    );
    t.match(await fs.readFile(path.join(folder, 'M.nfo'), 'utf8'), `<tagline>${tagline}</tagline>`);
    const after = await snapshotFiles(folder);
    t.not(after['M.nfo'], before['M.nfo'], 'the NFO was rewritten');
    t.equal(after['M-poster.jpg'], before['M-poster.jpg'], 'the unchanged poster was left alone');
    t.same((await fs.readdir(folder)).filter(isTempFileName), [], 'no temp file left');
  },
);
