import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { seedKodiLibrary } from '../bench/support.ts';
import { API_KEY, ROOT, request, spawnProcess, waitFor } from './support/stack.ts';

// The production topology as plain processes: 1 API + 3 workers on one Postgres.
t.test('1 API + 3 workers: a stream of webhooks all completes, spread over every worker', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = {
    DATABASE_URL: database.url,
    METARR_API_KEY: API_KEY,
    METARR_PORT: '0',
    METARR_HOST: '127.0.0.1',
    METARR_DB_POOL_MAX: '4',
  };
  const api = await spawnProcess(t, 'api', env);
  const workers = await Promise.all(
    [1, 2, 3].map(() => spawnProcess(t, 'worker', { ...env, METARR_WORKER_CONCURRENCY: '2' })),
  );
  const base = String(api.address);
  const call = (method: string, route: string, body?: unknown) =>
    request(base, method, route, body, { 'x-api-key': API_KEY });

  const N = 60;
  const media = t.testdir(
    Object.fromEntries(
      Array.from({ length: N }, (_, i) => [`Movie ${i} (2001)`, { [`Movie ${i}.mkv`]: 'v' }]),
    ),
  );
  const kodi = await startFakeKodi({});
  t.teardown(() => kodi.close());
  await seedKodiLibrary(call, { path: media, kodiPort: kodi.port });

  const ready = await waitFor('readiness', async () => {
    const r = await request(base, 'GET', '/api/health/ready');
    return r.status === 200 ? r : null;
  });
  t.same(
    ready.json,
    { status: 'ok', db: 'ok', queue: 'ok', feed: 'ok' },
    'readiness covers db, queue and the LISTEN feed',
  );

  const live = await waitFor('three live workers', async () => {
    const r = await call('GET', '/api/workers');
    return r.json?.length === 3 ? r.json : null;
  });
  for (const w of live) t.match(w, { host: String, pid: Number, concurrency: Number, jobsInFlight: Number });
  t.same(
    new Set(live.map((w: { pid: number }) => w.pid)),
    new Set(workers.map((w) => w.child.pid)),
    '/api/workers lists exactly our processes',
  );

  const fixture = JSON.parse(
    await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
  );
  const acks = await Promise.all(
    Array.from({ length: N }, (_, i) => {
      const body = structuredClone(fixture);
      Object.assign(body.movie, { id: 100 + i, tmdbId: 700 + i, folderPath: `/movies/Movie ${i} (2001)` });
      body.movieFile.id = 300 + i;
      body.downloadId = `D${i}`;
      return call('POST', '/api/webhooks/radarr', body);
    }),
  );
  t.same(
    acks.map((a) => a.status),
    acks.map(() => 200),
    'every delivery acknowledged',
  );

  await waitFor(
    `${N} Kodi scans`,
    async () =>
      new Set(kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').map((c) => JSON.stringify(c.params)))
        .size === N,
    60_000,
  );
  const movies = await call('GET', '/api/movies?limit=1000');
  t.equal(movies.json.length, N, 'every movie recorded once');

  const completed = workers.map((w) =>
    w
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"msg":"Job completed"'))
      .map((l) => JSON.parse(l) as { type: string; jobId: string }),
  );
  const all = completed.flat();
  for (const type of ['webhook', 'scan-movie']) {
    const ids = all.filter((c) => c.type === type).map((c) => c.jobId);
    t.equal(ids.length, N, `${N} ${type} jobs completed`);
    t.equal(new Set(ids).size, ids.length, `no ${type} job completed twice`);
  }
  const completedBy = completed.map((c) => c.length);
  for (const [i, n] of completedBy.entries()) t.ok(n > 0, `worker ${i + 1} completed jobs (${n})`);
});

t.test('a worker stops gracefully on SIGTERM', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = { DATABASE_URL: database.url, METARR_API_KEY: API_KEY, METARR_SHUTDOWN_GRACE_SECONDS: '5' };
  const worker = await spawnProcess(t, 'worker', env);
  const exit = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
  worker.child.kill('SIGTERM');
  t.equal(await exit, 0, 'exits 0');
  t.match(worker.output(), /Stopping worker: finishing in-flight jobs/);
});
