import websocket from '@fastify/websocket';
import type { Db, JobQueue, Logger, MetarrConfig } from '@metarr/core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import { type AuthConfig, hasApiKey, hasWebhookCredentials } from './auth.ts';
import { makeErrorHandler, routeOf } from './errors.ts';
import { FEED_MAX_MESSAGE_BYTES, type FeedOptions, feedRoutes } from './feed/routes.ts';
import { configRoutes } from './routes/config.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { movieRoutes } from './routes/movies.ts';
import { openApiRoutes, registerOpenApi } from './routes/openapi.ts';
import { pathRoutes } from './routes/paths.ts';
import { playerRoutes } from './routes/players.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { settingsRoutes } from './routes/settings.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { workerRoutes } from './routes/workers.ts';
import { uiRoutes } from './ui/routes.ts';
import { typeboxValidatorCompiler } from './validation.ts';

export interface AppDeps {
  db: Db;
  boss: PgBoss;
  queue: JobQueue;
  log: Logger;
  auth: AuthConfig;
  config: Pick<MetarrConfig, 'basePath' | 'trustProxy'> &
    Partial<Pick<MetarrConfig, 'tmdbApiKey' | 'fanartApiKey'>>;
  /** The job progress feed's dedicated LISTEN connection; without it `/api/ws` answers 503. */
  feed?: FeedOptions;
  /** Set by the feed plugin: whether its LISTEN connection is up (for `/api/health/ready`). */
  feedListening?: () => boolean;
  /** Overrides of HTTP_TIMEOUTS (tests shorten them to prove a slow client is cut). */
  timeouts?: Partial<HttpTimeouts>;
}

export interface HttpTimeouts {
  /** Whole request headers must arrive within this (slowloris). */
  headersMs: number;
  /** Whole request, body included. */
  requestMs: number;
  /** Socket idle time before it is closed. */
  idleMs: number;
  /** Kept longer than a reverse proxy's idle timeout (nginx 75 s), so the proxy closes first. */
  keepAliveMs: number;
  /** How often Node checks headersMs/requestMs on open connections. */
  checkEveryMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  idleMs: 60_000,
  keepAliveMs: 90_000,
  checkEveryMs: 2_000,
};

export type RouteAuth = 'none' | 'api' | 'webhook';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

/** A worst-case real delivery (Sonarr "import complete" of a 200-episode pack) is ~400 KiB. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const timeouts = { ...HTTP_TIMEOUTS, ...deps.timeouts };
  const app = Fastify({
    logger: false,
    bodyLimit: WEBHOOK_BODY_LIMIT,
    trustProxy: deps.config.trustProxy?.length ? deps.config.trustProxy : false,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: timeouts.checkEveryMs },
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

  // Before the auth hook: its onRequest marks upgrade requests, so a refused upgrade's socket is closed.
  await app.register(websocket, { options: { maxPayload: FEED_MAX_MESSAGE_BYTES } });
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.routeOptions.config?.auth ?? 'api';
    if (auth === 'none') return;
    const ok = auth === 'webhook' ? hasWebhookCredentials(req, deps.auth) : hasApiKey(req, deps.auth);
    if (!ok) {
      // Who knocked, never with what: the presented key or password stays out of the log.
      deps.log.warn(
        { service: 'Api', method: req.method, url: routeOf(req), ip: req.ip },
        'Unauthorized request',
      );
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

  await registerOpenApi(app, deps.config.basePath || '');
  await app.register(
    async (scope) => {
      await scope.register(healthRoutes, deps);
      await scope.register(webhookRoutes, deps);
      await scope.register(configRoutes, deps);
      await scope.register(movieRoutes, deps);
      await scope.register(jobRoutes, deps);
      await scope.register(pathRoutes, deps);
      await scope.register(scheduleRoutes, deps);
      await scope.register(settingsRoutes, deps);
      await scope.register(openApiRoutes, deps);
      await scope.register(playerRoutes, deps);
      await scope.register(workerRoutes, deps);
      await scope.register(feedRoutes, deps);
      await scope.register(uiRoutes, deps);
    },
    { prefix: deps.config.basePath || '' },
  );
  return app;
}
