/**
 * bench/job-tree — job lineage lookups on a job table the size a real install keeps (~300,000 rows:
 * 48,000 webhook chains of 6 jobs, a week of 6-hourly library scans, one of them with 10,000
 * `scan-movie` children). The API runs as its own process; each route is timed over real HTTP
 * (TRIES calls, a different job each time) with the `data->>'parentId'` index, then again in the
 * same run with the index dropped (the baseline), and the ratios are printed.
 *
 *   pnpm bench:job-tree
 *   BENCH_CHAINS=10000 pnpm bench:job-tree            # smaller table
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:job-tree
 */
import os from 'node:os';
import {
  analyzeJobTable,
  createDb,
  dropJobIndex,
  insertSyntheticJobs,
  JOB_PARENT_INDEX,
  jobTableStats,
  labelJobId,
  type SyntheticJob,
} from '@metarr/core';
import { benchPostgres, type MetarrProcesses, pct, startMetarr } from './support.ts';

const CHAINS = Number(process.env.BENCH_CHAINS ?? 48_000);
const TRIES = Number(process.env.BENCH_TRIES ?? 30);
const BIG_SCAN = 10_000;
const SCANS = 28; // every 6 h for a week
const SMALL_SCAN = 100;

const CHAIN = [
  'webhook',
  'scan-movie',
  'discover-assets',
  'fetch-provider-assets',
  'enrich-metadata',
  'notify-players',
];
const ms = (t: number, plus: number) => new Date(t + plus);

/**
 * Ids derive from a label (`labelJobId`), so children name their parents without lookups and the
 * bench finds any job again. A webhook chain: webhook → scan-movie → discover-assets →
 * fetch-provider-assets → enrich-metadata, plus the scan's `notify-players` (6 jobs, 5 levels).
 */
function* webhookChains(now: number): Generator<SyntheticJob> {
  for (let i = 1; i <= CHAINS; i++) {
    const folder = `/data/movies/Movie ${i} (2001)`;
    for (let l = 0; l < CHAIN.length; l++) {
      const t = now - (CHAINS - i) * ((7 * 86_400_000) / CHAINS) + l * 50;
      const payload =
        l === 0
          ? { source: 'radarr', deliveryId: i, event: 'Download', path: `/movies/Movie ${i} (2001)` }
          : l === 1
            ? { libraryId: 1, path: folder, trigger: 'webhook', title: `Movie ${i}` }
            : l === 5
              ? { libraryId: 1, path: folder, change: 'modified', groupId: 1, windowSeconds: 10 }
              : { movieId: i };
      const parentId = l === 0 ? null : labelJobId(`w${i}/${l === 5 ? 1 : l - 1}`);
      yield {
        id: labelJobId(`w${i}/${l}`),
        name: CHAIN[l] as string,
        data: { payload, parentId },
        state: 'completed',
        createdOn: ms(t, 0),
        startedOn: ms(t, 5),
        completedOn: ms(t, 40),
        output: { ms: 35, movieId: i },
      };
    }
  }
}

