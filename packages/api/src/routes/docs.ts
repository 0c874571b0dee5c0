import swaggerUi from '@fastify/swagger-ui';
import type { RoutePlugin } from '../deps.ts';
import { DOCS_PATH } from '../openapi.ts';

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

/** `{BASE}/api/docs`: Swagger UI over the generated document, with every asset served from here. */
export const docsRoutes: RoutePlugin = async (app, deps) => {
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
