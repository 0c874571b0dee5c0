import { fromBossPriority, isJobName } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

interface JobRow {
  id: string;
  name: string;
  priority: number;
  data: { payload?: unknown; parentId?: string | null } | null;
  state: string;
  retry_limit: number;
  retry_count: number;
  start_after: Date;
  started_on: Date | null;
  created_on: Date;
  completed_on: Date | null;
  output: unknown;
}

const COLUMNS = sql`id, name, priority, data, state, retry_limit, retry_count, start_after, started_on, created_on, completed_on, output`;

export function jobOut(r: JobRow) {
  return {
    id: r.id,
    type: r.name,
    state: r.state,
    priority: isJobName(r.name) ? fromBossPriority(r.priority) : r.priority,
    payload: r.data?.payload ?? r.data,
    parentId: r.data?.parentId ?? null,
    output: r.output ?? null,
    attempts: r.retry_count + (r.started_on ? 1 : 0),
    retryCount: r.retry_count,
    maxRetries: r.retry_limit,
    createdAt: r.created_on,
    startAfter: r.start_after,
    startedAt: r.started_on,
    completedAt: r.completed_on,
  };
}

const UUID = Type.String({ pattern: '^[0-9a-fA-F-]{36}$' });
const STATES = ['created', 'retry', 'active', 'completed', 'failed', 'cancelled'] as const;
const ListQuery = Type.Object({
  state: Type.Optional(Type.Union(STATES.map((s) => Type.Literal(s)))),
  type: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  apikey: Type.Optional(Type.String()),
});

export const jobRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const one = async (id: string) => {
    const { rows } = await sql<JobRow>`select ${COLUMNS} from pgboss.job where id = ${id}`.execute(deps.db);
    return rows[0];
  };

  app.get('/api/jobs', { schema: { querystring: ListQuery } }, async (req) => {
    const q = req.query as Type.Static<typeof ListQuery>;
    const { rows } = await sql<JobRow>`select ${COLUMNS} from pgboss.job
      where (${q.state ?? null}::text is null or state::text = ${q.state ?? null})
        and (${q.type ?? null}::text is null or name = ${q.type ?? null})
      order by created_on desc limit ${q.limit ?? 50} offset ${q.offset ?? 0}`.execute(deps.db);
    return rows.map(jobOut);
  });

  app.get('/api/jobs/stats', async () => {
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
  });

  app.get('/api/jobs/:id', { schema: { params: Type.Object({ id: UUID }) } }, async (req) => {
    const { id } = req.params as { id: string };
    const row = await one(id);
    if (!row) throw httpError(404, `job ${id} not found`);
    const { rows: children } = await sql<JobRow>`select ${COLUMNS} from pgboss.job
      where data->>'parentId' = ${id} order by created_on`.execute(deps.db);
    return { ...jobOut(row), children: children.map((c) => ({ id: c.id, type: c.name, state: c.state })) };
  });

  app.post('/api/jobs/:id/retry', { schema: { params: Type.Object({ id: UUID }) } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const row = await one(id);
    if (!row) throw httpError(404, `job ${id} not found`);
    if (row.state !== 'failed' && row.state !== 'cancelled')
      throw httpError(409, `job ${id} is ${row.state}; only failed or cancelled jobs can be retried`);
    await deps.boss.retry(row.name, id);
    return reply.code(202).send({ jobId: id });
  });

  app.post('/api/jobs/:id/cancel', { schema: { params: Type.Object({ id: UUID }) } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const row = await one(id);
    if (!row) throw httpError(404, `job ${id} not found`);
    if (!['created', 'retry', 'active'].includes(row.state))
      throw httpError(409, `job ${id} is ${row.state}; it cannot be cancelled`);
    await deps.boss.cancel(row.name, id);
    return reply.code(202).send({ jobId: id });
  });
};
