/**
 * Worker faults, with the API and workers as real OS processes: kill -9 mid-job, a stale attempt
 * (SIGSTOP past the heartbeat, then SIGCONT), and graceful stops shorter and longer than a job.
 * A gate in front of a fake server (Kodi, or TMDB) holds a worker's request, so each fault hits a
 * worker exactly in the middle of a job's side effects.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InspectedJob } from '@metarr/core';
import { type FakeKodi, type FakeTmdb, startFakeKodi, startFakeTmdb } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t, { type Test } from 'tap';
import {
  type Call,
  type Gate,
  inspectJobs,
  movieFolder,
  movieTree,
  pendingJobs,
  query,
  radarrDownload,
  seedLibrary,
  sleep,
  startGate,
  writeMovieTree,
} from './support/chaos.ts';
import { Ledger } from './support/ledger.ts';
import { API_KEY, request, startStack, waitFor } from './support/stack.ts';
import { Supervisor } from './support/supervisor.ts';

const FOLDER = `nfs://nas/movies/${movieFolder(1)}/`;
const isScan = (r: { body: string }) => r.body.includes('VideoLibrary.Scan');

interface Setup {
  sup: Supervisor;
  call: Call;
  url: string;
  gate: Gate;
  kodi1: FakeKodi;
  kodi2: FakeKodi;
  ledger: Ledger;
  media: string;
  playerIds: number[];
  tmdb: FakeTmdb | null;
  tmdbGate: Gate | null;
}

/**
 * API + fresh database; Kodi 1 behind a gate, Kodi 2 direct (one notification job per player).
 * `tmdb`: the metadata pipeline runs against a fake TMDB behind its own gate, and only Kodi 2 is used.
 */
async function setup(t: Test, opts: { env?: Record<string, string>; tmdb?: boolean } = {}): Promise<Setup> {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const kodi1 = await startFakeKodi();
  const kodi2 = await startFakeKodi();
  const gate = await startGate({ port: kodi1.port });
  const tmdb = opts.tmdb ? await startFakeTmdb() : null;
  const tmdbGate = tmdb ? await startGate({ port: tmdb.port }) : null;
  const sup = new Supervisor(t, {
    DATABASE_URL: database.url,
    METARR_API_KEY: API_KEY,
    METARR_PORT: '0',
    METARR_HOST: '127.0.0.1',
    METARR_WORKER_CONCURRENCY: '2',
    METARR_DB_POOL_MAX: '4',
    METARR_NOTIFY_RETRY_DELAY_SECONDS: '1',
    ...(tmdb &&
      tmdbGate && {
        TMDB_API_KEY: 'tmdb-test-key',
        METARR_TMDB_BASE_URL: `http://127.0.0.1:${tmdbGate.port}/3`,
        METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      }),
    ...opts.env,
  });
  t.teardown(async () => {
    await sup.stopAll();
    await gate.close();
    await tmdbGate?.close();
    await tmdb?.close();
    await kodi1.close();
    await kodi2.close();
  });
  const api = await sup.start('api', { name: 'api' });
  const base = String(api.address);
  const call: Call = (method, route, body) => request(base, method, route, body, { 'x-api-key': API_KEY });
  const media = t.testdir(movieTree(1));
  // No coalescing window: every notification is its own job, so a doubled one would show.
  const seeded = await seedLibrary(call, {
    media,
    kodiPorts: tmdb ? [kodi2.port] : [gate.port, kodi2.port],
    debounceSeconds: 0,
  });
  return {
    sup,
    call,
    url: database.url,
    gate,
    kodi1,
    kodi2,
    ledger: new Ledger({ kodi1, kodi2 }),
    media,
    playerIds: seeded.playerIds,
    tmdb,
    tmdbGate,
  };
}

interface JobRow {
  id: string;
  name: string;
  state: string;
  retry_count: number;
  output: Record<string, unknown> | null;
  player: number | null;
}

/** The per-player notification jobs (the ones whose attempts the faults hit). */
function jobRow(j: InspectedJob): JobRow {
  const payload = (j.data?.payload ?? {}) as { playerIds?: number[] };
  return {
    id: j.id,
    name: j.name,
    state: j.state,
    retry_count: j.retry_count,
    output: j.output as Record<string, unknown> | null,
    player: payload.playerIds?.[0] ?? null,
  };
}

async function groupNotifyJobs(url: string): Promise<JobRow[]> {
  const rows = await inspectJobs(url, (jobs) => jobs.rows({ types: ['notify-group'] }));
  return rows.map(jobRow);
}

async function jobsNamed(url: string, name: string): Promise<JobRow[]> {
  const rows = await inspectJobs(url, (jobs) => jobs.rows({ types: [name] }));
  return rows.map((j) => ({ ...jobRow(j), player: null }));
}

/** Relative path → sha256 of every file Metarr wrote (the video files are the test's own). */
async function libraryHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.endsWith('.mkv')) continue;
    const file = path.join(e.parentPath, e.name);
    out[path.relative(dir, file)] = createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
  }
  return out;
}

