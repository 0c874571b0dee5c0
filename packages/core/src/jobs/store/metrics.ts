import { sql } from 'kysely';
import { DEAD_LETTER_QUEUE } from '../catalog.ts';
import type { AnyKysely } from '../events.ts';
import { CANONICAL_UUID } from './read.ts';

/** Upper bounds (seconds) of the job wait and run duration histograms. */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900] as const;

/** Metarr priority at or below which a job runs on the urgent lane (the worker's URGENT_PRIORITY_MAX). */
const URGENT_BOSS_PRIORITY_MIN = 11 - 5;

export interface DurationHistogram {
  type: string;
  /** Non-cumulative counts per bucket of JOB_DURATION_BUCKETS, then one for +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export interface JobMetricsSnapshot {
  queue: { type: string; lane: 'urgent' | 'bulk'; state: string; n: number }[];
  wait: DurationHistogram[];
  run: DurationHistogram[];
  retries: { type: string; code: string; n: number }[];
  deadLetters: { type: string; code: string; n: number }[];
  /** Webhook received → a player group told, for the latest notify-group jobs a webhook started. */
  webhookToPlayer: DurationHistogram[];
  /** Player calls per group, from notify-group outputs (`ok`) and failed attempts (`failed`). */
  playerCalls: { groupId: number; result: 'ok' | 'failed'; n: number }[];
}

/** How many of the latest notified groups the webhook-to-player histogram covers (keeps it cheap). */
export const WEBHOOK_TO_PLAYER_WINDOW = 200;

/**
 * What `/metrics` reads from pg-boss's job table, in two queries per scrape: one pass over the
 * table for counts and durations (grouping sets), one over the retried and dead-letter rows.
 * Figures cover the jobs the table still holds (pg-boss drops finished jobs after its retention).
 */
