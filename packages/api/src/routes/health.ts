import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';

export const healthRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.get('/api/health', { config: { auth: 'none' } }, async (_req, reply) => {
    const result = { status: 'ok', db: 'ok', queue: 'ok' };
    try {
      await sql`select 1`.execute(deps.db);
    } catch {
      result.db = 'unavailable';
    }
    try {
      if (result.db !== 'ok') throw new Error('db down');
      await deps.boss.getQueue('webhook');
    } catch {
      result.queue = 'unavailable';
    }
    if (result.db !== 'ok' || result.queue !== 'ok') {
      result.status = 'unavailable';
      return reply.code(503).header('retry-after', '5').send(result);
    }
    return result;
  });
};
