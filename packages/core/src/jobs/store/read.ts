import { sql } from 'kysely';
import { DEAD_LETTER_QUEUE } from '../catalog.ts';
import type { AnyKysely } from '../events.ts';

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** One row of pg-boss's job table, as the job list, detail and tree read it. */
export interface JobRow {
  id: string;
  name: string;
  /** pg-boss's priority (see `fromBossPriority`). */
  priority: number;
  data: { payload?: unknown; parentId?: string | null } | null;
  state: JobState;
  retry_limit: number;
  retry_count: number;
  start_after: Date;
  started_on: Date | null;
  created_on: Date;
  completed_on: Date | null;
  output: unknown;
}

/** A dead-letter entry: its own row plus the job that failed for good. */
export interface DeadLetterRow extends JobRow {
  source_name: string | null;
  source_id: string | null;
  source_created_on: Date | null;
  source_retry_count: number | null;
  source_output: unknown;
}

export interface JobFilter {
  /** One job type (default: every type but dead letters). */
  type?: string | undefined;
  state?: string | undefined;
  parentId?: string | undefined;
  /** Only jobs without a parent. */
  root?: boolean | undefined;
  /** Only these ids. */
  ids?: string[] | undefined;
  /** Only jobs whose payload names this movie (`payload.movieId`). */
  movieId?: number | undefined;
}

export interface Page {
  limit?: number | undefined;
  offset?: number | undefined;
}

const COLUMNS = sql`id, name, priority, data, state, retry_limit, retry_count, start_after, started_on, created_on, completed_on, output`;

// The walk up compares uuids, so an index on id finds each parent (`j.id::text = parent` read the
// whole table per level). Only text a uuid prints as can match; anything else is no parent rather
// than a cast error.
export const CANONICAL_UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** The job list counts matching jobs up to this many (`X-Total-Count`; more is `cap + 1`). */
export const JOB_COUNT_CAP = 10_000;

/** A chain longer than this is a bug (a handler enqueuing itself), not a lineage to draw. */
export const MAX_TREE = 500;

function where(f: JobFilter) {
  const state = f.state ?? null;
  const type = f.type ?? null;
  const parentId = f.parentId ?? null;
  const root = f.root ?? null;
  const ids = f.ids ?? null;
  const movieId = f.movieId === undefined ? null : String(f.movieId);
  // `state = $1::job_state`, not `state::text = $1`: a cast column cannot use an index.
  return sql`(${state}::text is null or state = ${state}::pgboss.job_state)
    and (${type}::text is null or name = ${type})
    and (${type}::text is not null or name <> ${DEAD_LETTER_QUEUE})
    and (${parentId}::text is null or data->>'parentId' = ${parentId})
    and (${root}::boolean is not true or coalesce(data->>'parentId', '') = '')
    and (${ids}::uuid[] is null or id = any(${ids}::uuid[]))
    and (${movieId}::text is null or data->'payload'->>'movieId' = ${movieId})`;
}

