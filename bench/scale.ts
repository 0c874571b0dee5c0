/**
 * bench/scale — two runs in one:
 * - CPU-bound: end-to-end pipeline throughput (webhook → scan-movie → notify-players against a fake
 *   Kodi, no provider calls) with 1, 2 and 3 worker processes, and raw pg-boss send/work throughput
 *   on the same PostgreSQL as the ceiling;
 * - latency-bound: the full metadata pipeline (TMDB, fanart.tv, artwork, NFO, Kodi) against fakes
 *   that answer after 300 ms (TMDB and its images, fanart.tv) and 200 ms (Kodi), each worker at a
 *   fixed concurrency, 1/2/4 worker processes; then 4 workers under a low shared TMDB rate limit,
 *   counting the requests that reach the fake TMDB per second.
 *
 *   pnpm bench:scale                       # embedded PostgreSQL
 *   BENCH_DATABASE_URL=postgres://… BENCH_N=300 pnpm bench:scale
 *   BENCH_SKIP_CPU=1 pnpm bench:scale      # the latency-bound run only
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeFanart, startFakeKodi, startFakeTmdb } from '@metarr/testkit';
import { PgBoss } from 'pg-boss';
import { inspectJobs } from '../test/support/chaos.ts';
import { benchPostgres, type MetarrProcesses, ROOT, seedKodiLibrary, startMetarr } from './support.ts';

const N = Number(process.env.BENCH_N ?? 300);
/** Movies per latency-bound run, and each worker's fixed concurrency there. */
const LAT_N = Number(process.env.BENCH_LAT_N ?? 60);
const LAT_CONCURRENCY = Number(process.env.BENCH_LAT_CONCURRENCY ?? 2);
const LAT_RATE_LIMIT = Number(process.env.BENCH_LAT_RATE_LIMIT ?? 8);

/** `n` Radarr Downloads of `Movie <i> (2000)`, each unique, posted by `senders` concurrent senders. */
async function postDownloads(
  call: MetarrProcesses['call'],
  fixture: any,
  n: number,
  senders: number,
  tag: string,
) {
  await Promise.all(
    Array.from({ length: senders }, async (_, k) => {
      for (let i = k; i < n; i += senders) {
        const body = structuredClone(fixture);
        Object.assign(body.movie, {
          id: 10_000 + i,
          tmdbId: 20_000 + i,
          folderPath: `/movies/Movie ${i} (2000)`,
        });
        body.movieFile.id = 30_000 + i;
        body.downloadId = `${tag}${i}`;
        const r = await call('POST', '/api/webhooks/radarr', body);
        if (r.status !== 200) throw new Error(`webhook ${r.status}`);
      }
    }),
  );
}

