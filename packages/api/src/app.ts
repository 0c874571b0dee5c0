import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { createKeyCheck } from './auth.ts';
import { AUTH_LIMIT, createAuthLimiter } from './authLimit.ts';
import { type AppDeps, HTTP_TIMEOUTS, WEBHOOK_BODY_LIMIT } from './deps.ts';
import { makeErrorHandler, routeOf } from './errors.ts';
import { FEED_MAX_MESSAGE_BYTES } from './feed/routes.ts';
import { createApiMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { routePlugins } from './routes/index.ts';
import { jsonSerializerCompiler, typeboxValidatorCompiler } from './validation.ts';

export async function buildApp(given: AppDeps): Promise<FastifyInstance> {
  const deps: AppDeps = { ...given, metrics: given.metrics ?? createApiMetrics(given.db) };
  const webhookAck = deps.metrics?.webhookAck;
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
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.setSerializerCompiler(jsonSerializerCompiler);
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
  const keyCheck = createKeyCheck(deps.db, deps.auth);
  const limiter = createAuthLimiter(deps.log, { ...AUTH_LIMIT, ...deps.authLimit });
  app.addHook('onClose', async () => limiter.close());
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.routeOptions.config?.auth ?? 'api';
    if (auth === 'none') return;
    const wait = limiter.blockedFor(req.ip);
    if (wait > 0) {
      return reply
        .code(429)
        .header('retry-after', String(wait))
        .send({
          statusCode: 429,
          error: 'Too Many Requests',
          message: `Too many failed authentications from this address; retry after ${wait} s`,
        });
    }
    const ok = auth === 'webhook' ? await keyCheck.webhookOk(req) : await keyCheck.apiKeyOk(req);
    if (!ok) {
      // Who knocked, never with what: the presented key or password stays out of the log.
      limiter.failed(req.ip, req.method, routeOf(req));
      if (auth === 'webhook' && deps.auth.webhookUsername)
        reply.header('www-authenticate', 'Basic realm="metarr"');
      return reply
        .code(401)
        .send({ statusCode: 401, error: 'Unauthorized', message: 'Missing or invalid API key' });
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.config?.auth === 'webhook' && reply.statusCode < 300) {
      const source = req.routeOptions.url?.split('/').pop() ?? 'unknown';
      webhookAck?.observe({ source }, reply.elapsedTime / 1000);
    }
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
      for (const plugin of routePlugins) await scope.register(plugin, deps);
    },
    { prefix: deps.config.basePath || '' },
  );
  return app;
}
