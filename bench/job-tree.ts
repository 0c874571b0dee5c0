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
import { JOB_PARENT_INDEX } from '@metarr/core';
import pg from 'pg';
import { benchPostgres, type MetarrProcesses, pct, startMetarr } from './support.ts';

const CHAINS = Number(process.env.BENCH_CHAINS ?? 48_000);
const TRIES = Number(process.env.BENCH_TRIES ?? 30);
const BIG_SCAN = 10_000;
const SCANS = 28; // every 6 h for a week
const SMALL_SCAN = 100;

/**
 * Ids derive from a label (`md5(label)::uuid`), so children name their parents without lookups and
 * the bench finds any job again. A webhook chain: webhook → scan-movie → discover-assets →
 * fetch-provider-assets → enrich-metadata, plus the scan's `notify-players` (6 jobs, 5 levels).
 */
const SEED = [
  `insert into pgboss.job (id, name, data, state, priority, created_on, start_after, started_on, completed_on, output)
  select md5('w' || i || '/' || l)::uuid, (array['webhook', 'scan-movie', 'discover-assets',
      'fetch-provider-assets', 'enrich-metadata', 'notify-players'])[l + 1],
    jsonb_build_object(
      'payload', case l
        when 0 then jsonb_build_object('source', 'radarr', 'deliveryId', i, 'event', 'Download',
          'path', '/movies/Movie ' || i || ' (2001)')
        when 1 then jsonb_build_object('libraryId', 1, 'path', '/data/movies/Movie ' || i || ' (2001)',
          'trigger', 'webhook', 'title', 'Movie ' || i)
        when 5 then jsonb_build_object('libraryId', 1, 'path', '/data/movies/Movie ' || i || ' (2001)',
          'change', 'modified', 'groupId', 1, 'windowSeconds', 10)
        else jsonb_build_object('movieId', i) end,
      'parentId', case when l = 0 then null when l = 5 then md5('w' || i || '/1')::uuid::text
        else md5('w' || i || '/' || (l - 1))::uuid::text end),
    'completed', 0, t, t, t + interval '5 ms', t + interval '40 ms',
    jsonb_build_object('ms', 35, 'movieId', i)
  from generate_series(1, $1::int) i, generate_series(0, 5) l,
    lateral (select now() - ($1::int - i) * (interval '7 days' / $1::int) + l * interval '50 ms' as t) x`,
  `insert into pgboss.job (id, name, data, state, priority, created_on, start_after, started_on, completed_on)
  select md5('s' || s)::uuid, 'library-scan',
    jsonb_build_object('payload', jsonb_build_object('libraryId', 1), 'parentId', null),
    'completed', 0, t, t, t, t + interval '2 s'
  from generate_series(0, ${SCANS - 1}) s, lateral (select now() - s * interval '6 hours' as t) x`,
  `insert into pgboss.job (id, name, data, state, priority, created_on, start_after, started_on, completed_on, output)
  select gen_random_uuid(), 'scan-movie',
    jsonb_build_object('payload', jsonb_build_object('libraryId', 1, 'path', '/data/movies/Folder ' || f,
      'trigger', 'library-scan'), 'parentId', md5('s' || s)::uuid::text),
    'completed', 0, t, t, t, t, jsonb_build_object('ms', 3)
  from generate_series(0, ${SCANS - 1}) s,
    generate_series(1, case when s = 0 then ${BIG_SCAN} else ${SMALL_SCAN} end) f,
    lateral (select now() - s * interval '6 hours' + f * interval '1 ms' as t) x`,
];

interface Case {
  label: string;
  route: (i: number) => string;
}

async function main() {
  const server = await benchPostgres();
  const url = await server.newDatabase();
  const client = new pg.Client({ connectionString: url });
  let metarr: MetarrProcesses | null = null;
  try {
    // No worker: nothing here should run, and the API creates the index at start-up.
    metarr = await startMetarr(url, { workers: 0 });
    await client.connect();
    const t0 = performance.now();
    await client.query(SEED[0] as string, [CHAINS]);
    for (const statement of SEED.slice(1)) await client.query(statement);
    // What autovacuum does after a bulk insert; without it the first calls race its own run.
    await client.query('vacuum (analyze) pgboss.job');
    const seedMs = performance.now() - t0;
    const { rows: size } = await client.query<{ n: number; table: string; index: string }>(
      `select (select count(*)::int from pgboss.job) as n,
         pg_size_pretty(pg_total_relation_size('pgboss.job_common')) as table,
         (select pg_size_pretty(sum(pg_relation_size(h.inhrelid))) from pg_inherits h
           where h.inhparent = to_regclass('pgboss.${JOB_PARENT_INDEX}')) as index`,
    );
    const id = async (label: string) =>
      (await client.query<{ id: string }>('select md5($1)::uuid::text as id', [label])).rows[0]?.id as string;
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
    await client.query(`drop index pgboss.${JOB_PARENT_INDEX}`);
    const baseline = await measure();

    console.log(
      `\nbench/job-tree — ${size[0]?.n.toLocaleString('en')} jobs (table ${size[0]?.table}, index ${size[0]?.index}), ` +
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
    await client.end().catch(() => {});
    await server.close();
  }
}

await main();
