import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../app.ts';

/**
 * Live worker processes, from pg-boss's instance registry in the shared database — so any API
 * replica sees every worker on any host.
 */
export const workerRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.get('/api/workers', async () => {
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
  });
};
