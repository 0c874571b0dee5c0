/**
 * bench/enrich — the metadata pipeline (scan-movie → discover-assets → fetch-provider-assets →
 * enrich-metadata → select-assets → publish → notify-players) for N movie folders against the fake
 * TMDB and fanart.tv servers, with one in-process worker on one PostgreSQL. Two passes:
 * cold (empty provider cache, empty folders) and warm (cache and folders as the cold pass left them).
 * Reports movies per minute, mean/p95 run time per job type, and provider calls per movie.
 *
 *   pnpm bench:enrich                       # BENCH_N=150 movies, embedded PostgreSQL
 *   BENCH_N=500 pnpm bench:enrich           # the full size (~2 min on 2 cores)
 *   BENCH_N=200 BENCH_CONCURRENCY=8 pnpm bench:enrich
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:enrich
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createJobInspector,
  createMediaServerClient,
  loadConfig,
  silentLogger,
  startRuntime,
} from '@metarr/core';
import { startFakeFanart, startFakeTmdb } from '@metarr/testkit';
import { handlers, startWorkerRuntime } from '@metarr/worker';
import { benchPostgres, pct } from './support.ts';

// 150 keeps both passes within a minute on the 2-core dev box; BENCH_N=500 is the full size.
const N = Number(process.env.BENCH_N ?? 150);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 120_000);

async function main() {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-bench-enrich-'));
  const pgs = await benchPostgres();
  const url = await pgs.newDatabase('metarr_bench_enrich');
  const tmdb = await startFakeTmdb();
  const fanart = await startFakeFanart();
  let rt: Awaited<ReturnType<typeof startRuntime>> | null = null;

  try {
    const config = loadConfig({
      METARR_DATA_DIR: path.join(tmp, 'data'),
      TMDB_API_KEY: 'tmdb-test-key',
      FANART_API_KEY: 'fanart-test-key',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_FANART_BASE_URL: fanart.apiUrl,
      // The bench measures Metarr, not TMDB's throttle: the fakes have none.
      METARR_TMDB_RATE_LIMIT: '1000',
    });
    rt = await startRuntime({ url, log: silentLogger, instanceName: 'worker', poolMax: 12, supervise: true });
    const db = rt.dbh.db;
    const jobs = createJobInspector(db);
    const worker = await startWorkerRuntime({
      boss: rt.boss,
      db,
      log: silentLogger,
      handlers,
      concurrency: CONCURRENCY,
      deps: {
        db,
        log: silentLogger,
        clientFor: (p) => createMediaServerClient(p),
        clock: () => new Date(),
        config,
      },
    });

    const root = path.join(tmp, 'movies');
    const lib = await db
      .insertInto('libraries')
      .values({ name: 'Bench', type: 'movie', path: root })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < N; i++) {
      const dir = path.join(root, `Movie ${i}`);
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(dir, `Movie ${i}.mkv`), 'video');
    }

    const pass = async (label: string) => {
      const t0 = new Date();
      const calls0 = {
        tmdb: tmdb.calls.length,
        fanart: fanart.calls.length,
        images: tmdb.imageCalls.length + fanart.imageCalls.length,
      };
      const started = performance.now();
      for (let i = 0; i < N; i++) {
        await worker.queue.enqueue('scan-movie', {
          libraryId: lib.id,
          path: path.join(root, `Movie ${i}`),
          trigger: 'manual',
          tmdbId: 10_000 + i,
        });
      }
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        const tally = await jobs.tally({ createdSince: t0 });
        const sum = (keep: (x: (typeof tally)[number]) => boolean) =>
          tally.filter(keep).reduce((n, x) => n + x.n, 0);
        const rows = [
          {
            done: sum((x) => x.name === 'notify-players' && x.state === 'completed'),
            failed: sum((x) => x.state === 'failed' || x.name === 'dead-letter'),
          },
        ];
        if ((rows[0]?.done ?? 0) >= N) break;
        if ((rows[0]?.failed ?? 0) > 0) throw new Error(`${label}: ${rows[0]?.failed} job(s) failed`);
        if (Date.now() > deadline) throw new Error(`${label}: timed out with ${rows[0]?.done}/${N} done`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (performance.now() - started) / 1000;
      const completed = await jobs.rows({ createdSince: t0, states: ['completed'] });
      const byType = new Map<string, number[]>();
      for (const j of completed) {
        const ms = new Date(j.completed_on ?? 0).getTime() - new Date(j.started_on ?? 0).getTime();
        byType.set(j.name, [...(byType.get(j.name) ?? []), ms]);
      }
      const perType = Object.fromEntries(
        [...byType].map(([k, v]) => [
          k,
          {
            n: v.length,
            meanMs: +(v.reduce((a, b) => a + b, 0) / v.length).toFixed(1),
            p95Ms: +pct(v, 95).toFixed(1),
          },
        ]),
      );
      const calls = {
        tmdbPerMovie: (tmdb.calls.length - calls0.tmdb) / N,
        fanartPerMovie: (fanart.calls.length - calls0.fanart) / N,
        imagesPerMovie: (tmdb.imageCalls.length + fanart.imageCalls.length - calls0.images) / N,
      };
      return {
        label,
        movies: N,
        seconds: +seconds.toFixed(2),
        moviesPerMinute: +((N / seconds) * 60).toFixed(0),
        calls,
        perType,
      };
    };

    const cold = await pass('cold');
    const warm = await pass('warm');
    const out = { n: N, concurrency: CONCURRENCY, cpus: os.availableParallelism(), cold, warm };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await rt?.close().catch(() => {});
    await tmdb.close();
    await fanart.close();
    await pgs.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench/enrich failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
