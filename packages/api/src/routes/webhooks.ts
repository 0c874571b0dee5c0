import { randomUUID } from 'node:crypto';
import { parseWebhook, type WebhookSource } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const SOURCES: WebhookSource[] = ['radarr', 'sonarr', 'lidarr'];
const MAX_DEPTH = 64;

/** Real *arr payloads nest a few levels; thousands of levels is an attack on every later parser. */
function tooDeep(value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return true;
  if (value === null || typeof value !== 'object') return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (tooDeep(v, depth + 1)) return true;
  return false;
}

const DeliveryQuery = Type.Object({
  source: Type.Optional(Type.Union(SOURCES.map((s) => Type.Literal(s)))),
  eventType: Type.Optional(Type.String({ maxLength: 100 })),
  status: Type.Optional(Type.Union([Type.Literal('queued'), Type.Literal('ignored'), Type.Literal('test')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  apikey: Type.Optional(Type.String()),
});

export const webhookRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const log = deps.log.child({ service: 'WebhookController' });

  for (const source of SOURCES) {
    app.route({
      method: ['POST', 'PUT'],
      url: `/api/webhooks/${source}`,
      config: { auth: 'webhook' },
      handler: async (req, reply) => {
        const body = req.body;
        if (body === undefined || body === null) throw httpError(400, 'body must be a JSON object');
        if (tooDeep(body)) throw httpError(400, `body must not nest deeper than ${MAX_DEPTH} levels`);
        const parsed = parseWebhook(source, body);
        if (parsed.kind === 'invalid') {
          const first = parsed.issues[0];
          log.info({ source, issues: parsed.issues.slice(0, 5) }, 'Webhook rejected');
          throw httpError(
            400,
            parsed.issues.map((i) => `body${i.path} ${i.message}`).join(', ') ||
              `body${first?.path ?? ''} is invalid`,
          );
        }
        const instanceName = parsed.instanceName ?? null;
        const json = JSON.stringify(body);

        if (parsed.kind === 'test' || parsed.kind === 'ignored') {
          await deps.db
            .insertInto('webhook_deliveries')
            .values({
              source,
              event_type: parsed.eventType,
              instance_name: instanceName,
              idempotency_key: '',
              body: json,
              status: parsed.kind === 'test' ? 'test' : 'ignored',
              outcome: parsed.kind === 'test' ? 'test received' : parsed.reason,
            })
            .execute();
          log.info(
            { source, eventType: parsed.eventType },
            parsed.kind === 'test' ? 'Webhook test received' : 'Webhook ignored',
          );
          if (parsed.kind === 'test') return { status: 'success', message: 'Test received' };
          return { status: 'ignored', message: parsed.reason, eventType: parsed.eventType };
        }

        // Durable ack: the delivery row and its `webhook` job commit together, before the 200.
        const jobId = randomUUID();
        const outcome = await deps.db.transaction().execute(async (trx) => {
          const row = await trx
            .insertInto('webhook_deliveries')
            .values({
              source,
              event_type: parsed.eventType,
              instance_name: instanceName,
              idempotency_key: parsed.idempotencyKey,
              body: json,
              status: 'queued',
              job_id: jobId,
            })
            .onConflict((oc) => oc.column('idempotency_key').where('status', '=', 'queued').doNothing())
            .returning('id')
            .executeTakeFirst();
          if (!row) {
            const first = await trx
              .selectFrom('webhook_deliveries')
              .select('job_id')
              .where('idempotency_key', '=', parsed.idempotencyKey)
              .where('status', '=', 'queued')
              .executeTakeFirst();
            return { duplicate: true as const, jobId: first?.job_id ?? null };
          }
          const job = await deps.queue.enqueue(
            'webhook',
            {
              deliveryId: String(row.id),
              source,
              eventType: parsed.eventType,
              ...(parsed.title !== undefined && { title: parsed.title.slice(0, 500) }),
            },
            { trx: trx as never, id: jobId, source: 'WebhookController' },
          );
          return { duplicate: false as const, jobId, job, deliveryId: String(row.id) };
        });

        if (outcome.duplicate) {
          log.info(
            { source, eventType: parsed.eventType, jobId: outcome.jobId },
            'Duplicate webhook delivery',
          );
          return { status: 'duplicate', message: 'Delivery already accepted', jobId: outcome.jobId };
        }
        outcome.job?.announce();
        log.info(
          { source, eventType: parsed.eventType, jobId, deliveryId: outcome.deliveryId },
          'Webhook queued',
        );
        return reply.send({ status: 'success', message: 'Webhook queued for processing', jobId });
      },
    });
  }

  app.get('/api/webhooks/deliveries', { schema: { querystring: DeliveryQuery } }, async (req) => {
    const q = req.query as {
      source?: string;
      eventType?: string;
      status?: string;
      limit?: number;
      offset?: number;
    };
    let query = deps.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'source', 'event_type', 'instance_name', 'status', 'job_id', 'outcome', 'received_at'])
      .orderBy('id', 'desc')
      .limit(q.limit ?? 50)
      .offset(q.offset ?? 0);
    if (q.source) query = query.where('source', '=', q.source as WebhookSource);
    if (q.eventType) query = query.where('event_type', '=', q.eventType);
    if (q.status) query = query.where('status', '=', q.status as 'queued');
    const rows = await query.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      source: r.source,
      eventType: r.event_type,
      instanceName: r.instance_name,
      status: r.status,
      jobId: r.job_id,
      outcome: r.outcome,
      receivedAt: r.received_at,
    }));
  });

  app.post(
    '/api/webhooks/deliveries/:id/replay',
    { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      const row = await deps.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', String(id))
        .executeTakeFirst();
      if (!row) throw httpError(404, `delivery ${id} not found`);
      if (row.status !== 'queued')
        throw httpError(409, `delivery ${id} was ${row.status}; only actionable deliveries can be replayed`);
      const job = await deps.queue.enqueue(
        'webhook',
        { deliveryId: String(row.id), source: row.source, eventType: row.event_type },
        { source: 'WebhookReplay' },
      );
      return reply.code(202).send({ jobId: job?.id ?? null });
    },
  );
};
