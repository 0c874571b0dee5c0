/**
 * Publish under file-level faults: an NFO write killed with SIGKILL at random points, a full disk
 * and a read-only file system under the real worker (on a real, tiny tmpfs when this machine lets
 * the test mount one), and symlinks leading out of the library.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildMovieNfo,
  type InspectedJob,
  isTempFileName,
  jobTestControls,
  type MovieMetadata,
  metadataFromTmdb,
  parseMovieNfo,
  removeStaleTempFiles,
} from '@metarr/core';
import { snapshotFiles, theMatrix } from '@metarr/testkit';
import t from 'tap';
import { providerFakes } from './support/providers.ts';
import { ROOT, type Stack, startStack, waitFor } from './support/stack.ts';
import { mountTmpfs } from './support/tmpfs.ts';

type TestT = Pick<typeof t, 'teardown'>;

const WRITER = path.join(ROOT, 'packages', 'core', 'test', 'support', 'nfo-writer.ts');

/** A large-ish NFO (hundreds of cast members), so a kill often lands in the middle of a write. */
function bigNfo(tagline: string, castSize: number): Buffer {
  const m = metadataFromTmdb(theMatrix() as never, { country: 'US', imageBaseUrl: 'http://img/t/p' });
  const cast = Array.from({ length: castSize }, (_, i) => ({
    name: `Actor ${i} ${tagline}`,
    role: `Role ${i} `.repeat(8),
    order: i,
    thumb: `http://img/t/p/original/actor-${i}.jpg`,
  }));
  return Buffer.from(
    buildMovieNfo({ ...m, tagline, cast } as MovieMetadata, { artwork: { fanart: [] } }),
    'utf8',
  );
}

t.test(
  'NFO write interrupted by kill -9 at random points (100 runs): always the old or the new version, temp files cleaned up',
  async (t) => {
    const versions = [bigNfo('Version A', 1500), bigNfo('Version B', 1700)] as const;
    for (const v of versions) t.ok(parseMovieNfo(v.toString('utf8')).ok, `a valid NFO of ${v.length} bytes`);
    const dir = t.testdir({ 'a.nfo': versions[0], 'b.nfo': versions[1] });
    const started = Date.now();
    const stats = { A: 0, B: 0, tempLeft: 0 };
    const failures: string[] = [];

    // Two lanes at a time, each in its own folder: a run spawns the writer, kills it, checks.
    const lane = async (n: number, runs: number) => {
      const folder = path.join(dir, `lane-${n}`);
      await fs.mkdir(folder);
      const target = path.join(folder, 'movie.nfo');
      await fs.writeFile(target, versions[0]);
      for (let run = 0; run < runs; run++) {
        const child = spawn(
          process.execPath,
          [WRITER, target, path.join(dir, 'a.nfo'), path.join(dir, 'b.nfo')],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const exited = new Promise((r) => child.once('exit', r));
        await new Promise<void>((resolve, reject) => {
          child.stdout.once('data', () => resolve());
          child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
        });
        // Anywhere from before the first write to a few writes in.
        await new Promise((r) => setTimeout(r, Math.random() * 40));
        child.kill('SIGKILL');
        await exited;

        const now = await fs.readFile(target);
        const which = now.equals(versions[0]) ? 'A' : now.equals(versions[1]) ? 'B' : null;
        if (!which || !parseMovieNfo(now.toString('utf8')).ok)
          failures.push(`lane ${n} run ${run}: ${now.length} bytes`);
        else stats[which]++;
        // What the next publish does first: the killed writer's temp file goes.
        const removed = await removeStaleTempFiles(fs, folder);
        if (removed.length) stats.tempLeft++;
        const left = await fs.readdir(folder);
        if (left.length !== 1 || left.some(isTempFileName))
          failures.push(`lane ${n} run ${run}: left ${left}`);
      }
    };
    // Four lanes of 25: spawning the writer (Node + type stripping) is most of a run's time.
    await Promise.all([0, 1, 2, 3].map((n) => lane(n, 25)));

    t.same(failures, [], 'every kill left exactly the old or the new NFO, and no temp file after clean-up');
    t.equal(stats.A + stats.B, 100, '100 runs');
    t.comment(
      `${stats.A} ended on A, ${stats.B} on B; ${stats.tempLeft} kills left a temp file behind; ${Date.now() - started} ms`,
    );
    t.ok(stats.A > 0 && stats.B > 0, 'kills landed at different points (both versions seen)');
  },
);

/** Stack + fake TMDB and fanart.tv; one movie library at `root` holding `Movie/M.mkv`. */
async function pipelineStack(t: TestT, root: string) {
  const { env } = await providerFakes(t);
  const stack = await startStack(t, { env });
  const folder = path.join(root, 'Movie');
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, 'M.mkv'), 'v');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  const publishes = async () =>
    (await stack.jobs.rows({ types: ['publish'] })) as (InspectedJob & { output: any })[];
  const scan = async () => {
    const before = (await publishes()).filter((j) => j.state === 'completed').length;
    await stack.queue.enqueue('scan-movie', {
      libraryId: lib.json.id,
      path: folder,
      trigger: 'manual',
      tmdbId: 603,
    });
    await waitFor(
      'publish completed',
      async () => (await publishes()).filter((j) => j.state === 'completed').length > before,
      60_000,
    );
  };
  const movieId = async () => (await stack.api('GET', '/api/movies')).json[0].id as number;
  const setTagline = async (tagline: string) => {
    const id = await movieId();
    const meta = await stack.db
      .selectFrom('movie_metadata')
      .select('data')
      .where('movie_id', '=', id)
      .executeTakeFirstOrThrow();
    await stack.db
      .updateTable('movie_metadata')
      .set({ data: JSON.stringify({ ...(meta.data as object), tagline }) })
      .where('movie_id', '=', id)
      .execute();
  };
  return { stack, folder, scan, publishes, movieId, setTagline };
}