async function movieRows(url: string): Promise<Record<string, unknown>[]> {
  const rows = await query<Record<string, unknown>>(url, 'select * from movies order by path');
  // Ids and timestamps differ between runs by nature; everything else must be equal.
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'id' && !/_at$|_on$/.test(k))),
  );
}

t.test(
  'kill -9 of a worker mid-notification: the job is retried by another worker after its heartbeat, every player is told exactly once, the movie row equals a clean run',
  async (t) => {
    const s = await setup(t);
    await s.sup.start('worker', { name: 'w1' });
    const held = s.gate.holdNext(isScan);
    const ack = await s.call('POST', '/api/webhooks/radarr', radarrDownload(1, 501));
    t.equal(ack.status, 200, ack.text);
    await held;
    // Player 2's job (maybe in the same batch) is done and must be settled: a batch neighbour
    // that waited for the held job would be retried too, and tell player 2 again.
    await waitFor(
      'player 2’s notification to be settled',
      async () =>
        (await groupNotifyJobs(s.url)).find((j) => j.player === s.playerIds[1] && j.state === 'completed'),
      10_000,
    );
    const killedAt = Date.now();
    await s.sup.kill9('w1');
    await s.sup.start('worker', { name: 'w2' });
    s.gate.release();

    const done = await waitFor(
      'the notification to complete on the second worker',
      async () => {
        const jobs = await groupNotifyJobs(s.url);
        return (
          jobs.length === 2 &&
          jobs.every((j) => j.state === 'completed') &&
          jobs.find((j) => j.retry_count > 0)
        );
      },
      45_000,
    );
    const recoveredMs = Date.now() - killedAt;
    // Drained: a doubled notification would be a job still to run (the killed worker's own request died with it).
    await waitFor('every job to finish', async () => (await pendingJobs(s.url)) === 0, 20_000);
    t.ok(done.retry_count >= 1, `the killed attempt counted (retry_count ${done.retry_count})`);
    t.equal(
      s.gate.requests.find((r) => r.fate !== 'forwarded')?.fate,
      'dropped',
      'the killed worker’s request never reached Kodi',
    );
    t.same(s.ledger.scanTimes('kodi1', FOLDER).length, 1, 'player 1 scanned the folder exactly once');
    t.same(s.ledger.scanTimes('kodi2', FOLDER).length, 1, 'player 2 scanned the folder exactly once');
    t.equal((await groupNotifyJobs(s.url)).length, 2, 'one notification job per player, none doubled');
    t.ok(recoveredMs < 40_000, `recovered in ${recoveredMs} ms`);

    // A clean single run of the same delivery on a fresh database, in-process.
    const clean = await startStack(t, { env: {} });
    const ck1 = await startFakeKodi();
    t.teardown(() => ck1.close());
    await seedLibrary(clean.api, { media: s.media, kodiPorts: [ck1.port], debounceSeconds: 0 });
    const cleanAck = await clean.api('POST', '/api/webhooks/radarr', radarrDownload(1, 501));
    t.equal(cleanAck.status, 200);
    await waitFor(
      'clean run scan',
      async () => ck1.calls.some((c) => c.method === 'VideoLibrary.Scan'),
      20_000,
    );
    t.same(await movieRows(s.url), await movieRows(clean.database.url), 'the movie row equals the clean run');
  },
);

