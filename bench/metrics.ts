/**
 * bench/metrics — the cost of one Prometheus scrape (`GET /metrics`, over real HTTP with a bearer
 * token) with 100,000 jobs in the job table: 16,000 finished webhook chains of 6 jobs (webhook →
 * scan-movie → notify-players → notify-group, plus discover-assets and publish), some retried, and
 * 4,000 queued, running, retrying, failed and dead-lettered jobs. The baseline, measured in the same
 * run on the same table, is the bare `count(*) group by name, state` a queue gauge needs at least.
 * A scrape answers from a snapshot refreshed in the background at most every 10 s, so the bench also
 * times that refresh (the database work behind the figures), which no scrape waits for once warm.
 *
 *   pnpm bench:metrics
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:metrics   # an existing server (else embedded)
 */
import { createDb, createJobMetricsReader, deliveryCounts, libraryItemCounts } from '@metarr/core';
import pg from 'pg';
import { BENCH_API_KEY, benchPostgres, type MetarrProcesses, pct, startMetarr } from './support.ts';

const CHAINS = Number(process.env.BENCH_CHAINS ?? 16_000);
const OPEN = Number(process.env.BENCH_OPEN ?? 4_000);
const TRIES = Number(process.env.BENCH_TRIES ?? 50);
const TYPES = `array['webhook', 'scan-movie', 'notify-players', 'notify-group', 'discover-assets', 'publish']`;

const SEED = [
  `insert into pgboss.job (id, name, data, state, priority, retry_count, created_on, start_after, started_on,
      completed_on, output)
  select md5('w' || i || '/' || l)::uuid, (${TYPES})[l + 1],
    jsonb_build_object('payload', case when l = 0 then jsonb_build_object('source', 'radarr')
        else jsonb_build_object('movieId', i) end,
      'parentId', case when l = 0 then null when l >= 4 then md5('w' || i || '/1')::uuid::text
        else md5('w' || i || '/' || (l - 1))::uuid::text end),
    'completed', case when l < 3 then 10 else 7 end, case when i % 50 = 0 then 1 else 0 end,
    t, t, t + interval '5 ms', t + (10 + i % 400) * interval '1 ms',
    case when l = 3 then jsonb_build_object('groupId', 1, 'notified', jsonb_build_array(1), 'failures', '[]'::jsonb)
      else jsonb_build_object('ms', 5) end
  from generate_series(1, $1::int) i, generate_series(0, 5) l,
    lateral (select now() - ($1::int - i) * interval '20 s' + l * interval '50 ms' as t) x`,
  `insert into pgboss.job (id, name, data, state, priority, retry_count, created_on, start_after, started_on,
      completed_on, output, source_name, source_output)
  select gen_random_uuid(), case when s = 'dead' then 'dead-letter' else (${TYPES})[1 + i % 6] end,
    jsonb_build_object('payload', jsonb_build_object('movieId', i), 'parentId', null),
    (case when s = 'dead' then 'created' else s end)::pgboss.job_state, 1 + i % 10,
    case when s in ('retry', 'failed') then 2 else 0 end, now(), now(),
    case when s in ('active', 'failed', 'retry') then now() end, case when s = 'failed' then now() end,
    case when s in ('retry', 'failed') then '{"error": "x", "code": "PROVIDER_UNAVAILABLE"}'::jsonb end,
    case when s = 'dead' then 'publish' end,
    case when s = 'dead' then '{"error": "x", "code": "DISK_FULL"}'::jsonb end
  from generate_series(1, $1::int) i,
    lateral (select (array['created', 'created', 'active', 'retry', 'failed', 'dead'])[1 + i % 6] as s) x`,
];

async function timed(tries: number, fn: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < tries + 3; i++) {
    const t0 = performance.now();
    await fn();
    if (i >= 3) times.push(performance.now() - t0); // 3 warm-ups
  }
  return times;
}

async function main() {
  const server = await benchPostgres();
  const url = await server.newDatabase();
  const client = new pg.Client({ connectionString: url });
  let metarr: MetarrProcesses | null = null;
  try {
    metarr = await startMetarr(url, { workers: 0 });
    await client.connect();
    await client.query(SEED[0] as string, [CHAINS]);
    await client.query(SEED[1] as string, [OPEN]);
    await client.query('vacuum (analyze) pgboss.job');
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pgboss.job');
    const jobs = rows[0]?.n ?? 0;

    const base = metarr.base;
    let bytes = 0;
    const scrape = await timed(TRIES, async () => {
      const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${BENCH_API_KEY}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      if (!text.includes('metarr_webhook_to_player_seconds_count{source="radarr"}'))
        throw new Error('scrape lacks the webhook-to-player histogram');
      bytes = text.length;
    });
    const baseline = await timed(TRIES, async () => {
      await client.query('select name, state, count(*)::int from pgboss.job group by name, state');
    });

    const dbh = createDb(url, { max: 4 });
    const reader = createJobMetricsReader(dbh.db);
    const refresh = await timed(Math.min(TRIES, 10), async () => {
      await Promise.all([reader.snapshot(), deliveryCounts(dbh.db), libraryItemCounts(dbh.db)]);
    });
    await dbh.close();

    const p50 = pct(scrape, 50);
    const b50 = pct(baseline, 50);
    console.log(`bench/metrics: ${jobs.toLocaleString('en')} jobs, ${TRIES} scrapes (${bytes} bytes each)`);
    console.log(
      `  GET /metrics (bearer, over HTTP)   p50 ${p50.toFixed(1)} ms  p95 ${pct(scrape, 95).toFixed(1)} ms`,
    );
    console.log(
      `  baseline: count(*) group by        p50 ${b50.toFixed(1)} ms  p95 ${pct(baseline, 95).toFixed(1)} ms`,
    );
    console.log(
      `  snapshot refresh (background, ≤ 1 per 10 s)  p50 ${pct(refresh, 50).toFixed(1)} ms  p95 ${pct(refresh, 95).toFixed(1)} ms`,
    );
    console.log(`  ratio (p50): ${(p50 / b50).toFixed(2)}×  budget 50 ms: ${p50 < 50 ? 'PASS' : 'FAIL'}`);
    if (p50 >= 50) process.exitCode = 1;
  } finally {
    await client.end().catch(() => {});
    await metarr?.stop();
    await server.close();
  }
}

await main();
