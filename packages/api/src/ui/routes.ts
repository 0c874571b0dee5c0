import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import type { RoutePlugin } from '../deps.ts';

const DIR = import.meta.dirname;
const read = (name: string) => readFileSync(path.join(DIR, name), 'utf8');

// Scripts and styles only from this server, no inline code, no plugins, no framing: even if some
// text slipped through unescaped it could not run.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply, type: string) {
  return reply
    .type(type)
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache');
}

/**
 * The jobs page at `{BASE}/`: plain HTML, CSS and JS read once at start, no build step. The page
 * holds no data; it asks for the API key and reads everything through the REST API and `/api/ws`.
 */
export const uiRoutes: RoutePlugin = async (app, deps) => {
  // A page, not an API operation: hidden from the document, and it needs no key (it holds no data).
  const page = { config: { auth: 'none' as const }, schema: { hide: true } };
  // The base path is validated by config to `/segment` characters, so it is safe in an attribute.
  const base = deps.config.basePath || '';
  const html = read('index.html').replaceAll('{{BASE}}', base);
  const js = read('app.js');
  const css = read('style.css');

  app.get('/', page, async (_req, reply) => secure(reply, 'text/html; charset=utf-8').send(html));
  app.get('/ui/app.js', page, async (_req, reply) =>
    secure(reply, 'text/javascript; charset=utf-8').send(js),
  );
  app.get('/ui/style.css', page, async (_req, reply) => secure(reply, 'text/css; charset=utf-8').send(css));
};
