/**
 * bench/scale — end-to-end pipeline throughput (webhook → scan-movie → notify-players against a
 * fake Kodi, no provider calls) with 1, 2 and 3 worker processes, and raw pg-boss send/work
 * throughput on the same PostgreSQL as the ceiling — all in one run.
 *
 *   pnpm bench:scale                       # embedded PostgreSQL
 *   BENCH_DATABASE_URL=postgres://… BENCH_N=300 pnpm bench:scale
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import { PgBoss } from 'pg-boss';
import { inspectJobs } from '../test/support/chaos.ts';
import { benchPostgres, ROOT, seedKodiLibrary, startMetarr } from './support.ts';

const N = Number(process.env.BENCH_N ?? 300);

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
      await Promise.all(
        Array.from({ length: 20 }, async (_, k) => {
          for (let i = k; i < N; i += 20) {
            const body = structuredClone(fixture);
            Object.assign(body.movie, {
              id: 10_000 + i,
              tmdbId: 20_000 + i,
              folderPath: `/movies/Movie ${i} (2000)`,
            });
            body.movieFile.id = 30_000 + i;
            body.downloadId = `S${i}`;
            const r = await call('POST', '/api/webhooks/radarr', body);
            if (r.status !== 200) throw new Error(`webhook ${r.status}`);
          }
        }),
      );
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
  } finally {
    await server.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

await main();
