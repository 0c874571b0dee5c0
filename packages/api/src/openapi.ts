import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { RouteAuth } from './deps.ts';
import { JobNode } from './routes/jobSchemas.ts';
import { ErrorBody, failure, RETRY_AFTER } from './schemas.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
}

/** Every documented route the app registered, as an `onRoute` hook saw it (what the tests check against). */
export const registeredRoutes = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** The browsable page; the document is `${DOCS_PATH}/json` (and `/yaml`), served by the same plugin. */
export const DOCS_PATH = '/api/docs';

/** One tag per resource, in the order the page lists them. Every operation carries exactly one. */
export const TAGS = [
  { name: 'Health', description: 'Liveness and readiness, for orchestrators and proxies (no key)' },
  {
    name: 'Webhooks',
    description:
      'Deliveries from Radarr, Sonarr and Lidarr. Each is stored with its `webhook` job in one transaction before the 200; ' +
      'a Test or an event Metarr does not act on is answered 200 too, so the *arr never backs off.',
  },
  { name: 'Deliveries', description: 'Stored webhook deliveries, and replaying one as a new `webhook` job' },
  { name: 'Libraries', description: 'Root folders Metarr manages, and library scans' },
  {
    name: 'Path mappings',
    description: 'Per manager: an *arr path prefix and the Metarr path it stands for (longest prefix wins)',
  },
  {
    name: 'Player groups',
    description: 'Media servers that see a library the same way, with the path mappings to their form',
  },
  { name: 'Players', description: 'Kodi, Jellyfin, Emby and Plex servers; secrets are write-only' },
  { name: 'Paths', description: 'How a path an *arr sends maps to a library and to each group of players' },
  { name: 'Movies', description: 'Scanned movies, their stored metadata and per-field locks' },
  {
    name: 'Series',
    description:
      'Scanned TV series: seasons (0 = specials), episodes, the files holding them, placeholder state',
  },
  { name: 'Jobs', description: 'The job queue: lists, lineage, statistics, retry and cancel' },
  { name: 'Workers', description: 'Live worker processes' },
  { name: 'Schedules', description: 'Cron schedules of file scans and provider updates' },
  { name: 'Settings', description: 'Provider API keys (write-only; reads are masked)' },
  {
    name: 'Alerts',
    description:
      'Alert channels (webhook, Discord, ntfy, Apprise API), their event filters and a Test action; URLs and tokens are write-only',
  },
  { name: 'Metrics', description: 'Prometheus metrics (the key also as `Authorization: Bearer`)' },
  { name: 'Feed', description: 'The WebSocket job progress feed' },
  { name: 'Docs', description: 'This document' },
] as const;
export type Tag = (typeof TAGS)[number]['name'];

/** Methods whose requests Fastify parses a body for: each can meet a bad, too large or non-JSON body. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The statuses a route answers because of where it sits rather than what it does: the auth hook,
 * body parsing, input validation, and an unreachable database. Added to every documented route here,
 * once, so a route file declares only its own outcomes.
 */
function commonResponses(r: RouteOptions, auth: RouteAuth): Record<number, unknown> {
  const methods = Array.isArray(r.method) ? r.method : [r.method];
  const body = methods.some((m) => BODY_METHODS.has(m));
  const s = (r.schema ?? {}) as FastifySchema;
  const validated = Boolean(s.params || s.querystring || s.body || s.documentedBody);
  return {
    ...((body || validated) && {
      400: failure(
        body
          ? 'Invalid input (the message names the field), or a body that is not valid JSON'
          : 'Invalid input; the message names the field',
      ),
    }),
    ...(auth !== 'none' && {
      401: failure(
        auth === 'webhook'
          ? 'Missing or invalid API key or webhook credentials'
          : 'Missing or invalid API key',
      ),
      429: {
        ...failure(
          'Too many failed authentications from this address within a minute; retry after `Retry-After` seconds',
        ),
        headers: RETRY_AFTER,
      },
    }),
    ...(body && {
      413: failure('Body over the 1 MiB limit'),
      415: failure('Body is not `application/json`'),
    }),
    503: {
      ...failure(
        'The database is unreachable (or the server is stopping); retry after `Retry-After` seconds',
      ),
      headers: RETRY_AFTER,
    },
  };
}

/** Keys whose value is a map of names to schemas (a property named `examples` is not the keyword). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);

/**
 * OpenAPI 3.0 schemas take one `example`, not JSON Schema's `examples` list; @fastify/swagger converts
 * it only where it walks objects and arrays, so this does it everywhere (inside `anyOf` too). A copy:
 * the route's own schema keeps validating as it is.
 */
function withExample(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withExample);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'examples' && Array.isArray(value)) out.example = value[0];
    else if (SCHEMA_MAPS.has(key) && value && typeof value === 'object')
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withExample(v)]));
    else out[key] = withExample(value);
  }
  return out;
}

