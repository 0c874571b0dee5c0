import { sql } from 'kysely';
import type { AnyKysely } from '../events.ts';
import type { JobRow, JobState } from './read.ts';

/** Which jobs to look at; every field narrows (none: every job, dead letters included). */
export interface JobQuery {
  types?: readonly string[];
  notTypes?: readonly string[];
  states?: readonly JobState[];
  ids?: readonly string[];
  parentIds?: readonly string[];
  /** Only jobs retried at least once (`retry_count > 0`). */
  retried?: boolean;
  createdSince?: Date;
}

/** A job row with the columns checks look at besides the list's. */
export interface InspectedJob extends JobRow {
  singleton_key: string | null;
  source_name: string | null;
  source_id: string | null;
}

function where(q: JobQuery) {
  const arr = (v: readonly string[] | undefined) => (v ? [...v] : null);
  return sql`(${arr(q.types)}::text[] is null or name = any(${arr(q.types)}::text[]))
    and (${arr(q.notTypes)}::text[] is null or name <> all(${arr(q.notTypes)}::text[]))
    and (${arr(q.states)}::text[] is null or state::text = any(${arr(q.states)}::text[]))
    and (${arr(q.ids)}::uuid[] is null or id = any(${arr(q.ids)}::uuid[]))
    and (${arr(q.parentIds)}::text[] is null or data->>'parentId' = any(${arr(q.parentIds)}::text[]))
    and (${q.retried ?? null}::boolean is not true or retry_count > 0)
    and (${q.createdSince ?? null}::timestamptz is null or created_on >= ${q.createdSince ?? null})`;
}

/**
 * Looking at pg-boss's job table as tests, benchmarks and the soak check it: rows and counts by a
 * plain filter, so none of them writes SQL against pg-boss's schema.
 */
export function createJobInspector(db: AnyKysely) {
  return {
    /** Oldest first. */
    async rows(q: JobQuery = {}): Promise<InspectedJob[]> {
      const { rows } = await sql<InspectedJob>`select id, name, priority, data, state::text as state,
          retry_limit, retry_count, start_after, started_on, created_on, completed_on, output,
          singleton_key, source_name, source_id
        from pgboss.job where ${where(q)} order by created_on, id`.execute(db);
      return rows;
    },
    async count(q: JobQuery = {}): Promise<number> {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pgboss.job
        where ${where(q)}`.execute(db);
      return rows[0]?.n ?? 0;
    },
    /** Jobs per type and state, in one query (for polling loops that count their own queries). */
    async tally(q: JobQuery = {}): Promise<{ name: string; state: JobState; n: number }[]> {
      const { rows } = await sql<{ name: string; state: JobState; n: number }>`
        select name, state::text as state, count(*)::int as n from pgboss.job
        where ${where(q)} group by name, state`.execute(db);
      return rows;
    },
  };
}

export type JobInspector = ReturnType<typeof createJobInspector>;

/**
 * Whether a process on `host` with `pid` holds a live pg-boss instance named `name`: registered,
 * not stopped, and its heartbeat no more than three periods old (pg-boss's own rule for `live`).
 * The worker container's health check.
 */
export async function instanceLive(db: AnyKysely, name: string, host: string, pid: number): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`select 1 as one from pgboss.instance
    where name = ${name} and host = ${host} and pid = ${pid} and stopped_on is null
      and heartbeat_on >= now() - heartbeat_seconds * 3 * interval '1 second'
    limit 1`.execute(db);
  return rows.length > 0;
}
