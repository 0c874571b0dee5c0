import {
  createDb,
  createMediaServerClient,
  ensureQueues,
  loadConfig,
  migrateToLatest,
  silentLogger,
  syncSchedules,
} from '@metarr/core';
import { handlers, startWorkerRuntime } from '@metarr/worker';
import { PgBoss } from 'pg-boss';
import t from 'tap';
import { startStack, waitFor } from './support/stack.ts';

t.test('schedules are configurable through the API, validated, and follow the libraries', async (t) => {
  const stack = await startStack(t, { worker: false });
  const media = t.testdir({ a: {}, b: {}, tv: {} });
  const a = await stack.api('POST', '/api/libraries', { name: 'A', type: 'movie', path: `${media}/a` });
  const b = await stack.api('POST', '/api/libraries', { name: 'B', type: 'movie', path: `${media}/b` });
  await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: `${media}/tv` });

  const defaults = await stack.api('GET', '/api/schedules');
  t.equal(defaults.status, 200);
  t.match(defaults.json, {
    timezone: 'UTC',
    fileScan: { cron: '0 */6 * * *', enabled: true },
    providerUpdate: { cron: '0 3 * * 0', enabled: true, staleAfterDays: 30 },
  });
  t.equal(defaults.json.libraries.length, 2, 'movie libraries only');
  const keys = async () =>
    (await stack.boss.getSchedules()).map((s) => `${s.name}/${s.key} ${s.cron} ${s.timezone}`).sort();
  t.same(await keys(), [
    `scheduled-file-scan/library-${a.json.id} 0 */6 * * * UTC`,
    `scheduled-file-scan/library-${b.json.id} 0 */6 * * * UTC`,
    'scheduled-provider-update/all 0 3 * * 0 UTC',
  ]);

  const cases: [unknown, RegExp][] = [
    [{ timezone: 'Mars/Olympus' }, /body\/timezone/],
    [{ fileScan: { cron: 'every six hours' } }, /body\/fileScan\/cron/],
    [{ providerUpdate: { cron: '99 99 * * *' } }, /body\/providerUpdate\/cron/],
    [{ providerUpdate: { staleAfterDays: 0 } }, /body\/providerUpdate\/staleAfterDays/],
    [{ libraries: [{ libraryId: 9999, enabled: false }] }, /body\/libraries\/0\/libraryId/],
    [{ fileScan: { enabled: 'no' } }, /body\/fileScan\/enabled/],
    [{}, /body/],
  ];
  for (const [body, message] of cases) {
    const r = await stack.api('PUT', '/api/schedules', body);
    t.equal(r.status, 400, `${JSON.stringify(body)} → 400`);
    t.match(r.json?.message, message, `${JSON.stringify(body)} names the field`);
  }

  const put = await stack.api('PUT', '/api/schedules', {
    timezone: 'Europe/Berlin',
    fileScan: { cron: '30 2 * * *' },
    providerUpdate: { staleAfterDays: 7 },
    libraries: [
      { libraryId: b.json.id, enabled: false },
      { libraryId: a.json.id, cron: '0 4 * * 1' },
    ],
  });
  t.equal(put.status, 200, put.text);
  t.equal(put.json.providerUpdate.staleAfterDays, 7);
  const libA = put.json.libraries.find((l: { libraryId: number }) => l.libraryId === a.json.id);
  t.match(libA, { cron: '0 4 * * 1', custom: true, enabled: true });
  // 04:00 in Berlin is 02:00 or 03:00 UTC, never 04:00 UTC: the zone is applied.
  t.not(new Date(libA.nextRun).getUTCHours(), 4, `next run ${libA.nextRun} is in Berlin time`);
  t.same(await keys(), [
    `scheduled-file-scan/library-${a.json.id} 0 4 * * 1 Europe/Berlin`,
    'scheduled-provider-update/all 0 3 * * 0 Europe/Berlin',
  ]);

  const c = await stack.api('POST', '/api/libraries', {
    name: 'C',
    type: 'movie',
    path: `${media}/tv/../c-not-there`,
  });
  t.equal(c.status, 400);
  await stack.api('DELETE', `/api/libraries/${a.json.id}`);
  t.same(
    await keys(),
    ['scheduled-provider-update/all 0 3 * * 0 Europe/Berlin'],
    'a deleted library loses its schedule',
  );
  await stack.api('PUT', '/api/schedules', { libraries: [{ libraryId: b.json.id, enabled: null }] });
  t.same(await keys(), [
    `scheduled-file-scan/library-${b.json.id} 30 2 * * * Europe/Berlin`,
    'scheduled-provider-update/all 0 3 * * 0 Europe/Berlin',
  ]);
});

