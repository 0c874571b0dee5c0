import path from 'node:path';
import {
  createJobInspector,
  createJobQueue,
  createMediaServerClient,
  type InspectedJob,
  jobTestControls,
  loadConfig,
  silentLogger,
  startRuntime,
  toBossPriority,
} from '@metarr/core';
import { waitFor } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import type { BatchJobHandler } from '../src/context.ts';
import { handlers } from '../src/handlers/index.ts';
import { handleScanMovieBatch } from '../src/handlers/scanMovie.ts';
import { followUpId, startWorkerRuntime } from '../src/runtime.ts';
import { captureLog, handlerDeps } from './support/runtime.ts';

// The runtime's batch path for a library scan's bulk scan-movie jobs: one handler call for the
// fetched batch, each job fenced on its own attempt inside the one write transaction, and each job
// with its own lifecycle (log lines, outcome, output).
const database = await createTestDatabase();
t.teardown(() => database.drop());

const { log, lines } = captureLog();

t.test('a batch where one job lost its lease writes nothing for it and completes the others', async (t) => {
  const root = t.testdir({
    'Alpha (2001)': { 'a.mkv': 'v' },
    'Bravo (2002)': { 'b.mkv': 'v' },
    'Stolen (2003)': { 's.mkv': 'v' },
    'Delta (2004)': { 'd.mkv': 'v' },
  });
  const rt = await startRuntime({
    url: database.url,
    log: silentLogger,
    instanceName: 'worker',
    poolMax: 4,
    supervise: false,
  });
  t.teardown(() => rt.close());
  const db = rt.dbh.db;
  const queue = createJobQueue({ boss: rt.boss, db, log: silentLogger });
  const lib = await db
    .insertInto('libraries')
    .values({ name: 'Movies', type: 'movie', path: root })
    .returning(['id', 'path'])
    .executeTakeFirstOrThrow();
  const names = ['Alpha (2001)', 'Bravo (2002)', 'Stolen (2003)', 'Delta (2004)'];
  const jobs = await queue.enqueueMany(
    'scan-movie',
    names.map((n) => ({ libraryId: lib.id, path: path.join(root, n), trigger: 'library-scan' as const })),
    { priority: 8 },
  );
  const idOf = (n: string) => jobs[names.indexOf(n)]?.id as string;
  // A job whose payload no longer validates, in the same bulk lane: it dead-letters alone.
  const [invalidId] =
    (await rt.boss.insert(
      'scan-movie',
      [
        {
          data: { payload: { libraryId: lib.id, path: 'relative/path' }, parentId: null },
          priority: toBossPriority(8),
        },
      ],
      { returnId: true },
    )) ?? [];

  const batches: number[] = [];
  const stealing: BatchJobHandler<'scan-movie'> = async (batch, deps) => {
    batches.push(batch.jobs.length);
    // Another attempt takes this job over (what the supervisor and a second worker do to a paused
    // one) after the batch was fetched and before it writes.
    await jobTestControls(db).supersede(idOf('Stolen (2003)'));
    return handleScanMovieBatch(batch, deps);
  };
  await startWorkerRuntime({
    boss: rt.boss,
    db,
    log,
    handlers,
    batchHandlers: { 'scan-movie': stealing },
    concurrency: 2,
    queues: ['scan-movie'],
    deps: handlerDeps(db, log),
  });

  const state = async (id: string) =>
    (
      (await createJobInspector(db).rows({ types: ['scan-movie'], ids: [id] })) as (InspectedJob & {
        output: any;
      })[]
    )[0];
  const others = names.filter((n) => n !== 'Stolen (2003)');
  await waitFor('the other jobs to settle', async () => {
    for (const n of others) if ((await state(idOf(n)))?.state !== 'completed') return false;
    return (await state(invalidId as string))?.state === 'failed';
  });

  t.same(
    batches,
    [4],
    'the fetched batch went to the batch handler at once (the invalid job dead-lettered first)',
  );
  const rows = await db
    .selectFrom('movies')
    .select('path')
    .where('library_id', '=', lib.id)
    .orderBy('path')
    .execute();
  t.same(
    rows.map((r) => path.basename(r.path)),
    ['Alpha (2001)', 'Bravo (2002)', 'Delta (2004)'],
    'no row for the superseded job',
  );
  for (const n of others) {
    t.match(
      (await state(idOf(n)))?.output,
      { status: 'created', notified: 'library root' },
      `${n}: its own output`,
    );
  }
  t.match(
    await state(idOf('Stolen (2003)')),
    { state: 'active', retry_count: 1, output: null },
    'the newer attempt keeps it',
  );
  t.match((await state(invalidId as string))?.output, { code: 'INVALID_JOB_PAYLOAD', retryable: false });
  const notify = await createJobInspector(db).count({ types: ['notify-players'] });
  t.equal(notify, 1, 'one coalesced library-root notification');

  const linesOf = (id: string) => lines.filter((l) => l.jobId === id).map((l) => l.msg);
  for (const n of others)
    t.same(linesOf(idOf(n)), ['Job started', 'Job completed'], `${n}: its own lifecycle lines`);
  t.same(linesOf(idOf('Stolen (2003)')), [
    'Job started',
    'Job attempt superseded: its lease was lost, its result is discarded',
  ]);
  t.same(linesOf(invalidId as string), ['Job started', 'Job failed']);
});

