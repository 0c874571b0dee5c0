import type { RoutePlugin } from '../deps.ts';
import type { Tag } from '../openapi.ts';

const tags: Tag[] = ['Metrics'];

export const metricsRoutes: RoutePlugin = async (app, deps) => {
  const metrics = deps.metrics;
  if (!metrics) return;
  app.get(
    '/metrics',
    {
      schema: {
        tags,
        summary: 'Prometheus metrics',
        description:
          'The Prometheus text format. Queue, job, delivery and library figures are read from the database at ' +
          'scrape time, so any replica reports every worker; process metrics and webhook ack latency are this ' +
          "replica's. The key may also come as `Authorization: Bearer <key>` (Prometheus' `authorization`).",
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_req, reply) => {
      const body = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(body);
    },
  );
};