t.test('a cron tick runs exactly once with two workers', async (t) => {
  const stack = await startStack(t, { worker: false });
  const media = t.testdir({ movies: { 'M (2000)': { 'm.mkv': 'v' } } });
  const lib = await stack.api('POST', '/api/libraries', {
    name: 'Movies',
    type: 'movie',
    path: `${media}/movies`,
  });
  t.equal(lib.status, 201);
  const config = loadConfig({ METARR_DATA_DIR: '.tmp/unused' });

  // Two worker processes' worth of pg-boss, both running the cron monitor every second.
  for (const instance of ['worker-1', 'worker-2']) {
    const dbh = createDb(stack.database.url, { max: 4 });
    await migrateToLatest(dbh.db, silentLogger);
    const boss = new PgBoss({
      connectionString: stack.database.url,
      max: 4,
      instanceName: instance,
      useListenNotify: true,
      schedule: true,
      supervise: true,
      cronWorkerIntervalSeconds: 1,
      cronMonitorIntervalSeconds: 1,
    });
    boss.on('error', () => {});
    await boss.start();
    await ensureQueues(boss);
    await startWorkerRuntime({
      boss,
      db: dbh.db,
      log: silentLogger,
      handlers,
      concurrency: 2,
      deps: {
        db: dbh.db,
        log: silentLogger,
        clientFor: (p) => createMediaServerClient(p),
        clock: () => new Date(),
        config,
      },
    });
    await syncSchedules({ db: dbh.db, boss, log: silentLogger });
    t.teardown(async () => {
      await boss.stop({ graceful: false, timeout: 2000 }).catch(() => {});
      await dbh.close();
    });
  }

  // A schedule for one named minute of the day fires once, as soon as a cron pass sees that minute in
  // pg-boss's due window (the last 60 s), and not again for a day: so the test needs no particular
  // moment of the real minute. The minute is this one, or the next when this one is nearly over (a
  // pass a little after the minute turns would find this minute's occurrence out of the window).
  const at = new Date(Date.now() + (new Date().getUTCSeconds() >= 50 ? 60_000 : 0));
  const put = await stack.api('PUT', '/api/schedules', {
    fileScan: { cron: `${at.getUTCMinutes()} ${at.getUTCHours()} * * *` },
    providerUpdate: { enabled: false },
  });
  t.equal(put.status, 200, put.text);
  const count = async (name: string) => {
    return stack.jobs.count({ types: [name] });
  };
  await waitFor('the first tick', async () => (await count('scheduled-file-scan')) > 0, 80_000);
  // Drain what the tick started (both instances keep running cron passes, every second, meanwhile),
  // then count: a second send of the same occurrence would be a second scheduled-file-scan.
  await waitFor('the library scan it started', async () => {
    const rows = await stack.jobs.rows({ types: ['library-scan'] });
    return rows.length >= 1 && rows.every((r) => r.state === 'completed');
  });
  const movie = await waitFor('the movie', () =>
    stack.db.selectFrom('movies').selectAll().where('library_id', '=', lib.json.id).executeTakeFirst(),
  );
  t.equal(movie.status, 'present');
  t.equal(await count('scheduled-file-scan'), 1, 'one scheduled-file-scan for the tick');
  t.equal(await count('library-scan'), 1, 'which started one library scan');
  const off = await stack.api('PUT', '/api/schedules', { fileScan: { enabled: false } });
  t.equal(off.status, 200, off.text);
});