t.test(
  'a stale attempt (worker paused past its heartbeat, then resumed) can neither complete nor continue the newer attempt’s work',
  async (t) => {
    const s = await setup(t, { tmdb: true });
    const gate = s.tmdbGate as Gate;
    await s.sup.start('worker', { name: 'w1' });
    // w1 is inside fetch-provider-assets, waiting for TMDB, when it is frozen.
    const held = gate.holdNext((r) => r.url.startsWith('/3/movie/'));
    const ack = await s.call('POST', '/api/webhooks/radarr', radarrDownload(1, 601));
    t.equal(ack.status, 200, ack.text);
    await held;
    s.sup.pause('w1');
    await s.sup.start('worker', { name: 'w2' });

    const fetchJob = await waitFor(
      'the newer attempt of fetch-provider-assets to complete',
      async () => (await jobsNamed(s.url, 'fetch-provider-assets')).find((j) => j.state === 'completed'),
      45_000,
    );
    t.ok(fetchJob.retry_count >= 1, 'the newer attempt is a retry');
    await waitFor('the pipeline to reach Kodi', async () => s.ledger.scans('kodi2').length > 0, 30_000);
    // The answer to the frozen worker's request arrives while it sleeps; then it wakes up and goes on.
    gate.release();
    await sleep(300);
    s.sup.resume('w1');
    await waitFor(
      'the stale attempt to give up',
      async () => /superseded/.test(s.sup.get('w1').output()),
      20_000,
    );
    await sleep(2000);
    t.match(
      s.sup.get('w1').output(),
      new RegExp(`"jobId":"${fetchJob.id}"[^\\n]*superseded`),
      'the stale attempt logged that it was superseded',
    );

    const after = (await jobsNamed(s.url, 'fetch-provider-assets')).find((j) => j.id === fetchJob.id);
    t.same(
      { state: after?.state, retry_count: after?.retry_count, output: after?.output },
      { state: 'completed', retry_count: fetchJob.retry_count, output: fetchJob.output },
      'the completed job and its output are the newer attempt’s',
    );
    t.equal((await jobsNamed(s.url, 'fetch-provider-assets')).length, 1, 'one fetch job');
    t.equal(
      (await jobsNamed(s.url, 'enrich-metadata')).length,
      1,
      'the stale attempt enqueued no second enrich-metadata',
    );
    t.equal((await jobsNamed(s.url, 'publish')).length, 1, 'one publish');
    t.equal(s.ledger.scans('kodi2').length, 1, 'Kodi was told exactly once');
    const staleCompleted = s.sup
      .get('w1')
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; jobId?: string })
      .some((l) => l.jobId === fetchJob.id && l.msg === 'Job completed');
    t.notOk(staleCompleted, 'the stale worker never logged the job as completed');

    // The library the faulted run left equals a clean single run of the same delivery.
    const cleanDir = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-clean-'));
    t.teardown(() => fs.rm(cleanDir, { recursive: true, force: true }));
    await writeMovieTree(cleanDir, 1);
    const tmdb = s.tmdb as FakeTmdb;
    const clean = await startStack(t, {
      env: {
        TMDB_API_KEY: 'tmdb-test-key',
        METARR_TMDB_BASE_URL: tmdb.apiUrl,
        METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      },
    });
    const ck = await startFakeKodi();
    t.teardown(() => ck.close());
    await seedLibrary(clean.api, { media: cleanDir, kodiPorts: [ck.port], debounceSeconds: 0 });
    t.equal((await clean.api('POST', '/api/webhooks/radarr', radarrDownload(1, 601))).status, 200);
    await waitFor(
      'the clean run',
      async () => ck.calls.some((c) => c.method === 'VideoLibrary.Scan'),
      30_000,
    );
    const faulted = await libraryHashes(s.media);
    t.ok(
      Object.keys(faulted).some((f) => f.endsWith('.nfo')),
      `NFO and artwork written: ${Object.keys(faulted).join(', ')}`,
    );
    t.same(faulted, await libraryHashes(cleanDir), 'NFO and artwork hashes equal the clean run');
  },
);

t.test(
  'graceful stop with a job longer than the grace: the job is failed as an attempt and retried elsewhere',
  async (t) => {
    const s = await setup(t, { env: { METARR_SHUTDOWN_GRACE_SECONDS: '1' } });
    await s.sup.start('worker', { name: 'w1' });
    const held = s.gate.holdNext(isScan);
    t.equal((await s.call('POST', '/api/webhooks/radarr', radarrDownload(1, 701))).status, 200);
    await held;
    const stopped = await s.sup.term('w1');
    t.equal(stopped.code, 0, 'the worker stopped cleanly after its grace');
    await s.sup.start('worker', { name: 'w2' });
    s.gate.release();
    const done = await waitFor(
      'the retried notification',
      async () =>
        (await groupNotifyJobs(s.url)).find((j) => j.player === s.playerIds[0] && j.state === 'completed'),
      30_000,
    );
    t.equal(done.retry_count, 1, 'the interrupted run counted as one attempt');
    const job = await s.call('GET', `/api/jobs/${done.id}`);
    t.equal(job.json.attempts, 2, 'the jobs API shows two attempts');
    await waitFor('every job to finish', async () => (await pendingJobs(s.url)) === 0, 20_000);
    t.equal(s.ledger.scanTimes('kodi1', FOLDER).length, 1, 'player 1 told once');
    t.equal(s.ledger.scanTimes('kodi2', FOLDER).length, 1, 'player 2 told once');
  },
);

t.test(
  'graceful stop with a job shorter than the grace: the in-flight job finishes on the stopping worker',
  async (t) => {
    const s = await setup(t, { env: { METARR_SHUTDOWN_GRACE_SECONDS: '20' } });
    await s.sup.start('worker', { name: 'w1' });
    const held = s.gate.holdNext(isScan);
    t.equal((await s.call('POST', '/api/webhooks/radarr', radarrDownload(1, 801))).status, 200);
    await held;
    const stopping = s.sup.term('w1');
    await sleep(1000);
    s.gate.release();
    const stopped = await stopping;
    t.equal(stopped.code, 0, 'the worker exited cleanly once its job was done');
    const job = (await groupNotifyJobs(s.url)).find((j) => j.player === s.playerIds[0]);
    t.equal(job?.state, 'completed', 'the job completed on the stopping worker');
    t.equal(job?.retry_count, 0, 'in its first attempt');
    t.equal(s.ledger.scanTimes('kodi1', FOLDER).length, 1, 'player 1 told once');
    t.equal(s.ledger.scanTimes('kodi2', FOLDER).length, 1, 'player 2 told once');
  },
);
