import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
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
export async function registerOpenApi(app: FastifyInstance, basePath = ''): Promise<void> {
  const routes: RegisteredRoute[] = [];
  registeredRoutes.set(app, routes);
  const docs = `${basePath}${DOCS_PATH}`;
  app.addHook('onRoute', (r) => {
    // The browsable page's routes (@fastify/swagger-ui: the HTML shell, its initializer and script,
    // the bundled Swagger UI assets) are hidden from the document and need no key: like the jobs page
    // at `{BASE}/` they hold no data. The document itself (`/json`, `/yaml`) keeps the API key.
    if (r.url === docs || r.url.startsWith(`${docs}/`)) {
      const rest = r.url.slice(docs.length);
      if (rest === '/json' || rest === '/yaml') {
        r.schema = {
          ...r.schema,
          hide: false,
          summary: `This OpenAPI document (${rest.slice(1).toUpperCase()}); the browsable page is ${docs}`,
        } as typeof r.schema;
      } else {
        r.config = { ...r.config, auth: 'none' };
        return;
      }
    }
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

/** The browsable page; the document is `${DOCS_PATH}/json` (and `/yaml`), served by the same plugin. */
export const DOCS_PATH = '/api/docs';

// Everything from this server (Swagger UI's bundle ships inside @fastify/swagger-ui: no CDN), no inline
// script, no framing; `validatorUrl: null` keeps the page from calling validator.swagger.io.
// Swagger UI injects inline styles (refused under style-src 'self' alone), hence 'unsafe-inline' for
// styles only; scripts stay 'self'.
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Runs in the browser before Swagger UI starts. The API key comes from `?apikey=` once (then kept in
 * sessionStorage under the jobs page's name and stripped from the address bar) or from a prompt; the
 * interceptors below add it to same-origin requests (the document itself and "Try it out").
 */
const DOCS_PAGE_SCRIPT = `'use strict';
(function () {
  var STORE = 'metarr.apikey';
  var url = new URL(location.href);
  var fromUrl = url.searchParams.get('apikey');
  if (fromUrl) {
    sessionStorage.setItem(STORE, fromUrl);
    url.searchParams.delete('apikey');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  function ask(message) {
    var key = (window.prompt(message) || '').trim();
    if (key) sessionStorage.setItem(STORE, key);
    return Boolean(key);
  }
  if (!sessionStorage.getItem(STORE)) {
    ask('Metarr API key (printed at first start; pnpm metarr api-key shows it again)');
  }
  window.metarrDocs = {
    request: function (req) {
      var key = sessionStorage.getItem(STORE);
      var sameOrigin = new URL(req.url, location.href).origin === location.origin;
      var headers = req.headers || {};
      var has = Object.keys(headers).some(function (h) { return h.toLowerCase() === 'x-api-key'; });
      if (key && sameOrigin && !has) {
        headers['X-Api-Key'] = key;
        req.headers = headers;
      }
      return req;
    },
    response: function (res) {
      var spec = String(res.url || '').split('?')[0].endsWith('/api/docs/json');
      if (res.status === 401 && spec) {
        sessionStorage.removeItem(STORE);
        if (ask('That API key was refused. Metarr API key:')) location.reload();
      }
      return res;
    },
  };
})();
`;

interface DocsWindow {
  metarrDocs: { request(req: unknown): unknown; response(res: unknown): unknown };
}

export const openApiRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  await app.register(async (scope) => {
    // Every response of the page and its assets (the bundled static files included) gets these.
    scope.addHook('onSend', async (_req, reply) => {
      reply
        .header('content-security-policy', DOCS_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY');
    });
    await scope.register(swaggerUi, {
      routePrefix: DOCS_PATH,
      // Asset links in the page are absolute: they need the base path the router strips off.
      indexPrefix: deps.config.basePath || '',
      uiConfig: {
        deepLinking: true,
        // Serialized into the page's initializer (Function#toString): they run in the browser.
        requestInterceptor: (req: unknown) => (globalThis as unknown as DocsWindow).metarrDocs.request(req),
        responseInterceptor: (res: unknown) => (globalThis as unknown as DocsWindow).metarrDocs.response(res),
      } as Record<string, unknown>,
      theme: {
        title: 'Metarr API',
        js: [{ filename: 'metarr-docs.js', content: DOCS_PAGE_SCRIPT }],
      },
    });
  });
};
