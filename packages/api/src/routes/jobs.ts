import {
  createJobControl,
  createJobReader,
  DEAD_LETTER_QUEUE,
  type DeadLetterRow,
  fromBossPriority,
  isJobName,
  JOB_COUNT_CAP,
  type JobControlResult,
  type JobRow,
  jobErrorOf,
  jobNames,
} from '@metarr/core';
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
  JobTree,
  ListQuery,
  Stats,
  StatsQuery,
  Timeline,
  TimelineQuery,
} from './jobSchemas.ts';

const ms = (d: Date | null | undefined) => (d ? new Date(d).getTime() : null);

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
    error: r.state === 'failed' || r.state === 'retry' ? jobErrorOf(r.output) : null,
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

/** The job a retry or cancel acted on, or the HTTP error saying why it did not. */
function settled(id: string, r: JobControlResult, verb: 'retried' | 'cancelled'): JobRow {
  if (r.outcome === 'done') return r.job;
  if (r.outcome === 'not-found') throw httpError(404, `job ${id} not found`);
  if (r.outcome === 'dead-letter')
    throw httpError(409, `job ${id} is a dead-letter entry; retry the job it names instead`);
  if (verb === 'retried')
    throw httpError(409, `job ${id} is ${r.state}; only failed or cancelled jobs can be retried`);
  if (r.raced) throw httpError(409, `job ${id} is no longer ${r.state}; it cannot be cancelled`);
  throw httpError(409, `job ${id} is ${r.state}; it cannot be cancelled`);
}

function checkType(type: string | undefined, allowed: readonly string[]) {
  if (type !== undefined && !allowed.includes(type))
    throw httpError(400, `querystring/type must be one of ${allowed.join(', ')}`);
}

export const jobRoutes: RoutePlugin = async (app, deps) => {
  const reader = createJobReader(deps.db);
  const control = createJobControl({ boss: deps.boss, reader });

  const deadLetters = async (q: { type?: string | undefined; limit?: number; offset?: number }) => {
    const rows = await reader.deadLetters({ type: q.type }, q);
    return rows.map((r: DeadLetterRow) => ({
      id: r.id,
      /** The job that failed for good; it stays in its own queue as `failed` and can be retried. */
      jobId: r.source_id,
      type: r.source_name,
      priority: r.source_name && isJobName(r.source_name) ? fromBossPriority(r.priority) : r.priority,
      payload: r.data?.payload ?? r.data,
      parentId: r.data?.parentId ?? null,
      error: jobErrorOf(r.source_output),
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
          'Newest first. `X-Total-Count` holds the number of matching jobs, counted up to 10,000: with more, it says 10000 and `X-Total-Count-Capped` is `true`. With `deadLetter=true` the items are dead-letter entries.',
        querystring: ListQuery,
        response: {
          200: Type.Union([Type.Array(Job), Type.Array(DeadLetter)], {
            description: 'Jobs (dead-letter entries with `deadLetter=true`)',
            headers: {
              'x-total-count': {
                type: 'integer',
                description: 'Matching jobs, up to 10,000 (not with `deadLetter`)',
              },
              'x-total-count-capped': {
                type: 'boolean',
                description: '`true` when more than 10,000 jobs match (then not counted further)',
              },
            },
          }),
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      checkType(q.type, q.deadLetter ? jobNames : JOB_TYPES);
      if (q.deadLetter) return deadLetters(q);
      const filter = {
        state: q.state,
        type: q.type,
        parentId: q.parentId,
        root: q.root,
        movieId: q.movieId,
      };
      const [rows, count] = await Promise.all([reader.list(filter, q), reader.count(filter)]);
      reply.header('x-total-count', String(Math.min(count, JOB_COUNT_CAP)));
      if (count > JOB_COUNT_CAP) reply.header('x-total-count-capped', 'true');
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
    {
      schema: {
        tags,
        summary: 'Count jobs per type and state',
        querystring: StatsQuery,
        response: { 200: Stats },
      },
    },
    async (req) => {
      return reader.stats(req.query.hours ?? 24);
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
      const rows = await reader.finishedPerMinute(minutes);
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
      const row = await reader.one(id);
      if (!row) throw httpError(404, `job ${id} not found`);
      const job = jobOut(row);
      const [children, parent] = await Promise.all([
        reader.children(id),
        job.parentId ? reader.one(job.parentId) : Promise.resolve(undefined),
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
      const lineage = await reader.lineage(id);
      if (!lineage) throw httpError(404, `job ${id} not found`);
      const { rootId, rows } = lineage;
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
      const r = await control.retry(id);
      const row = settled(id, r, 'retried');
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
      const row = settled(id, await control.cancel(id), 'cancelled');
      deps.log.info(
        { service: 'JobController', jobId: id, type: row.name, from: row.state },
        'Job cancel requested',
      );
      return reply.code(202).send({ jobId: id });
    },
  );
};
