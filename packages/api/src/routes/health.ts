import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';

async function check(deps: AppDeps) {
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
  return result;
}

export const healthRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  /**
   * Readiness for orchestrators and proxies: the database, the queue and this replica's LISTEN
   * feed connection. `/api/health` keeps CONTRACT's exact shape; this adds `feed`.
   */
  app.get('/api/health/ready', { config: { auth: 'none' } }, async (_req, reply) => {
    const base = await check(deps);
    const feed = deps.feedListening ? (deps.feedListening() ? 'ok' : 'reconnecting') : 'disabled';
    const ready = base.db === 'ok' && base.queue === 'ok' && feed !== 'reconnecting';
    const body = { ...base, status: ready ? 'ok' : 'unavailable', feed };
    if (!ready) return reply.code(503).header('retry-after', '5').send(body);
    return body;
  });

  app.get('/api/health', { config: { auth: 'none' } }, async (_req, reply) => {
    const result = await check(deps);
    if (result.db !== 'ok' || result.queue !== 'ok') {
      result.status = 'unavailable';
      return reply.code(503).header('retry-after', '5').send(result);
    }
    return result;
  });
};
