import { DEAD_LETTER_QUEUE, fromBossPriority, isJobName, jobNames } from '@metarr/core';
import { sql } from 'kysely';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { failure } from '../schemas.ts';
import {
  Accepted,
  DeadLetter,
  DeadLetterQuery,
  Job,
  JobDetail,
  JobIdParams,
  type JobState,
  JobTree,
  ListQuery,
  Stats,
  Timeline,
  TimelineQuery,
} from './jobSchemas.ts';

interface JobRow {
  id: string;
  name: string;
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

interface DeadLetterRow extends JobRow {
  source_name: string | null;
  source_id: string | null;
  source_created_on: Date | null;
  source_retry_count: number | null;
  source_output: unknown;
}

const COLUMNS = sql`id, name, priority, data, state, retry_limit, retry_count, start_after, started_on, created_on, completed_on, output`;

const ms = (d: Date | null | undefined) => (d ? new Date(d).getTime() : null);

/** The error a failed attempt stored (the runtime's `{error, code, retryable}`, or pg-boss' own). */
function errorOf(output: unknown): string | null {
  if (!output || typeof output !== 'object') return null;
  const o = output as { error?: unknown; message?: unknown; value?: { message?: unknown } };
  if (typeof o.error === 'string') return o.error;
  if (typeof o.message === 'string') return o.message;
  if (typeof o.value?.message === 'string') return o.value.message;
  return null;
}

export function jobOut(r: JobRow) {
  const started = ms(r.started_on);
  const ready = Math.max(ms(r.created_on) ?? 0, ms(r.start_after) ?? 0);
  const completed = ms(r.completed_on);
  return {
    id: r.id,
    type: r.name,
    state: r.state,
    priority: isJobName(r.name) ? fromBossPriority(r.priority) : r.priority,
    payload: r.data?.payload ?? r.data,
    parentId: r.data?.parentId ?? null,
    output: r.output ?? null,
    error: r.state === 'failed' || r.state === 'retry' ? errorOf(r.output) : null,
    attempts: r.retry_count + (r.started_on ? 1 : 0),
    retryCount: r.retry_count,
    maxRetries: r.retry_limit,
    createdAt: r.created_on,
    startAfter: r.start_after,
    startedAt: r.started_on,
    completedAt: r.completed_on,
    waitMs: started !== null ? Math.max(0, started - ready) : null,
    durationMs: started !== null && completed !== null ? Math.max(0, completed - started) : null,
  };
}

const JOB_TYPES = [...jobNames, DEAD_LETTER_QUEUE];
const tags: Tag[] = ['Jobs'];
const notFound = { 404: failure('No job with this id') };

function checkType(type: string | undefined, allowed: readonly string[]) {
  if (type !== undefined && !allowed.includes(type))
    throw httpError(400, `querystring/type must be one of ${allowed.join(', ')}`);
}

// The walk up compares uuids, so an index on id finds each parent (`j.id::text = parent` read the
// whole table per level). Only text a uuid prints as can match, as before; anything else is no
// parent rather than a cast error.
const CANONICAL_UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** A chain longer than this is a bug (a handler enqueuing itself), not a lineage to draw. */
const MAX_TREE = 500;

export const jobRoutes: RoutePlugin = async (app, deps) => {
  const one = async (id: string) => {
    const { rows } = await sql<JobRow>`select ${COLUMNS} from pgboss.job where id = ${id}`.execute(deps.db);
    return rows[0];
  };

  const deadLetters = async (q: { type?: string | undefined; limit?: number; offset?: number }) => {
    const { rows } = await sql<DeadLetterRow>`select ${COLUMNS}, source_name, source_id, source_created_on,
        source_retry_count, source_output
      from pgboss.job where name = ${DEAD_LETTER_QUEUE}
        and (${q.type ?? null}::text is null or source_name = ${q.type ?? null})
      order by created_on desc limit ${q.limit ?? 50} offset ${q.offset ?? 0}`.execute(deps.db);
    return rows.map((r) => ({
      id: r.id,
      /** The job that failed for good; it stays in its own queue as `failed` and can be retried. */
      jobId: r.source_id,
      type: r.source_name,
      priority: r.source_name && isJobName(r.source_name) ? fromBossPriority(r.priority) : r.priority,
      payload: r.data?.payload ?? r.data,
      parentId: r.data?.parentId ?? null,
      error: errorOf(r.source_output),
      output: r.source_output ?? null,
      retryCount: r.source_retry_count,
      jobCreatedAt: r.source_created_on,
      deadLetteredAt: r.created_on,
    }));
  };

  app.get(
    '/api/jobs',
    {
      schema: {
        tags,
        summary: 'List jobs',
        description:
          'Newest first. `X-Total-Count` holds the number of matching jobs. With `deadLetter=true` the items are dead-letter entries.',
        querystring: ListQuery,
        response: {
          200: Type.Union([Type.Array(Job), Type.Array(DeadLetter)], {
            description: 'Jobs (dead-letter entries with `deadLetter=true`)',
            headers: {
              'x-total-count': { type: 'integer', description: 'Matching jobs (not with `deadLetter`)' },
            },
          }),
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      checkType(q.type, q.deadLetter ? jobNames : JOB_TYPES);
      if (q.deadLetter) return deadLetters(q);
      const state = q.state ?? null;
      const type = q.type ?? null;
      const parentId = q.parentId ?? null;
      const root = q.root ?? null;
      const where = sql`(${state}::text is null or state::text = ${state})
        and (${type}::text is null or name = ${type})
        and (${type}::text is not null or name <> ${DEAD_LETTER_QUEUE})
        and (${parentId}::text is null or data->>'parentId' = ${parentId})
        and (${root}::boolean is not true or coalesce(data->>'parentId', '') = '')`;
      const [{ rows }, { rows: count }] = await Promise.all([
        sql<JobRow>`select ${COLUMNS} from pgboss.job where ${where}
        order by created_on desc, id limit ${q.limit ?? 50} offset ${q.offset ?? 0}`.execute(deps.db),
        sql<{ n: number }>`select count(*)::int as n from pgboss.job where ${where}`.execute(deps.db),
      ]);
      reply.header('x-total-count', String(count[0]?.n ?? 0));
      return rows.map(jobOut);
    },
  );

  app.get(
    '/api/jobs/dead-letter',
    {
      schema: {
        tags,
        summary: 'List dead letters',
        description:
          'Jobs that failed for good (out of retries, or an error that retrying cannot fix), newest first. The failed job itself stays in its queue and can be retried.',
        querystring: DeadLetterQuery,
        response: { 200: Type.Array(DeadLetter) },
      },
    },
    async (req) => {
      return deadLetters(req.query);
    },
  );

  app.get(
    '/api/jobs/stats',
    { schema: { tags, summary: 'Count jobs per type and state', response: { 200: Stats } } },
    async () => {
      const { rows } = await sql<{ name: string; state: string; count: number }>`
      select name, state::text as state, count(*)::int as count from pgboss.job group by name, state order by name, state`.execute(
        deps.db,
      );
      const stats: Record<string, Record<string, number>> = {};
      for (const r of rows) {
        stats[r.name] ??= {};
        (stats[r.name] as Record<string, number>)[r.state] = r.count;
      }
      return stats;
    },
  );

  // Per type, per minute: finished jobs, failures and mean duration — what the page's sparklines draw.
  app.get(
    '/api/jobs/timeline',
    {
      schema: {
        tags,
        summary: 'Finished jobs per minute',
        description:
          'Per type and minute: finished jobs, failures and mean duration (what the jobs page draws).',
        querystring: TimelineQuery,
        response: { 200: Timeline },
      },
    },
    async (req) => {
      const minutes = req.query.minutes ?? 60;
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
      group by 1, 2`.execute(deps.db);
      const out: Record<string, { done: number[]; failed: number[]; avgMs: number[] }> = {};
      for (const r of rows) {
        out[r.name] ??= {
          done: Array(minutes).fill(0),
          failed: Array(minutes).fill(0),
          avgMs: Array(minutes).fill(0),
        };
        const series = out[r.name] as { done: number[]; failed: number[]; avgMs: number[] };
        // Oldest minute first, so the sparkline reads left to right.
        const i = minutes - 1 - Math.min(minutes - 1, Math.max(0, r.minute));
        series.done[i] = r.done;
        series.failed[i] = r.failed;
        series.avgMs[i] = Math.round(r.avg_ms);
      }
      return { minutes, types: out };
    },
  );

  app.get(
    '/api/jobs/:id',
    {
      schema: {
        tags,
        summary: 'Get a job',
        description: 'With its parent and direct children.',
        params: JobIdParams,
        response: { 200: JobDetail, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      const row = await one(id);
      if (!row) throw httpError(404, `job ${id} not found`);
      const job = jobOut(row);
      const [{ rows: children }, parent] = await Promise.all([
        sql<JobRow>`select ${COLUMNS} from pgboss.job
        where data->>'parentId' = ${id} order by created_on`.execute(deps.db),
        job.parentId ? one(job.parentId) : Promise.resolve(undefined),
      ]);
      return {
        ...job,
        parent: parent ? { id: parent.id, type: parent.name, state: parent.state } : null,
        children: children.map((c) => ({ id: c.id, type: c.name, state: c.state })),
      };
    },
  );

  // The whole lineage a job belongs to: up to its root (the webhook), then every descendant.
  app.get(
    '/api/jobs/:id/tree',
    {
      schema: {
        tags,
        summary: "Get a job's whole lineage",
        description: 'Up to its root (the webhook, usually), then every descendant; at most 500 jobs.',
        params: JobIdParams,
        response: { 200: JobTree, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      const { rows: up } = await sql<{ id: string; depth: number }>`
      with recursive up(id, parent, depth) as (
        select id, data->>'parentId', 0 from pgboss.job where id = ${id} and name <> ${DEAD_LETTER_QUEUE}
        union all
        select j.id, j.data->>'parentId', up.depth + 1 from pgboss.job j
          join up on j.id = case when up.parent ~ ${CANONICAL_UUID} then up.parent::uuid end
        where up.depth < 50 and j.name <> ${DEAD_LETTER_QUEUE}
      ) select id, depth from up order by depth desc limit 1`.execute(deps.db);
      const rootId = up[0]?.id;
      if (!rootId) throw httpError(404, `job ${id} not found`);
      const { rows } = await sql<JobRow & { depth: number }>`
      with recursive down as (
        select ${COLUMNS}, 0 as depth from pgboss.job where id = ${rootId}
        union all
        select j.id, j.name, j.priority, j.data, j.state, j.retry_limit, j.retry_count, j.start_after,
          j.started_on, j.created_on, j.completed_on, j.output, down.depth + 1
        from pgboss.job j join down on j.data->>'parentId' = down.id::text
        where down.depth < 50 and j.name <> ${DEAD_LETTER_QUEUE}
      ) select * from down order by depth, created_on limit ${MAX_TREE}`.execute(deps.db);
      type Node = ReturnType<typeof jobOut> & { children: Node[] };
      const nodes = new Map<string, Node>();
      for (const r of rows) nodes.set(r.id, { ...jobOut(r), children: [] });
      for (const n of nodes.values())
        if (n.parentId && n.id !== rootId) nodes.get(n.parentId)?.children.push(n);
      return { rootId, jobId: id, size: nodes.size, root: nodes.get(rootId) };
    },
  );

  app.post(
    '/api/jobs/:id/retry',
    {
      schema: {
        tags,
        summary: 'Retry a failed or cancelled job',
        description: 'A failed job gets one more attempt, at once; a cancelled one is queued again.',
        params: JobIdParams,
        response: {
          202: Accepted,
          ...notFound,
          409: failure('The job is neither failed nor cancelled, or is a dead-letter entry'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const row = await one(id);
      if (!row) throw httpError(404, `job ${id} not found`);
      if (row.name === DEAD_LETTER_QUEUE)
        throw httpError(409, `job ${id} is a dead-letter entry; retry the job it names instead`);
      // failed → back to `retry` with one more attempt allowed; cancelled → `created` again.
      const n =
        row.state === 'failed'
          ? await deps.boss.retry(row.name, id)
          : row.state === 'cancelled'
            ? await deps.boss.resume(row.name, id)
            : null;
      if (!n || (n as { affected?: number }).affected === 0)
        throw httpError(409, `job ${id} is ${row.state}; only failed or cancelled jobs can be retried`);
      // retry() keeps the backoff time the last failure set, and neither it nor resume() wakes a
      // worker: start now (update() NOTIFYs a notify queue when the job becomes runnable).
      await deps.boss.update(row.name, undefined, { id, startAfter: new Date() }).catch(() => {});
      deps.log.info(
        { service: 'JobController', jobId: id, type: row.name, from: row.state },
        'Job retry requested',
      );
      return reply.code(202).send({ jobId: id });
    },
  );

  app.post(
    '/api/jobs/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a job',
        description: 'Only a job that is waiting, retrying or running can be cancelled.',
        params: JobIdParams,
        response: { 202: Accepted, ...notFound, 409: failure('The job has already ended') },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const row = await one(id);
      if (!row) throw httpError(404, `job ${id} not found`);
      if (!['created', 'retry', 'active'].includes(row.state))
        throw httpError(409, `job ${id} is ${row.state}; it cannot be cancelled`);
      const n = await deps.boss.cancel(row.name, id);
      if ((n as { affected?: number }).affected === 0)
        throw httpError(409, `job ${id} is no longer ${row.state}; it cannot be cancelled`);
      deps.log.info(
        { service: 'JobController', jobId: id, type: row.name, from: row.state },
        'Job cancel requested',
      );
      return reply.code(202).send({ jobId: id });
    },
  );
};
