/**
 * bench/big-table — the jobs routes on a job table of 1,000,000 rows (a busy install at pg-boss's
 * default retention; see seedJobTable): 160,000 webhook chains of 6 jobs over 14 days, 20,000
 * failed jobs with their dead letters, 2,000 jobs waiting, vacuumed as autovacuum would; the API runs as its own process (no worker). Each route is called TRIES times
 * over HTTP (3 warm-ups not counted); p50 / p99 against the target (≤ 50 ms p99).
 *
 *   pnpm bench:big-table
 *   BENCH_ROWS=300000 pnpm bench:big-table          # smaller table
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:big-table
 */
import os from 'node:os';
import { analyzeJobTable, createDb, JOB_PARENT_INDEX, jobTableStats, labelJobId } from '@metarr/core';
import { benchPostgres, type MetarrProcesses, pct, seedJobTable, startMetarr } from './support.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const TRIES = Number(process.env.BENCH_TRIES ?? 30);
const TARGET_P99_MS = 50;

interface Case {
  label: string;
  route: (i: number) => string;
}

async function main() {
  const server = await benchPostgres();
  const url = await server.newDatabase();
  const { db, close } = createDb(url, { max: 2 });
  let metarr: MetarrProcesses | null = null;
  try {
    metarr = await startMetarr(url, { workers: 0 });
    const t0 = performance.now();
    const { chains: CHAINS } = await seedJobTable(db, ROWS);
    await analyzeJobTable(db, { vacuum: true });
    const seedMs = performance.now() - t0;
    const size = await jobTableStats(db, JOB_PARENT_INDEX);
    const chain = (i: number, level: number) => labelJobId(`w${1 + ((i * 7919) % CHAINS)}/${level}`);
    const cases: Case[] = [
      { label: 'GET /api/jobs (newest 50 + total)', route: () => '/api/jobs' },
      { label: 'GET /api/jobs?offset=5000 (page 101)', route: () => '/api/jobs?offset=5000' },
      { label: 'GET /api/jobs?state=failed', route: () => '/api/jobs?state=failed' },
      { label: 'GET /api/jobs?state=created (waiting)', route: () => '/api/jobs?state=created' },
      { label: 'GET /api/jobs?type=enrich-metadata', route: () => '/api/jobs?type=enrich-metadata' },
      { label: 'GET /api/jobs?root=true (webhooks)', route: () => '/api/jobs?root=true' },
      {
        label: "GET /api/jobs?movieId= (a movie's jobs)",
        route: (i) => `/api/jobs?movieId=${1 + ((i * 7919) % CHAINS)}`,
      },
      { label: 'GET /api/jobs/stats', route: () => '/api/jobs/stats' },
      { label: 'GET /api/jobs/timeline (60 min)', route: () => '/api/jobs/timeline' },
      { label: 'GET /api/jobs/dead-letter', route: () => '/api/jobs/dead-letter' },
      { label: 'GET /api/jobs/:id (parent + children)', route: (i) => `/api/jobs/${chain(i, 1)}` },
      { label: 'GET /api/jobs/:id/tree (from the 5th level)', route: (i) => `/api/jobs/${chain(i, 4)}/tree` },
    ];
    const results = new Map<string, number[]>();
    for (const c of cases) {
      const times: number[] = [];
      for (let i = 0; i < TRIES + 3; i++) {
        const t1 = performance.now();
        const r = await metarr.call('GET', c.route(i));
        const ms = performance.now() - t1;
        if (r.status !== 200) throw new Error(`${c.route(i)} answered ${r.status}`);
        if (i >= 3) times.push(ms);
      }
      results.set(c.label, times);
    }

    console.log(
      `\nbench/big-table — ${size.rows.toLocaleString('en')} jobs (table ${size.table}), seeded + vacuumed in ` +
        `${(seedMs / 1000).toFixed(1)} s; ${TRIES} calls per route over HTTP; node ${process.version}; ` +
        `${os.cpus().length} CPUs; load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    console.log(
      `${'route'.padEnd(48)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'target'.padStart(10)}`,
    );
    for (const [label, times] of results) {
      const p99 = pct(times, 99);
      console.log(
        `${label.padEnd(48)}${pct(times, 50).toFixed(1).padStart(10)}${p99.toFixed(1).padStart(10)}` +
          `${(p99 <= TARGET_P99_MS ? 'met' : 'MISSED').padStart(10)}`,
      );
    }
  } finally {
    await metarr?.stop();
    await close().catch(() => {});
    await server.close();
  }
}

await main();
