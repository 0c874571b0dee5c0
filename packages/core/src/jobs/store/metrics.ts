import { sql } from 'kysely';
import { DEAD_LETTER_QUEUE } from '../catalog.ts';
import type { AnyKysely } from '../events.ts';

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
}

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
        deadLetters: failures
          .filter((f) => f.kind === 'dead')
          .map(({ name, code, n }) => ({ type: name, code, n })),
      };
    },
  };
}

export type JobMetricsReader = ReturnType<typeof createJobMetricsReader>;