t.test('a scheduled file scan skips a library whose previous scan is still waiting', async (t) => {
  const stack = await startStack(t, { worker: false });
  const media = t.testdir({ a: {}, b: {} });
  const a = await stack.api('POST', '/api/libraries', { name: 'A', type: 'movie', path: `${media}/a` });
  const b = await stack.api('POST', '/api/libraries', { name: 'B', type: 'movie', path: `${media}/b` });
  await stack.queue.enqueue('library-scan', { libraryId: a.json.id });
  const tick = await stack.queue.enqueue('scheduled-file-scan', {});
  await startWorkerRuntime({
    boss: stack.boss,
    db: stack.db,
    log: silentLogger,
    handlers,
    queues: ['scheduled-file-scan'],
    concurrency: 1,
    deps: {
      db: stack.db,
      log: silentLogger,
      clientFor: (p) => createMediaServerClient(p),
      clock: () => new Date(),
      config: loadConfig({ METARR_DATA_DIR: '.tmp/unused' }),
    },
  });
  const done = await waitFor('the tick', async () => {
    const r = await stack.api('GET', `/api/jobs/${tick?.id}`);
    return r.json?.state === 'completed' ? r.json : null;
  });
  t.match(done.output, { libraryScans: 1, stillRunning: [a.json.id] });
  const rows = await stack.jobs.rows({ types: ['library-scan'] });
  t.same(
    rows.map((r) => (r.data?.payload as { libraryId: number } | undefined)?.libraryId),
    [a.json.id, b.json.id],
    'only library B got a new scan',
  );
});

t.test('scheduled-provider-update refreshes provider data of stale movies only', async (t) => {
  // TMDB points at a closed local port: the refresh jobs may run, but never reach the internet.
  const stack = await startStack(t, {
    env: { TMDB_API_KEY: 'test-tmdb-key-123', METARR_TMDB_BASE_URL: 'http://127.0.0.1:9/3' },
  });
  const media = t.testdir({ m: {} });
  const lib = await stack.api('POST', '/api/libraries', { name: 'M', type: 'movie', path: `${media}/m` });
  const old = new Date(Date.now() - 40 * 86_400_000);
  const rows = await stack.db
    .insertInto('movies')
    .values([
      { library_id: lib.json.id, path: `${media}/m/Old`, title: 'Old', last_scanned_at: old, tmdb_id: 1 },
      {
        library_id: lib.json.id,
        path: `${media}/m/Fresh`,
        title: 'Fresh',
        last_scanned_at: new Date(),
        tmdb_id: 2,
      },
      {
        library_id: lib.json.id,
        path: `${media}/m/Gone`,
        title: 'Gone',
        last_scanned_at: old,
        status: 'missing',
      },
    ])
    .returning(['id', 'title'])
    .execute();
  const job = await stack.queue.enqueue('scheduled-provider-update', {});
  const done = await waitFor('the provider update', async () => {
    const r = await stack.api('GET', `/api/jobs/${job?.id}`);
    return r.json?.state === 'completed' ? r.json : null;
  });
  t.match(done.output, { stale: 1, refreshJobs: 1 });
  const kids = (await stack.jobs.rows({ types: ['fetch-provider-assets'], parentIds: [job?.id ?? ''] })).map(
    (k) => ({
      movie: (k.data?.payload as { movieId: number } | undefined)?.movieId,
      parent: k.data?.parentId,
      priority: k.priority,
    }),
  );
  t.same(
    kids.map((k) => k.movie),
    [rows.find((r) => r.title === 'Old')?.id],
    'only the stale, present movie',
  );
  t.equal(kids[0]?.parent, job?.id);
  t.equal(kids[0]?.priority, 2, 'bulk priority 9');
});