async function deadLetters(stack: Stack) {
  return (await stack.jobs.rows({ types: ['dead-letter'] })).map((j) => ({ data: j.data as any }));
}

t.test(
  'disk full (real ENOSPC on a tiny tmpfs) under the worker: old files intact, retried with a long backoff',
  async (t) => {
    const mnt = await mountTmpfs(t, 2048);
    if (!mnt) {
      t.plan(0, 'cannot mount a tmpfs here (needs root on Linux); the injected-fs unit test covers ENOSPC');
      return;
    }
    const s = await pipelineStack(t, mnt);
    await s.scan();
    const before = await snapshotFiles(s.folder);
    t.ok(before['M.nfo'] && before['M-poster.jpg'], 'published once');

    // Fill the disk, then ask for a publish that must rewrite the NFO.
    await s.setTagline('Changed while the disk was full');
    const filler = path.join(mnt, 'filler');
    const st = await fs.statfs(mnt);
    await fs.writeFile(filler, Buffer.alloc(Number(st.bavail * st.bsize))).catch(() => {});
    await fs.appendFile(filler, Buffer.alloc(64 * 1024)).catch(() => {});
    const job = await s.stack.queue.enqueue('publish', { movieId: await s.movieId() });
    const failed = await waitFor(
      'publish failed on the full disk',
      async () => (await s.publishes()).find((j) => j.id === job?.id && j.state === 'retry'),
      30_000,
    );
    t.match(failed.output, { code: 'DISK_FULL', retryable: true });
    t.match(failed.output.error, s.folder, 'the error names the folder');
    const delay = (new Date(failed.start_after).getTime() - Date.now()) / 1000;
    t.ok(delay > 600, `the retry waits ${Math.round(delay)} s (a long backoff, not the catalog's 5 s)`);
    t.same(await snapshotFiles(s.folder), before, 'old files intact, no temp file left');
    t.same(await deadLetters(s.stack), [], 'nothing dead-lettered');

    // Space again; let the retry run now instead of in 15 minutes.
    await fs.rm(filler);
    await jobTestControls(s.stack.db).runRetryNow(job?.id ?? '');
    await waitFor(
      'publish retried',
      async () => (await s.publishes()).find((j) => j.id === job?.id && j.state === 'completed'),
      30_000,
    );
    t.match(
      await fs.readFile(path.join(s.folder, 'M.nfo'), 'utf8'),
      '<tagline>Changed while the disk was full</tagline>',
    );
  },
);

