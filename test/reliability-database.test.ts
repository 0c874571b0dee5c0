/**
 * Database faults seen from the processes: a worker whose connection is blackholed, Postgres
 * restarted under load while worker backends are terminated every few seconds, and Postgres not up
 * yet when the processes start. No process is restarted by the test: each must recover on its own.
 */
import { type FakeKodi, startFakeKodi, startTcpProxy } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t, { type Test } from 'tap';
import {
  type Call,
  doubledFollowUps,
  inspectJobs,
  movieFolder,
  movieTree,
  pendingJobs,
  radarrDownload,
  seedLibrary,
  sleep,
  startRestartablePostgres,
  Traffic,
  terminateBackends,
} from './support/chaos.ts';
import { Ledger } from './support/ledger.ts';
import { API_KEY, request, waitFor } from './support/stack.ts';
import { Supervisor } from './support/supervisor.ts';

const MOVIES = 20;
const folderOf = (i: number) => `nfs://nas/movies/${movieFolder(i)}/`;

async function library(t: Test, base: string): Promise<{ kodi: FakeKodi; ledger: Ledger; call: Call }> {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  const call: Call = (method, route, body) => request(base, method, route, body, { 'x-api-key': API_KEY });
  await seedLibrary(call, {
    media: t.testdir(movieTree(MOVIES)),
    kodiPorts: [kodi.port],
    debounceSeconds: 0,
  });
  return { kodi, ledger: new Ledger({ kodi }), call };
}

/** Every acked delivery's folder was scanned; any surplus is a retried attempt of the same job. */
async function assertScans(t: Test, url: string, traffic: Traffic, ledger: Ledger) {
  const expected = traffic.expectedScans();
  const got = ledger.scanCounts();
  let missing = 0;
  let surplus = 0;
  for (const [folder, n] of expected) {
    const c = got.get(`kodi|${folder}`) ?? 0;
    if (c < n) missing += n - c;
    else surplus += c - n;
  }
  const all = await inspectJobs(url, (jobs) => jobs.rows());
  const retried = all.filter((j) => j.name !== 'dead-letter').reduce((n, j) => n + j.retry_count, 0);
  t.equal(missing, 0, 'every acked delivery ended in a player scan');
  t.ok(surplus <= retried, `no scan doubled beyond retried attempts (surplus ${surplus})`);
  t.equal(doubledFollowUps(all), 0, 'no follow-up job doubled');
}

const ENV = {
  METARR_API_KEY: API_KEY,
  METARR_PORT: '0',
  METARR_HOST: '127.0.0.1',
  METARR_WORKER_CONCURRENCY: '4',
  METARR_DB_POOL_MAX: '6',
  METARR_NOTIFY_RETRY_DELAY_SECONDS: '1',
  LOG_LEVEL: 'warn',
};

t.test(
  'a worker whose database connection is blackholed for 8 s resumes on its own and finishes every job',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const proxy = await startTcpProxy({ port: Number(new URL(database.url).port) });
    t.teardown(() => proxy.close());
    const sup = new Supervisor(t, { ...ENV, DATABASE_URL: database.url });
    const api = await sup.start('api', { name: 'api' });
    const worker = await sup.start('worker', {
      name: 'w1',
      env: { DATABASE_URL: proxy.rewrite(database.url) },
    });
    const { ledger } = await library(t, String(api.address));
    const traffic = new Traffic(String(api.address), API_KEY);
    let fileId = 1;
    const send = (n: number) => {
      for (let k = 0; k < n; k++) {
        const i = 1 + (fileId % MOVIES);
        void traffic.post('radarr', radarrDownload(i, ++fileId), folderOf(i));
      }
    };
    send(5);
    await traffic.settle();
    await waitFor('the first scans', async () => ledger.scans().length >= 5, 20_000);

    await proxy.cut('blackhole');
    send(10);
    await traffic.settle();
    await sleep(8000);
    t.equal(ledger.scans().length, 5, 'nothing reached the players while the worker was cut off');
    await proxy.restore();

    await waitFor('every job to finish', async () => (await pendingJobs(database.url)) === 0, 40_000);
    t.equal(traffic.acked().length, 15, 'the API (direct) acked everything');
    t.ok(
      sup.alive('w1') && sup.get('w1').pid === worker.pid,
      'the same worker process recovered, no restart',
    );
    await assertScans(t, database.url, traffic, ledger);
  },
);

