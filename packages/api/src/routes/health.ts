import type { FastifyReply } from 'fastify';
import { sql } from 'kysely';
import Type, { type Static } from 'typebox';
import type { AppDeps, RoutePlugin } from '../deps.ts';
import type { Tag } from '../openapi.ts';
import { RETRY_AFTER, StringEnum } from '../schemas.ts';

const tags: Tag[] = ['Health'];

const Part = (what: string) => StringEnum(['ok', 'unavailable'], { description: what });
const Health = Type.Object({
  status: Part('`ok` when every part is'),
  db: Part('PostgreSQL answers'),
  queue: Part('The job queue answers'),
});
const Ready = Type.Object({
  ...Health.properties,
  feed: StringEnum(['ok', 'reconnecting', 'disabled'], {
    description: "This replica's LISTEN connection for the job feed",
  }),
});

async function check(deps: AppDeps) {
  type State = 'ok' | 'unavailable';
  const result: { status: State; db: State; queue: State } = { status: 'ok', db: 'ok', queue: 'ok' };
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

/** A check's schema: its body both when every part is up (200) and when one is down (503). */
const probe = <T extends Type.TObject>(body: T, summary: string, description: string) => ({
  tags,
  summary,
  description,
  response: {
    200: body,
    503: Type.Object(body.properties, {
      description: 'A part is down; retry after `Retry-After` seconds',
      headers: RETRY_AFTER,
    }),
  },
});
const unavailable = (reply: FastifyReply) => reply.code(503).header('retry-after', '5');

export const healthRoutes: RoutePlugin = async (app, deps) => {
  /**
   * Readiness for orchestrators and proxies: the database, the queue and this replica's LISTEN
   * feed connection. `/api/health` keeps its documented shape; this adds `feed`.
   */
  app.get(
    '/api/health/ready',
    {
      config: { auth: 'none' },
      schema: probe(
        Ready,
        'Readiness of this replica',
        'The database, the queue and this replica’s job-feed connection.',
      ),
    },
    async (_req, reply) => {
      const base = await check(deps);
      const feed: Static<typeof Ready>['feed'] = deps.feedListening
        ? deps.feedListening()
          ? 'ok'
          : 'reconnecting'
        : 'disabled';
      const ready = base.db === 'ok' && base.queue === 'ok' && feed !== 'reconnecting';
      const body = { ...base, status: ready ? ('ok' as const) : ('unavailable' as const), feed };
      if (!ready) return unavailable(reply).send(body);
      return body;
    },
  );

  app.get(
    '/api/health',
    {
      config: { auth: 'none' },
      schema: probe(Health, 'Health', 'Whether the database and the job queue answer.'),
    },
    async (_req, reply) => {
      const result = await check(deps);
      if (result.db !== 'ok' || result.queue !== 'ok') {
        result.status = 'unavailable';
        return unavailable(reply).send(result);
      }
      return result;
    },
  );
};
