import type { Db, JobQueue, Logger, MetarrConfig } from '@metarr/core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import { type AuthConfig, hasApiKey, hasWebhookCredentials } from './auth.ts';
import { makeErrorHandler } from './errors.ts';
import { configRoutes } from './routes/config.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { movieRoutes } from './routes/movies.ts';
import { pathRoutes } from './routes/paths.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { typeboxValidatorCompiler } from './validation.ts';

export interface AppDeps {
  db: Db;
  boss: PgBoss;
  queue: JobQueue;
  log: Logger;
  auth: AuthConfig;
  config: Pick<MetarrConfig, 'basePath' | 'trustProxy'>;
}

export type RouteAuth = 'none' | 'api' | 'webhook';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

/** A worst-case real delivery (Sonarr "import complete" of a 200-episode pack) is ~400 KiB. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: WEBHOOK_BODY_LIMIT,
    trustProxy: deps.config.trustProxy?.length ? deps.config.trustProxy : false,
    // Longer than a reverse proxy's idle timeout (nginx 75 s), so the proxy closes first.
    keepAliveTimeout: 90_000,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(typeboxValidatorCompiler);
  // JSON only: anything else (text/plain included, which Fastify parses by default) is a 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(makeErrorHandler(deps.log));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `Route ${req.method}:${req.url.split('?')[0]} not found`,
    }),
  );

  app.addHook('onRequest', async (req, reply) => {
    const auth = req.routeOptions.config?.auth ?? 'api';
    if (auth === 'none') return;
    const ok = auth === 'webhook' ? hasWebhookCredentials(req, deps.auth) : hasApiKey(req, deps.auth);
    if (!ok) {
      if (auth === 'webhook' && deps.auth.webhookUsername)
        reply.header('www-authenticate', 'Basic realm="metarr"');
      return reply
        .code(401)
        .send({ statusCode: 401, error: 'Unauthorized', message: 'Missing or invalid API key' });
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.log.debug(
      {
        service: 'Api',
        method: req.method,
        url: req.url.split('?')[0],
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'Request',
    );
  });

  await app.register(
    async (scope) => {
      await scope.register(healthRoutes, deps);
      await scope.register(webhookRoutes, deps);
      await scope.register(configRoutes, deps);
      await scope.register(movieRoutes, deps);
      await scope.register(jobRoutes, deps);
      await scope.register(pathRoutes, deps);
    },
    { prefix: deps.config.basePath || '' },
  );
  return app;
}