/** Reading pg-boss's job table: every query the job list, detail, tree and checks need. */
export function createJobReader(db: AnyKysely) {
  const one = async (id: string): Promise<JobRow | undefined> => {
    const { rows } = await sql<JobRow>`select ${COLUMNS} from pgboss.job where id = ${id}`.execute(db);
    return rows[0];
  };
  return {
    one,

    /** Newest first. */
    async list(f: JobFilter, page: Page = {}): Promise<JobRow[]> {
      const { rows } = await sql<JobRow>`select ${COLUMNS} from pgboss.job where ${where(f)}
        order by created_on desc, id desc limit ${page.limit ?? 50} offset ${page.offset ?? 0}`.execute(db);
      return rows;
    },

    /**
     * Matching jobs, counted up to `cap` (a million rows are not counted for a page header): the
     * exact number when there are at most `cap`, else `cap + 1`.
     */
    async count(f: JobFilter, cap = JOB_COUNT_CAP): Promise<number> {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from (select 1 from pgboss.job
        where ${where(f)} limit ${cap + 1}) matching`.execute(db);
      return rows[0]?.n ?? 0;
    },

    /** Oldest first. */
    async children(parentId: string): Promise<JobRow[]> {
      const { rows } = await sql<JobRow>`select ${COLUMNS} from pgboss.job
        where data->>'parentId' = ${parentId} order by created_on`.execute(db);
      return rows;
    },

    /** Newest first; `type` names the failed job's type. */
    async deadLetters(f: { type?: string | undefined }, page: Page = {}): Promise<DeadLetterRow[]> {
      const type = f.type ?? null;
      const { rows } = await sql<DeadLetterRow>`select ${COLUMNS}, source_name, source_id,
          source_created_on, source_retry_count, source_output
        from pgboss.job where name = ${DEAD_LETTER_QUEUE}
          and (${type}::text is null or source_name = ${type})
        order by created_on desc limit ${page.limit ?? 50} offset ${page.offset ?? 0}`.execute(db);
      return rows;
    },

    /**
     * Jobs per type and state: every waiting, active and failed job, and the completed and cancelled
     * ones created in the last `hours` (a busy install keeps a million finished jobs; counting them
     * all on each call would take half a second).
     */
    async stats(hours = 24): Promise<Record<string, Record<string, number>>> {
      const { rows } = await sql<{ name: string; state: string; count: number }>`
        select name, state::text as state, count(*)::int as count from pgboss.job
          where state in ('created', 'retry', 'active', 'failed')
          group by name, state
        union all
        select name, state::text as state, count(*)::int as count from pgboss.job
          where state in ('completed', 'cancelled') and created_on > now() - make_interval(hours => ${hours})
          group by name, state
        order by name, state`.execute(db);
      const stats: Record<string, Record<string, number>> = {};
      for (const r of rows) {
        stats[r.name] ??= {};
        (stats[r.name] as Record<string, number>)[r.state] = r.count;
      }
      return stats;
    },

    /** Per type and minute ago (0 = this minute): finished jobs, failures, mean duration. */
    async finishedPerMinute(minutes: number) {
      const { rows } = await sql<{
        name: string;
        minute: number;
        done: number;
        failed: number;
        avg_ms: number;
      }>`
        select name,
          floor(extract(epoch from (now() - completed_on)) / 60)::int as minute,
          count(*) filter (where state = 'completed')::int as done,
          count(*) filter (where state = 'failed')::int as failed,
          coalesce(avg(extract(epoch from (completed_on - started_on)) * 1000)
            filter (where started_on is not null), 0)::float8 as avg_ms
        from pgboss.job
        where completed_on > now() - make_interval(mins => ${minutes}) and name <> ${DEAD_LETTER_QUEUE}
        group by 1, 2`.execute(db);
      return rows;
    },

    /**
     * The lineage a job belongs to: its root (walking up, at most 50 levels), then every descendant
     * of the root, at most `MAX_TREE` rows, by depth. Null when the job does not exist.
     */
    async lineage(id: string): Promise<{ rootId: string; rows: (JobRow & { depth: number })[] } | null> {
      const { rows: up } = await sql<{ id: string; depth: number }>`
        with recursive up(id, parent, depth) as (
          select id, data->>'parentId', 0 from pgboss.job where id = ${id} and name <> ${DEAD_LETTER_QUEUE}
          union all
          select j.id, j.data->>'parentId', up.depth + 1 from pgboss.job j
            join up on j.id = case when up.parent ~ ${CANONICAL_UUID} then up.parent::uuid end
          where up.depth < 50 and j.name <> ${DEAD_LETTER_QUEUE}
        ) select id, depth from up order by depth desc limit 1`.execute(db);
      const rootId = up[0]?.id;
      if (!rootId) return null;
      const { rows } = await sql<JobRow & { depth: number }>`
        with recursive down as (
          select ${COLUMNS}, 0 as depth from pgboss.job where id = ${rootId}
          union all
          select j.id, j.name, j.priority, j.data, j.state, j.retry_limit, j.retry_count, j.start_after,
            j.started_on, j.created_on, j.completed_on, j.output, down.depth + 1
          from pgboss.job j join down on j.data->>'parentId' = down.id::text
          where down.depth < 50 and j.name <> ${DEAD_LETTER_QUEUE}
        ) select * from down order by depth, created_on limit ${MAX_TREE}`.execute(db);
      return { rootId, rows };
    },

    /** The state of one job of a known type, or undefined when it does not exist. */
    async state(name: string, id: string): Promise<JobState | undefined> {
      const { rows } = await sql<{ state: JobState }>`select state::text as state from pgboss.job
        where name = ${name} and id = ${id}`.execute(db);
      return rows[0]?.state;
    },

    /** Whether a job with this singleton key is created or in retry (not started): pg-boss's job_i17 index. */
    async hasWaiting(name: string, key: string): Promise<boolean> {
      const { rows } = await sql<{ one: number }>`
        select 1 as one from pgboss.job
        where name = ${name} and singleton_key = ${key} and singleton_key is not null
          and state < 'active'
        limit 1`.execute(db);
      return rows.length > 0;
    },

    /** Which of these singleton keys have a job created or in retry (`hasWaiting` for many at once). */
    async waitingKeys(name: string, keys: string[]): Promise<Set<string>> {
      if (!keys.length) return new Set();
      const { rows } = await sql<{ key: string }>`
        select distinct singleton_key as key from pgboss.job
        where name = ${name} and singleton_key = any(${keys}::text[]) and state < 'active'`.execute(db);
      return new Set(rows.map((r) => r.key));
    },

    /** The distinct values of one payload field over a type's queued, retrying or running jobs. */
    async unfinishedPayloadValues(name: string, field: string): Promise<string[]> {
      const { rows } = await sql<{ v: string }>`
        select distinct data->'payload'->>${field} as v from pgboss.job
        where name = ${name} and state in ('created', 'retry', 'active')
          and data->'payload'->>${field} is not null`.execute(db);
      return rows.map((r) => r.v);
    },
  };
}

export type JobReader = ReturnType<typeof createJobReader>;
