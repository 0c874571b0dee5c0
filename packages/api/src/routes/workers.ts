import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import type { Tag } from '../openapi.ts';
import { Nullable, Timestamp } from '../schemas.ts';

const Worker = Type.Object({
  id: Type.String({ description: 'pg-boss instance id' }),
  host: Type.String(),
  pid: Type.Integer(),
  concurrency: Type.Integer({ description: 'Jobs of one type it may run at once (its widest subscription)' }),
  jobsInFlight: Type.Integer(),
  queues: Type.Array(Type.String(), { description: 'The queues it subscribes to' }),
  startedAt: Timestamp(),
  lastHeartbeat: Nullable(Timestamp()),
  rssBytes: Nullable(Type.Integer()),
});

/**
 * Live worker processes, from pg-boss's instance registry in the shared database — so any API
 * replica sees every worker on any host.
 */
export const workerRoutes: RoutePlugin = async (app, deps) => {
  app.get(
    '/api/workers',
    {
      schema: {
        tags: ['Workers'] satisfies Tag[],
        summary: 'List live workers',
        description: 'Every live worker process on any host, from the shared database.',
        response: { 200: Type.Array(Worker) },
      },
    },
    async () => {
      const instances = await deps.boss.getInstances();
      return instances
        .filter((i) => i.name === 'worker' && i.live)
        .map((i) => ({
          id: i.id,
          host: i.host,
          pid: i.pid,
          // Jobs of one type it may run at once (the widest queue subscription).
          concurrency: Math.max(0, ...i.workers.map((w) => w.localConcurrency * w.batchSize)),
          jobsInFlight: i.workers.reduce((n, w) => n + w.active, 0),
          queues: [...new Set(i.workers.map((w) => w.queue))].sort(),
          startedAt: i.startedOn,
          lastHeartbeat: i.heartbeatOn,
          rssBytes: i.metrics?.rss ?? null,
        }));
    },
  );
};
