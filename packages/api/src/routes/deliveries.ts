import { getDelivery, listDeliveries, WEBHOOK_SOURCES } from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { failure, IdParams, Nullable, paging, Queued, StringEnum, Timestamp, Uuid } from '../schemas.ts';

const tags: Tag[] = ['Deliveries'];

const Source = StringEnum(WEBHOOK_SOURCES, { description: 'The *arr app that sent it' });
const DeliveryStatus = StringEnum(['queued', 'ignored', 'test'], {
  description: '`queued`: it made a `webhook` job; `ignored`: nothing to do; `test`: a Test delivery',
});

const DeliveryQuery = Type.Object({
  source: Type.Optional(Source),
  eventType: Type.Optional(Type.String({ maxLength: 100, examples: ['Download'] })),
  status: Type.Optional(DeliveryStatus),
  ...paging({ limit: 50, maxLimit: 500 }),
});

const Delivery = Type.Object({
  id: Type.Integer({ examples: [1] }),
  source: Source,
  eventType: Type.String({ examples: ['Download'] }),
  instanceName: Nullable(Type.String({ examples: ['Radarr'] })),
  status: DeliveryStatus,
  jobId: Nullable(Uuid({ description: 'Its `webhook` job' })),
  outcome: Nullable(Type.String({ description: 'Why it was ignored, or what its job made of it' })),
  receivedAt: Timestamp(),
});

export const deliveryRoutes: RoutePlugin = async (app, deps) => {
  app.get(
    '/api/webhooks/deliveries',
    {
      schema: {
        tags,
        summary: 'List webhook deliveries',
        description: 'Newest first; every request an *arr made, Tests and ignored events included.',
        querystring: DeliveryQuery,
        response: { 200: Type.Array(Delivery) },
      },
    },
    async (req) => {
      const q = req.query;
      return listDeliveries(deps.db, { ...q, limit: q.limit ?? 50, offset: q.offset ?? 0 });
    },
  );

  app.post(
    '/api/webhooks/deliveries/:id/replay',
    {
      schema: {
        tags,
        summary: 'Replay a delivery',
        description: 'Runs a stored actionable delivery again as a new `webhook` job.',
        params: IdParams,
        response: {
          202: Queued,
          404: failure('No delivery with this id'),
          409: failure('The delivery was a Test or ignored: there is nothing to replay'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const row = await getDelivery(deps.db, id);
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