export function createJobMetricsReader(db: AnyKysely) {
  const bounds = [...JOB_DURATION_BUCKETS];
  return {
    async snapshot(): Promise<JobMetricsSnapshot> {
      const { rows } = await sql<{
        name: string;
        lane: 'urgent' | 'bulk' | null;
        state: string | null;
        wb: number | null;
        rb: number | null;
        n: number;
        wsum: number | null;
        rsum: number | null;
      }>`
        with j as (
          select name, state::text as state,
            case when priority >= ${URGENT_BOSS_PRIORITY_MIN} then 'urgent' else 'bulk' end as lane,
            extract(epoch from (started_on - start_after))::float8 as w,
            case when state in ('completed', 'failed') and completed_on is not null
              then extract(epoch from (completed_on - started_on))::float8 end as r
          from pgboss.job where name <> ${DEAD_LETTER_QUEUE}
        )
        select name, lane, state,
          case when w is not null then width_bucket(greatest(w, 0), ${bounds}::float8[]) end as wb,
          case when r is not null then width_bucket(greatest(r, 0), ${bounds}::float8[]) end as rb,
          count(*)::int as n, sum(greatest(w, 0))::float8 as wsum, sum(greatest(r, 0))::float8 as rsum
        from j
        group by grouping sets ((name, lane, state), (name, wb), (name, rb))`.execute(db);

      const { rows: failures } = await sql<{ kind: string; name: string; code: string; n: number }>`
        with f as (
          select name = ${DEAD_LETTER_QUEUE} as dead,
            case when name = ${DEAD_LETTER_QUEUE} then source_name else name end as name,
            case when name = ${DEAD_LETTER_QUEUE} then source_output->>'code'
              when state in ('retry', 'failed') then output->>'code' end as code,
            case when name = ${DEAD_LETTER_QUEUE} then 1 else retry_count end as n
          from pgboss.job where name = ${DEAD_LETTER_QUEUE} or retry_count > 0
        )
        select case when dead then 'dead' else 'retry' end as kind, coalesce(name, 'unknown') as name,
          coalesce(code, 'unknown') as code, sum(n)::int as n
        from f
        group by 1, 2, 3`.execute(db);

      const { rows: reach } = await sql<{ source: string; latency: number }>`
        with recursive n as (
          select id, completed_on, data->>'parentId' as parent from pgboss.job
          where name = 'notify-group' and state = 'completed' and output ? 'notified'
            and jsonb_array_length(output->'notified') > 0
          order by completed_on desc limit ${WEBHOOK_TO_PLAYER_WINDOW}
        ), up(nid, done, parent, root_name, root_source, root_created, depth) as (
          select id, completed_on, parent, null::text, null::text, null::timestamptz, 0 from n
          union all
          select up.nid, up.done, j.data->>'parentId', j.name, j.data->'payload'->>'source', j.created_on,
            up.depth + 1
          from up join pgboss.job j on j.id = case when up.parent ~ ${CANONICAL_UUID} then up.parent::uuid end
          where up.depth < 10
        )
        select coalesce(root_source, 'unknown') as source,
          extract(epoch from (done - root_created))::float8 as latency from up
        where root_name = 'webhook' and (parent is null or parent = '')`.execute(db);

      const { rows: calls } = await sql<{ group_id: number; ok: number; failed: number }>`
        select (output->>'groupId')::int as group_id,
          coalesce(sum(jsonb_array_length(output->'notified')), 0)::int as ok,
          (coalesce(sum(jsonb_array_length(output->'failures')), 0) + sum(retry_count))::int as failed
        from pgboss.job
        where name = 'notify-group' and state = 'completed' and output ? 'notified'
        group by 1`.execute(db);

      const hist = (key: 'wb' | 'rb', sumKey: 'wsum' | 'rsum') => {
        const byType = new Map<string, DurationHistogram>();
        for (const r of rows) {
          const b = r[key];
          if (b === null || r.state !== null || r.lane !== null) continue;
          const h = byType.get(r.name) ?? {
            type: r.name,
            counts: new Array<number>(bounds.length + 1).fill(0),
            sum: 0,
            count: 0,
          };
          byType.set(r.name, h);
          // width_bucket: i when bounds[i-1] <= v < bounds[i]; Prometheus buckets are `le`, close enough
          // for durations measured in microseconds.
          h.counts[Math.min(b, bounds.length)] = (h.counts[Math.min(b, bounds.length)] ?? 0) + r.n;
          h.sum += r[sumKey] ?? 0;
          h.count += r.n;
        }
        return [...byType.values()];
      };
      return {
        queue: rows
          .filter((r) => r.state !== null && r.lane !== null)
          .map((r) => ({
            type: r.name,
            lane: r.lane as 'urgent' | 'bulk',
            state: r.state as string,
            n: r.n,
          })),
        wait: hist('wb', 'wsum'),
        run: hist('rb', 'rsum'),
        retries: failures
          .filter((f) => f.kind === 'retry')
          .map(({ name, code, n }) => ({ type: name, code, n })),
        webhookToPlayer: [...new Set(reach.map((r) => r.source))].map((source) =>
          bucketed(
            source,
            reach.filter((r) => r.source === source).map((r) => r.latency),
          ),
        ),
        playerCalls: calls.flatMap((c) => [
          { groupId: c.group_id, result: 'ok' as const, n: c.ok },
          { groupId: c.group_id, result: 'failed' as const, n: c.failed },
        ]),
        deadLetters: failures
          .filter((f) => f.kind === 'dead')
          .map(({ name, code, n }) => ({ type: name, code, n })),
      };
    },
  };
}

function bucketed(type: string, values: number[]): DurationHistogram {
  const counts = new Array<number>(JOB_DURATION_BUCKETS.length + 1).fill(0);
  let sum = 0;
  for (const v of values) {
    const i = JOB_DURATION_BUCKETS.findIndex((b) => v <= b);
    const at = i < 0 ? JOB_DURATION_BUCKETS.length : i;
    counts[at] = (counts[at] ?? 0) + 1;
    sum += Math.max(v, 0);
  }
  return { type, counts, sum, count: values.length };
}

export type JobMetricsReader = ReturnType<typeof createJobMetricsReader>;