/** One latency-bound run: `workers` processes, each at LAT_CONCURRENCY, the full metadata pipeline. */
async function latencyRun(
  newDb: () => Promise<string>,
  movies: string,
  fixture: any,
  workers: number,
  rateLimit: number,
): Promise<{ moviesPerSec: number; seconds: number; tmdbCalls: number; tmdbMaxPerSecond: number }> {
  const tmdb = await startFakeTmdb();
  const fanart = await startFakeFanart();
  const kodi = await startFakeKodi({});
  tmdb.setLatency(300);
  fanart.setLatency(300);
  kodi.setLatency(200);
  const url = await newDb();
  const metarr = await startMetarr(url, {
    workers,
    env: {
      METARR_DB_POOL_MAX: '8',
      METARR_WORKER_CONCURRENCY: String(LAT_CONCURRENCY),
      TMDB_API_KEY: 'tmdb-test-key',
      FANART_API_KEY: 'fanart-test-key',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_FANART_BASE_URL: fanart.apiUrl,
      METARR_TMDB_RATE_LIMIT: String(rateLimit),
    },
  });
  try {
    await seedKodiLibrary(metarr.call, { path: movies, kodiPort: kodi.port });
    const s0 = Date.now();
    await postDownloads(metarr.call, fixture, LAT_N, 10, 'L');
    // Done when every movie is published and nothing (the players' notifications included) is left.
    for (;;) {
      const [published, pending, failed] = await inspectJobs(url, (j) =>
        Promise.all([
          j.count({ types: ['publish'], states: ['completed'] }),
          j.count({ states: ['created', 'retry', 'active'] }),
          j.count({ types: ['dead-letter'] }),
        ]),
      );
      if (failed) throw new Error(`${failed} job(s) dead-lettered in the latency-bound run`);
      if (published >= LAT_N && pending === 0) break;
      if (Date.now() - s0 > 600_000) throw new Error(`only ${published}/${LAT_N} published after 600 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - s0) / 1000;
    const perSecond = new Map<number, number>();
    for (const c of tmdb.calls)
      perSecond.set(Math.floor(c.at / 1000), (perSecond.get(Math.floor(c.at / 1000)) ?? 0) + 1);
    return {
      moviesPerSec: LAT_N / seconds,
      seconds,
      tmdbCalls: tmdb.calls.length,
      tmdbMaxPerSecond: Math.max(0, ...perSecond.values()),
    };
  } finally {
    await metarr.stop();
    await Promise.all([tmdb.close(), fanart.close(), kodi.close()]);
  }
}

async function main() {
  const server = await benchPostgres();
  const newDb = () => server.newDatabase('metarr_scale');
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-scale-'));
  const movies = path.join(tmp, 'movies');
  for (let i = 0; i < N; i++) {
    await fs.mkdir(path.join(movies, `Movie ${i} (2000)`), { recursive: true });
    await fs.writeFile(path.join(movies, `Movie ${i} (2000)`, 'm.mkv'), 'v');
  }
  const fixture = JSON.parse(
    await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
  );

  try {
    if (!process.env.BENCH_SKIP_CPU) await cpuRun(newDb, movies, fixture);
    await latencyRuns(newDb, tmp, fixture);
  } finally {
    await server.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The CPU-bound run (see the head of this file). */
async function cpuRun(newDb: () => Promise<string>, movies: string, fixture: any) {
  {
    // ── ceiling: raw pg-boss, 3 × N jobs through one queue, no-op handler ──
    const url0 = await newDb();
    const boss = new PgBoss({
      connectionString: url0,
      useListenNotify: true,
      max: 8,
      supervise: false,
      schedule: false,
    });
    boss.on('error', () => {});
    await boss.start();
    await boss.createQueue('raw', { notify: true });
    let done = 0;
    let finished: () => void = () => {};
    const allDone = new Promise<void>((r) => (finished = r));
    await boss.work(
      'raw',
      { batchSize: 2, localConcurrency: 8, burstWhenBatchFull: true, notifyPollingIntervalSeconds: 5 },
      async (jobs) => {
        done += jobs.length;
        if (done >= 3 * N) finished();
      },
    );
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 20 }, async (_, k) => {
        for (let i = k; i < 3 * N; i += 20) await boss.send('raw', { i });
      }),
    );
    await allDone;
    const rawJobsPerSec = (3 * N) / ((Date.now() - t0) / 1000);
    await boss.stop({ graceful: false });

    const results: { workers: number; jobsPerSec: number; webhooksPerSec: number; jobsPerWebhook: number }[] =
      [];
    for (const workers of [1, 2, 3]) {
      const url = await newDb();
      const metarr = await startMetarr(url, { workers, env: { METARR_DB_POOL_MAX: '8' } });
      const call = metarr.call;
      const kodi = await startFakeKodi({});
      await seedKodiLibrary(call, { path: movies, kodiPort: kodi.port });
      const s0 = Date.now();
      await postDownloads(call, fixture, N, 20, 'S');
      for (;;) {
        const scans = new Set(
          kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').map((c) => JSON.stringify(c.params)),
        ).size;
        if (scans >= N) break;
        if (Date.now() - s0 > 300_000) throw new Error(`only ${scans}/${N} scans after 300 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const secs = (Date.now() - s0) / 1000;
      // Count the jobs the pipeline really ran (webhook, scan-movie, notify fan-out, per-group notify).
      const jobs = await inspectJobs(url, (j) => j.count({ notTypes: ['dead-letter'] }));
      results.push({ workers, webhooksPerSec: N / secs, jobsPerSec: jobs / secs, jobsPerWebhook: jobs / N });
      await kodi.close();
      await metarr.stop();
    }

    console.log(
      `\nbench/scale — ${N} Radarr Downloads (${results[0]?.jobsPerWebhook.toFixed(1)} jobs each), 20 concurrent senders; node ${process.version}; ${os.cpus().length} CPUs`,
    );
    console.log(
      `${'setup'.padEnd(34)}${'webhooks/s'.padStart(12)}${'jobs/s'.padStart(10)}${'× 1 worker'.padStart(12)}${'of ceiling'.padStart(12)}`,
    );
    const one = results[0]?.jobsPerSec ?? 1;
    for (const r of results) {
      console.log(
        `${`${r.workers} worker process(es)`.padEnd(34)}${r.webhooksPerSec.toFixed(1).padStart(12)}${r.jobsPerSec.toFixed(1).padStart(10)}${(r.jobsPerSec / one).toFixed(2).padStart(12)}${`${((100 * r.jobsPerSec) / rawJobsPerSec).toFixed(0)}%`.padStart(12)}`,
      );
    }
    console.log(
      `${'ceiling: raw pg-boss send+work'.padEnd(34)}${'-'.padStart(12)}${rawJobsPerSec.toFixed(1).padStart(10)}`,
    );
  }
}

/** The latency-bound runs (see the head of this file) and their table. */
async function latencyRuns(newDb: () => Promise<string>, tmp: string, fixture: any) {
  const rows: { label: string; workers: number; r: Awaited<ReturnType<typeof latencyRun>> }[] = [];
  for (const [workers, rateLimit] of [
    [1, 1000],
    [2, 1000],
    [4, 1000],
    [4, LAT_RATE_LIMIT],
  ] as const) {
    const dir = path.join(tmp, `latency-${workers}-${rateLimit}`);
    for (let i = 0; i < LAT_N; i++) {
      await fs.mkdir(path.join(dir, `Movie ${i} (2000)`), { recursive: true });
      await fs.writeFile(path.join(dir, `Movie ${i} (2000)`, 'm.mkv'), 'v');
    }
    const r = await latencyRun(newDb, dir, fixture, workers, rateLimit);
    rows.push({ label: `${workers} worker process(es), TMDB limit ${rateLimit}/s`, workers, r });
  }
  console.log(
    `\nbench/scale, latency-bound — ${LAT_N} Radarr Downloads through the metadata pipeline; fake TMDB and fanart.tv answer after 300 ms, Kodi after 200 ms; each worker at concurrency ${LAT_CONCURRENCY}; node ${process.version}; ${os.cpus().length} CPUs`,
  );
  console.log(
    `${'setup'.padEnd(42)}${'movies/s'.padStart(10)}${'seconds'.padStart(10)}${'× 1 worker'.padStart(12)}${'TMDB calls'.padStart(12)}${'max TMDB/s'.padStart(12)}`,
  );
  const one = rows[0]?.r.moviesPerSec ?? 1;
  for (const { label, r } of rows) {
    console.log(
      `${label.padEnd(42)}${r.moviesPerSec.toFixed(2).padStart(10)}${r.seconds.toFixed(1).padStart(10)}${(r.moviesPerSec / one).toFixed(2).padStart(12)}${String(r.tmdbCalls).padStart(12)}${String(r.tmdbMaxPerSecond).padStart(12)}`,
    );
  }
}

await main();