t.test(
  'read-only file system (real EROFS) under the worker: old files intact, dead-lettered at once with what to do',
  async (t) => {
    const mnt = await mountTmpfs(t, 4096);
    if (!mnt) {
      t.plan(
        0,
        'cannot mount a tmpfs here (needs root on Linux); the injected-fs unit test covers EROFS/EACCES/EPERM',
      );
      return;
    }
    const s = await pipelineStack(t, mnt);
    await s.scan();
    const before = await snapshotFiles(s.folder);
    await s.setTagline('Changed on a read-only disk');
    t.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0, 'remounted read-only');
    t.teardown(() => {
      spawnSync('mount', ['-o', 'remount,rw', mnt]);
    });
    const job = await s.stack.queue.enqueue('publish', { movieId: await s.movieId() });
    const failed = await waitFor(
      'publish failed',
      async () => (await s.publishes()).find((j) => j.id === job?.id && j.state === 'failed'),
      30_000,
    );
    t.equal(failed.retry_count, 0, 'no retry was burnt');
    t.match(failed.output, { code: 'FOLDER_NOT_WRITABLE', retryable: false });
    t.match(failed.output.error, `Metarr cannot write to ${s.folder}`);
    t.match(failed.output.error, /read-only file system \(EROFS\); mount it read-write/);
    const dead = await waitFor('dead letter', async () => (await deadLetters(s.stack))[0], 10_000);
    t.ok(dead, 'in the dead-letter queue');
    t.same(await snapshotFiles(s.folder), before, 'old files intact');
  },
);

t.test(
  'symlinks out of the library (a file and extrafanart): the worker writes nothing outside',
  async (t) => {
    const root = t.testdir({});
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-outside-'));
    t.teardown(() => fs.rm(outside, { recursive: true, force: true }));
    await fs.mkdir(path.join(outside, 'dir'));
    await fs.writeFile(path.join(outside, 'poster.jpg'), 'outside poster');
    await fs.writeFile(path.join(outside, 'dir', 'keep.jpg'), 'outside fanart');
    const s = await pipelineStack(t, root);
    await fs.symlink(path.join(outside, 'poster.jpg'), path.join(s.folder, 'M-poster.jpg'));
    await fs.symlink(path.join(outside, 'dir'), path.join(s.folder, 'extrafanart'));
    const outsideBefore = await snapshotFiles(outside);
    await s.scan();
    t.same(await snapshotFiles(outside), outsideBefore, 'nothing outside the library was written or removed');
    t.ok(
      (await fs.lstat(path.join(s.folder, 'M-poster.jpg'))).isFile(),
      'the poster link itself was replaced',
    );
    t.ok((await fs.lstat(path.join(s.folder, 'extrafanart'))).isSymbolicLink(), 'extrafanart is left a link');
    const [job] = (await s.publishes()).filter((j) => j.state === 'completed');
    t.match(JSON.stringify(job?.output.skipped), /extrafanart is not a real folder/);
  },
);

t.test(
  'a movie folder replaced by a symlink after the scan: the next publish fails UNSAFE_PATH at once, nothing written outside',
  async (t) => {
    const root = t.testdir({});
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-outside-'));
    t.teardown(() => fs.rm(outside, { recursive: true, force: true }));
    await fs.writeFile(path.join(outside, 'keep.txt'), 'not Metarr’s');
    const s = await pipelineStack(t, root);
    await s.scan();
    // The provider refresh runs publish without a scan: the swap is never seen by one.
    await fs.rename(s.folder, path.join(root, 'Moved away'));
    await fs.symlink(outside, s.folder);
    await s.setTagline('Changed after the swap');
    const outsideBefore = await snapshotFiles(outside);
    const job = await s.stack.queue.enqueue('publish', { movieId: await s.movieId() });
    const failed = await waitFor(
      'publish failed',
      async () => (await s.publishes()).find((j) => j.id === job?.id && j.state === 'failed'),
      30_000,
    );
    t.equal(failed.retry_count, 0, 'permanent: no retry was burnt');
    t.match(failed.output, { code: 'UNSAFE_PATH', retryable: false });
    t.same(await snapshotFiles(outside), outsideBefore, 'nothing outside the library was written or removed');
  },
);
