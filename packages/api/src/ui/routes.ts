import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/**
 * The web app's pages: the same policy, except images. Published images come from the API with the
 * key header and are shown from `blob:` object URLs; artwork candidates and identify matches are the
 * providers' own image URLs (https, or the configured TMDB image host). Images cannot run script.
 */
function appCsp(imageOrigins: string[]): string {
  const img = ["'self'", 'data:', 'blob:', 'https:', ...imageOrigins].join(' ');
  return CSP.replace("img-src 'self' data:", `img-src ${img}`);
}

/** The built web app (packages/web/dist, made by `pnpm start`/`pnpm test` when missing or stale). */
export const WEB_DIST = path.resolve(DIR, '..', '..', '..', 'web', 'dist');

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

function secure(reply: FastifyReply, type: string, csp = CSP) {
  return reply
    .type(type)
    .header('content-security-policy', csp)
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

  // The web app: index.html for each of its client-side routes (history fallback), its hashed assets
  // under `/app/assets/`. Read from disk when changed, so a rebuild needs no API restart.
  const imageOrigins: string[] = [];
  if (deps.tmdb?.imageBaseUrl) {
    const origin = new URL(deps.tmdb.imageBaseUrl).origin;
    if (origin.startsWith('http:')) imageOrigins.push(origin);
  }
  const csp = appCsp(imageOrigins);
  let cached: { mtimeMs: number; html: string } | null = null;
  const appHtml = () => {
    const file = path.join(WEB_DIST, 'index.html');
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return null;
    }
    if (cached?.mtimeMs !== mtimeMs)
      cached = {
        mtimeMs,
        html: readFileSync(file, 'utf8')
          .replaceAll('{{BASE}}', base)
          .replaceAll('"./assets/', `"${base}/app/assets/`),
      };
    return cached.html;
  };
  const serveApp = async (_req: unknown, reply: FastifyReply) => {
    const html = appHtml();
    if (html === null)
      return secure(reply, 'text/plain; charset=utf-8')
        .code(503)
        .send('The web app is not built: run `pnpm start` (or `pnpm --filter @metarr/web build`).');
    return secure(reply, 'text/html; charset=utf-8', csp).send(html);
  };
  app.get('/movies', page, serveApp);
  app.get('/movies/*', page, serveApp);
  app.get('/series', page, serveApp);
  app.get('/series/*', page, serveApp);
  app.get('/settings', page, serveApp);
  app.get('/setup', page, serveApp);
  app.get<{ Params: { file: string } }>('/app/assets/:file', page, async (req, reply) => {
    const { file } = req.params;
    const type = ASSET_TYPES[path.extname(file)];
    // Vite's hashed file names only: no path separators, no dot files.
    if (!type || !/^[\w.-]+$/.test(file) || file.startsWith('.'))
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'no such asset' });
    const body = await readFile(path.join(WEB_DIST, 'assets', file)).catch(() => null);
    if (!body) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'no such asset' });
    return secure(reply, type, csp).header('cache-control', 'public, max-age=31536000, immutable').send(body);
  });
};