t.test(
  'Postgres restarted (clean, then crash) under load and worker backends terminated every 2 s: no ack lost, no job doubled, no process restarted',
  async (t) => {
    const pg = await startRestartablePostgres();
    t.teardown(() => pg.destroy());
    const sup = new Supervisor(t, { ...ENV, DATABASE_URL: pg.url });
    const api = await sup.start('api', { name: 'api' });
    const workers = await Promise.all(['w1', 'w2'].map((name) => sup.start('worker', { name })));
    const { ledger } = await library(t, String(api.address));
    const traffic = new Traffic(String(api.address), API_KEY);

    const t0 = Date.now();
    let fileId = 100;
    const generator = (async () => {
      for (let k = 0; Date.now() - t0 < 16_000; k++) {
        await sleep(Math.max(0, t0 + k * 100 - Date.now()));
        const i = 1 + (fileId % MOVIES);
        void traffic.post('radarr', radarrDownload(i, ++fileId), folderOf(i));
      }
    })();
    await sleep(4000);
    const outages: { from: number; to: number }[] = [];
    let from = Date.now();
    await pg.restart(2000);
    outages.push({ from, to: Date.now() });
    let terminated = 0;
    let crashed = false;
    while (Date.now() - t0 < 16_000) {
      await sleep(2000);
      terminated += await terminateBackends(pg.url, 'metarr-worker').catch(() => 0);
      if (!crashed && Date.now() - t0 > 9_000) {
        crashed = true;
        from = Date.now();
        await pg.crashRestart(1000);
        outages.push({ from, to: Date.now() });
      }
    }
    await generator;
    await traffic.settle();
    t.ok(terminated > 0, `worker backends terminated (${terminated})`);

    await waitFor('every job to finish', async () => (await pendingJobs(pg.url)) === 0, 45_000);
    const acked = traffic.acked();
    const ids = acked.map((d) => d.json.jobId as string);
    const stored = await inspectJobs(pg.url, (jobs) =>
      jobs.count({ types: ['webhook'], states: ['completed'], ids }),
    );
    t.equal(stored, acked.length, `all ${acked.length} acked deliveries stored and processed`);
    const others = traffic.all.filter((d) => d.status !== 200);
    t.ok(
      others.every(
        (d) => d.status === 503 && outages.some((o) => d.at >= o.from - 1000 && d.at <= o.to + 6000),
      ),
      `only 503s, and only around the restarts (${others.length})`,
    );
    t.ok(
      sup.alive('api') && workers.every((w) => sup.alive(w.name) && sup.get(w.name).pid === w.pid),
      'API and workers survived on their own',
    );
    await assertScans(t, pg.url, traffic, ledger);
  },
);

t.test('Postgres not up yet when the API and a worker start: they wait for it and come up', async (t) => {
  const pg = await startRestartablePostgres({ start: false });
  t.teardown(() => pg.destroy());
  const sup = new Supervisor(t, { ...ENV, DATABASE_URL: pg.url, LOG_LEVEL: 'info' });
  const api = await sup.start('api', { name: 'api', waitReady: false });
  await sup.start('worker', { name: 'w1', waitReady: false });
  await sleep(3000);
  t.ok(sup.alive('api') && sup.alive('w1'), 'neither process gave up while the database was down');
  const started = Date.now();
  await pg.start();
  await Promise.all([sup.ready('api', 40_000), sup.ready('w1', 40_000)]);
  t.ok(Date.now() - started < 40_000, `both ready ${Date.now() - started} ms after Postgres came up`);
  t.match(sup.output(), /Database not reachable yet; retrying/, 'they said why they were waiting');
  const { ledger } = await library(t, String(api.address));
  const traffic = new Traffic(String(api.address), API_KEY);
  await traffic.post('radarr', radarrDownload(1, 1), folderOf(1));
  t.equal(traffic.acked().length, 1);
  await waitFor('the scan', async () => ledger.scans().length === 1, 20_000);
});