/** A week of 6-hourly library scans; the latest has BIG_SCAN scan-movie children, the others SMALL_SCAN. */
function* libraryScans(now: number): Generator<SyntheticJob> {
  for (let s = 0; s < SCANS; s++) {
    const t = now - s * 6 * 3_600_000;
    const id = labelJobId(`s${s}`);
    yield {
      id,
      name: 'library-scan',
      data: { payload: { libraryId: 1 }, parentId: null },
      state: 'completed',
      createdOn: ms(t, 0),
      startedOn: ms(t, 0),
      completedOn: ms(t, 2000),
    };
    for (let f = 1; f <= (s === 0 ? BIG_SCAN : SMALL_SCAN); f++) {
      yield {
        id: crypto.randomUUID(),
        name: 'scan-movie',
        data: {
          payload: { libraryId: 1, path: `/data/movies/Folder ${f}`, trigger: 'library-scan' },
          parentId: id,
        },
        state: 'completed',
        createdOn: ms(t, f),
        startedOn: ms(t, f),
        completedOn: ms(t, f),
        output: { ms: 3 },
      };
    }
  }
}

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
    // No worker: nothing here should run, and the API creates the index at start-up.
    metarr = await startMetarr(url, { workers: 0 });
    const t0 = performance.now();
    const now = Date.now();
    await insertSyntheticJobs(db, [...webhookChains(now), ...libraryScans(now)]);
    // What autovacuum does after a bulk insert; without it the first calls race its own run.
    await analyzeJobTable(db, { vacuum: true });
    const seedMs = performance.now() - t0;
    const size = await jobTableStats(db, JOB_PARENT_INDEX);
    const id = async (label: string) => labelJobId(label);
    const big = await id('s0');
    // A different chain per call, spread over the table: ids[i][level].
    const ids: string[][] = [];
    for (let i = 0; i < TRIES + 3; i++) {
      const c = 1 + ((i * 7919) % CHAINS);
      const levels: string[] = [];
      for (let l = 0; l < 5; l++) levels.push(await id(`w${c}/${l}`));
      ids.push(levels);
    }
    const at = (i: number, level: number) => ids[i]?.[level] as string;
    const cases: Case[] = [
      { label: 'GET /api/jobs/:id (scan-movie: parent + 2 children)', route: (i) => `/api/jobs/${at(i, 1)}` },
      { label: 'GET /api/jobs/:id/tree (from the 5th level)', route: (i) => `/api/jobs/${at(i, 4)}/tree` },
      { label: 'GET /api/jobs?parentId= (webhook: 1 child)', route: (i) => `/api/jobs?parentId=${at(i, 0)}` },
      { label: 'GET /api/jobs?parentId= (library scan: 10,000)', route: () => `/api/jobs?parentId=${big}` },
      { label: 'GET /api/jobs/:id (library scan: 10,000 children)', route: () => `/api/jobs/${big}` },
    ];

    const call = metarr.call;
    const measure = async () => {
      const out = new Map<string, number[]>();
      for (const c of cases) {
        const times: number[] = [];
        for (let i = 0; i < TRIES + 3; i++) {
          const t1 = performance.now();
          const r = await call('GET', c.route(i));
          const ms = performance.now() - t1;
          if (r.status !== 200) throw new Error(`${c.route(i)} answered ${r.status}`);
          if (i >= 3) times.push(ms); // 3 warm-ups
        }
        out.set(c.label, times);
      }
      return out;
    };

    // Sanity: the routes answer what the set-up above built.
    const tree = await call('GET', `/api/jobs/${at(0, 4)}/tree`);
    if (tree.json.size !== 6 || tree.json.rootId !== at(0, 0)) throw new Error('unexpected tree');

    const indexed = await measure();
    await dropJobIndex(db, JOB_PARENT_INDEX);
    const baseline = await measure();

    console.log(
      `\nbench/job-tree — ${size.rows.toLocaleString('en')} jobs (table ${size.table}, index ${size.index}), ` +
        `seeded + vacuumed in ${(seedMs / 1000).toFixed(1)} s; ${TRIES} calls per route over HTTP; ` +
        `node ${process.version}; ${os.cpus().length} CPUs; load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    const pp = (xs: number[]) => `${pct(xs, 50).toFixed(1)} / ${pct(xs, 99).toFixed(1)}`;
    console.log(
      `${'route'.padEnd(52)}${'index p50 / p99 ms'.padStart(22)}${'no index (baseline)'.padStart(24)}${'p50 ×'.padStart(9)}${'p99 ×'.padStart(9)}`,
    );
    for (const c of cases) {
      const a = indexed.get(c.label) as number[];
      const b = baseline.get(c.label) as number[];
      console.log(
        `${c.label.padEnd(52)}${pp(a).padStart(22)}${pp(b).padStart(24)}` +
          `${(pct(b, 50) / pct(a, 50)).toFixed(1).padStart(9)}${(pct(b, 99) / pct(a, 99)).toFixed(1).padStart(9)}`,
      );
    }
    console.log('× = baseline / indexed (how many times slower without the index)');
  } finally {
    await metarr?.stop();
    await close().catch(() => {});
    await server.close();
  }
}

await main();
