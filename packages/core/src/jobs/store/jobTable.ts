import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { AnyKysely } from '../events.ts';
import type { JobState } from './read.ts';

/**
 * The job table's physical side, for index tests and benchmarks: bulk synthetic rows, statistics,
 * an index's definition and partitions, sizes. Here so that they, too, leave pg-boss's schema to the
 * store. No running service calls these.
 */

/** A finished (or any-state) job row written directly, as a long-running install would have it. */
export interface SyntheticJob {
  id: string;
  name: string;
  data: unknown;
  state: JobState;
  priority?: number;
  createdOn: Date;
  startedOn?: Date | null;
  completedOn?: Date | null;
  output?: unknown;
}

/** A stable uuid for a label (the same as PostgreSQL's `md5(label)::uuid`), so rows can name each other. */
export function labelJobId(label: string): string {
  const h = createHash('md5').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Inserts the rows in chunks (one statement per chunk). */
export async function insertSyntheticJobs(db: AnyKysely, jobs: readonly SyntheticJob[], chunk = 5_000) {
  for (let i = 0; i < jobs.length; i += chunk) {
    const rows = jobs.slice(i, i + chunk).map((j) => ({
      id: j.id,
      name: j.name,
      data: j.data,
      state: j.state,
      priority: j.priority ?? 0,
      created_on: j.createdOn,
      started_on: j.startedOn ?? null,
      completed_on: j.completedOn ?? null,
      output: j.output ?? null,
    }));
    await sql`insert into pgboss.job
        (id, name, data, state, priority, created_on, start_after, started_on, completed_on, output)
      select r.id, r.name, r.data, r.state::pgboss.job_state, r.priority, r.created_on, r.created_on,
        r.started_on, r.completed_on, r.output
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, name text, data jsonb,
        state text, priority int, created_on timestamptz, started_on timestamptz,
        completed_on timestamptz, output jsonb)`.execute(db);
  }
}

/** What autovacuum does after a bulk insert: fresh planner statistics (and, with `vacuum`, the visibility map). */
export async function analyzeJobTable(db: AnyKysely, opts: { vacuum?: boolean } = {}): Promise<void> {
  await sql.raw(opts.vacuum ? 'vacuum (analyze) pgboss.job' : 'analyze pgboss.job').execute(db);
}

/** An index on the job table: its definition, and the copies on each partition attached to it. */
export async function jobIndexInfo(
  db: AnyKysely,
  indexName: string,
): Promise<{ definition: string | null; partitions: { table: string; index: string }[] }> {
  const qualified = `pgboss.${indexName}`;
  const { rows: def } = await sql<{ def: string | null }>`
    select pg_get_indexdef(to_regclass(${qualified})) as def`.execute(db);
  const { rows: partitions } = await sql<{ table: string; index: string }>`
    select t.relname as table, i.relname as index
    from pg_inherits h join pg_class i on i.oid = h.inhrelid join pg_index x on x.indexrelid = i.oid
      join pg_class t on t.oid = x.indrelid
    where h.inhparent = to_regclass(${qualified})`.execute(db);
  return { definition: def[0]?.def ?? null, partitions };
}

/** The table (partition) a queue's jobs are stored in. */
export async function queueJobTable(db: AnyKysely, queue: string): Promise<string | null> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from pgboss.queue where name = ${queue}`.execute(db);
  return rows[0]?.table_name ?? null;
}

/** Row count, the default partition's total size and an index's size (over its partitions), pretty-printed. */
export async function jobTableStats(
  db: AnyKysely,
  indexName: string,
): Promise<{ rows: number; table: string; index: string }> {
  const qualified = `pgboss.${indexName}`;
  const { rows } = await sql<{ rows: number; table: string; index: string }>`
    select (select count(*)::int from pgboss.job) as rows,
      pg_size_pretty(pg_total_relation_size('pgboss.job_common')) as table,
      (select pg_size_pretty(sum(pg_relation_size(h.inhrelid))) from pg_inherits h
        where h.inhparent = to_regclass(${qualified})) as index`.execute(db);
  return rows[0] ?? { rows: 0, table: '0 bytes', index: '0 bytes' };
}

/** Drops an index of the job table (a benchmark's baseline). */
export async function dropJobIndex(db: AnyKysely, indexName: string): Promise<void> {
  await sql`drop index if exists ${sql.id('pgboss', indexName)}`.execute(db);
}