t.test('a batch’s follow-ups carry the ids, lineage and priority ctx.enqueue gives them', async (t) => {
  const tree = () => ({ 'One (2011)': { '1.mkv': 'v' }, 'Two (2012)': { '2.mkv': 'v' }, 'Three (2013)': {} });
  const dir = t.testdir({ plain: tree(), tmdb: tree() });
  for (const tmdbKey of [false, true]) {
    const root = path.join(dir, tmdbKey ? 'tmdb' : 'plain');
    const rt = await startRuntime({
      url: database.url,
      log: silentLogger,
      instanceName: 'worker',
      poolMax: 4,
      supervise: false,
    });
    let closed = false;
    t.teardown(() => (closed ? undefined : rt.close()));
    const db = rt.dbh.db;
    await jobTestControls(db).purge(['scan-movie', 'notify-players', 'discover-assets']);
    const queue = createJobQueue({ boss: rt.boss, db, log: silentLogger });
    const lib = await db
      .insertInto('libraries')
      .values({ name: `Follow-ups ${tmdbKey}`, type: 'movie', path: root })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    const names = ['One (2011)', 'Two (2012)', 'Three (2013)'];
    const jobs = await queue.enqueueMany(
      'scan-movie',
      names.map((n) => ({ libraryId: lib.id, path: path.join(root, n), trigger: 'manual' as const })),
      { priority: 8 },
    );
    const batches: number[] = [];
    await startWorkerRuntime({
      boss: rt.boss,
      db,
      log: silentLogger,
      handlers,
      batchHandlers: {
        'scan-movie': async (batch, deps) => {
          batches.push(batch.jobs.length);
          return handleScanMovieBatch(batch, deps);
        },
      },
      concurrency: 2,
      queues: ['scan-movie'],
      deps: {
        db,
        log: silentLogger,
        clientFor: (p) => createMediaServerClient(p),
        clock: () => new Date(),
        config: loadConfig({ METARR_DATA_DIR: '.tmp/unused', ...(tmdbKey && { TMDB_API_KEY: 'test-key' }) }),
      },
    });
    const outputs = async () =>
      (await createJobInspector(db).rows({ types: ['scan-movie'] })) as (InspectedJob & { output: any })[];
    await waitFor('the scans', async () => (await outputs()).every((r) => r.state === 'completed'));
    t.same(batches, [3], `${tmdbKey ? 'with' : 'without'} a TMDB key: one batch`);
    const child = tmdbKey ? 'discover-assets' : 'notify-players';
    const children = (await createJobInspector(db).rows({ types: [child] })) as (InspectedJob & {
      data: any;
    })[];
    t.equal(children.length, 3, `one ${child} per folder`);
    const byId = new Map((await outputs()).map((r) => [r.id, r.output]));
    for (const [k, n] of names.entries()) {
      const job = jobs[k]?.id as string;
      const out = byId.get(job);
      const movie = await db
        .selectFrom('movies')
        .select('id')
        .where('path', '=', path.join(root, n))
        .executeTakeFirstOrThrow();
      const payload = tmdbKey
        ? { movieId: movie.id }
        : { libraryId: lib.id, path: path.join(root, n), change: 'created', movieId: movie.id };
      const id = followUpId(job, child, payload);
      t.equal(
        tmdbKey ? out.discoverJobId : out.notifyJobId,
        id,
        `${n}: the follow-up id ctx.enqueue derives`,
      );
      t.match(
        children.find((c) => c.id === id),
        { priority: toBossPriority(8), data: { payload, parentId: job } },
        `${n}: payload, parent and the parent's (bulk) priority`,
      );
    }
    // The next round's jobs must not be taken by this round's worker.
    await rt.close();
    closed = true;
  }
});