const SUCCESS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: queued',
  204: 'Done; no body',
};

/** A route's own responses, each with a description (copies: the schemas may be shared). */
function described(response: unknown): Record<string, unknown> {
  if (!response || typeof response !== 'object') return {};
  return Object.fromEntries(
    Object.entries(response).map(([code, schema]) => [
      code,
      (schema as { description?: string }).description
        ? schema
        : { ...schema, description: SUCCESS[code] ?? code },
    ]),
  );
}

const API_KEY: Record<string, string[]>[] = [{ apiKey: [] }, { apiKeyQuery: [] }];

/**
 * The OpenAPI document is generated from the routes' own TypeBox schemas, so it cannot drift from
 * what the validators enforce. Must run before any route is registered.
 */
export async function registerOpenApi(app: FastifyInstance, basePath = ''): Promise<void> {
  const routes: RegisteredRoute[] = [];
  registeredRoutes.set(app, routes);
  const docs = `${basePath}${DOCS_PATH}`;
  // Shared (`$ref`) schemas are added here, at the root, and nowhere else: Fastify hands a plugin that
  // adds a schema of its own the default Ajv validator instead of ours.
  for (const shared of [ErrorBody, JobNode]) app.addSchema(shared);
  app.addHook('onRoute', (r) => {
    // The browsable page's routes (@fastify/swagger-ui: the HTML shell, its initializer and script,
    // the bundled Swagger UI assets) are hidden from the document and need no key: like the jobs page
    // at `{BASE}/` they hold no data. The document itself (`/json`, `/yaml`) keeps the API key.
    if (r.url === docs || r.url.startsWith(`${docs}/`)) {
      const rest = r.url.slice(docs.length);
      if (rest !== '/json' && rest !== '/yaml') {
        r.config = { ...r.config, auth: 'none' };
        return;
      }
      const format = rest.slice(1).toUpperCase();
      r.schema = {
        ...r.schema,
        hide: false,
        tags: ['Docs'] satisfies Tag[],
        summary: `This OpenAPI document (${format})`,
        description: `Generated from the routes' own schemas. The browsable page is \`${docs}\`.`,
        response: {
          200: {
            description: `The OpenAPI 3.0 document as ${format}`,
            content: {
              [format === 'YAML' ? 'application/x-yaml' : 'application/json']: {
                schema: { type: format === 'YAML' ? 'string' : 'object' },
              },
            },
          },
        },
      };
    }
    // @fastify/websocket hides its routes; the feed is part of the API, so it is listed as the GET
    // that upgrades (OpenAPI 3.0 has no way to describe the messages themselves).
    if (r.websocket) r.schema = { ...r.schema, hide: false };
    if (r.schema?.hide) return;
    const auth = r.config?.auth ?? 'api';
    r.schema = {
      ...r.schema,
      ...(auth === 'none' && { security: [] }),
      ...(auth === 'webhook' && { security: [...API_KEY, { webhookBasic: [] }] }),
      response: { ...commonResponses(r, auth), ...described(r.schema?.response) },
    };
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method, url: r.url });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Metarr',
        version: '0.1.0',
        description:
          'Webhook-driven metadata, artwork and media-server notifications for Radarr, Sonarr and Lidarr. ' +
          'Every route needs the API key (`X-Api-Key` header or `?apikey=`) except the health checks; ' +
          'webhook routes also take HTTP Basic with the webhook credentials when those are set. ' +
          'Errors are always `{statusCode, error, message}`.',
      },
      tags: TAGS.map((t) => ({ ...t })),
      components: {
        securitySchemes: {
          apiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Api-Key',
            description:
              'The API key (printed once at first start; `pnpm metarr api-key --rotate` issues a new one)',
          },
          apiKeyQuery: {
            type: 'apiKey',
            in: 'query',
            name: 'apikey',
            description:
              'The same key as a query parameter, for clients that cannot set a header (WebSocket)',
          },
          webhookBasic: {
            type: 'http',
            scheme: 'basic',
            description:
              'Webhook routes only: `METARR_WEBHOOK_USERNAME` / `METARR_WEBHOOK_PASSWORD`, when both are set',
          },
        },
      },
      security: API_KEY,
    },
    // Shared schemas keep their own name in `components.schemas` (`Error`, not `def-0`).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform: ({ schema, url }) => {
      const { documentedBody, ...rest } = schema;
      const parts = documentedBody ? { ...rest, body: documentedBody } : rest;
      for (const part of ['body', 'querystring', 'params', 'response'] as const)
        if (parts[part] !== undefined) parts[part] = withExample(parts[part]);
      return { schema: parts, url };
    },
  });
}
