import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../app.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
}

/** Every route the app registered, as an `onRoute` hook saw it (what the OpenAPI test checks against). */
export const registeredRoutes = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/**
 * The OpenAPI document is generated from the routes' own TypeBox schemas, so it cannot drift from
 * what the validators enforce. Must run before any route is registered.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const routes: RegisteredRoute[] = [];
  registeredRoutes.set(app, routes);
  app.addHook('onRoute', (r) => {
    // @fastify/websocket hides its routes; the feed is part of the API, so it is listed as the GET
    // that upgrades (OpenAPI 3.0 has no way to describe the messages themselves).
    if (r.websocket) {
      r.schema = {
        ...r.schema,
        hide: false,
        summary:
          'WebSocket job progress feed: upgrade with ?apikey=; server sends {event, data} JSON messages',
      } as typeof r.schema;
    }
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method, url: r.url });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Metarr',
        version: '0.1.0',
        description:
          'Webhook-driven metadata, artwork and media-server notifications for Radarr, Sonarr and Lidarr',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          apiKeyQuery: { type: 'apiKey', in: 'query', name: 'apikey' },
        },
      },
      security: [{ apiKey: [] }, { apiKeyQuery: [] }],
    },
  });
}

export const openApiRoutes: FastifyPluginAsync<AppDeps> = async (app) => {
  app.get('/api/docs/json', async () => app.swagger());
};
