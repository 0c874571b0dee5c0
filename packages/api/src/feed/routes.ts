import { isJobName } from '@metarr/core';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { failure } from '../schemas.ts';
import { createFeedHub, type FeedFilter, RESYNC_EVENT } from './hub.ts';
import { startJobEventListener } from './listener.ts';

/** Tuning of the progress feed; only `databaseUrl` is required (its LISTEN connection). */
export interface FeedOptions {
  databaseUrl: string;
  /** application_name of the LISTEN connection (default `metarr-feed-<pid>`). */
  applicationName?: string;
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
}

/** Client → server messages are tiny subscribe requests; anything bigger is refused by `ws`. */
export const FEED_MAX_MESSAGE_BYTES = 4096;
const MAX_FILTER_ITEMS = 100;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const WsQuery = Type.Object({
  type: Type.Optional(
    Type.String({
      maxLength: 2000,
      description: 'Only these job types (comma-separated)',
      examples: ['webhook,publish'],
    }),
  ),
  jobId: Type.Optional(
    Type.String({
      maxLength: 4000,
      description: 'Only these jobs and their descendants (comma-separated job ids)',
    }),
  ),
});

function parseList(raw: unknown, field: string, check: (s: string) => boolean, what: string): string[] {
  if (raw === undefined) return [];
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null;
  if (!items || items.length > MAX_FILTER_ITEMS) throw httpError(400, `${field} must be a list of ${what}`);
  for (const item of items) {
    if (typeof item !== 'string' || !check(item)) throw httpError(400, `${field} must be a list of ${what}`);
  }
  return items as string[];
}

function makeFilter(types: unknown, jobIds: unknown, fields: [string, string]): FeedFilter {
  return {
    types: new Set(parseList(types, fields[0], isJobName, 'job types')),
    jobIds: new Set(parseList(jobIds, fields[1], (s) => UUID_RE.test(s), 'job ids (UUIDs)')),
  };
}
const QUERY_FIELDS: [string, string] = ['querystring/type', 'querystring/jobId'];

const defaultPort = (protocol: string) => (protocol === 'https:' || protocol === 'wss:' ? '443' : '80');

/** Whether `origin` (a parsed Origin header) names the host `host:port` as a browser would reach it. */
function sameHost(origin: URL, hostHeader: string): boolean {
  let h: URL;
  try {
    h = new URL(`${origin.protocol}//${hostHeader}`);
  } catch {
    return false;
  }
  return (
    origin.hostname.toLowerCase() === h.hostname.toLowerCase() &&
    (origin.port || defaultPort(origin.protocol)) === (h.port || defaultPort(origin.protocol))
  );
}

/**
 * Browsers always send Origin on a WebSocket upgrade: it must be this server, as configured
 * (`METARR_PUBLIC_URL`) or as the browser addressed it (the Host header this hop received). Never
 * a forwarded host: `X-Forwarded-Host` is whatever the client or an untrusted hop put there.
 * Other clients send no Origin.
 */
function originAllowed(req: FastifyRequest, publicUrl: string | undefined): boolean {
  const raw = req.headers.origin;
  if (raw === undefined) return true;
  let origin: URL;
  try {
    origin = new URL(raw);
  } catch {
    return false;
  }
  if (publicUrl) {
    const pub = new URL(publicUrl);
    if (origin.protocol === pub.protocol && sameHost(origin, pub.host)) return true;
  }
  const host = req.headers.host;
  return typeof host === 'string' && sameHost(origin, host);
}

/**
 * `GET {BASE}/api/ws` — every job lifecycle event any process publishes, as
 * `{event, data}` JSON (the shape the UI and API clients read), plus `feed:ready` on connect, `feed:down` when the LISTEN connection drops
 * and `feed:resync` once it is back (refetch: events in the gap were missed).
 */
export const feedRoutes: RoutePlugin = async (app, deps) => {
  const feed = deps.feed;
  const hub = createFeedHub({
    log: deps.log,
    ...(feed?.maxBufferedBytes !== undefined && { maxBufferedBytes: feed.maxBufferedBytes }),
    ...(feed?.pingIntervalMs !== undefined && { pingIntervalMs: feed.pingIntervalMs }),
  });
  const listener = feed
    ? startJobEventListener({
        url: feed.databaseUrl,
        log: deps.log,
        applicationName: feed.applicationName ?? `metarr-feed-${process.pid}`,
        onPayload: (p) => hub.publish(p),
        onDown: () => hub.broadcast({ event: 'feed:down', data: {} }),
        onResync: (gapMs) => hub.broadcast({ event: RESYNC_EVENT, data: { gapMs } }),
      })
    : null;
  if (listener) deps.feedListening = () => listener.listening;
  app.addHook('onClose', async () => {
    hub.close();
    await listener?.close();
  });

  app.get(
    '/api/ws',
    {
      websocket: true,
      schema: {
        tags: ['Feed'] satisfies Tag[],
        summary: 'Job progress feed (WebSocket)',
        description:
          'Upgrade to a WebSocket (browsers pass the key as `?apikey=`). The server sends `{event, data}` JSON ' +
          'messages: `job:created|started|progress|completed|failed`, and `feed:ready` on connect, `feed:down` and ' +
          '`feed:resync {gapMs}` around a lost database connection (refetch after a resync). Send ' +
          '`{"action":"subscribe","types":[…],"jobIds":[…]}` to change the filter; answers are `feed:subscribed` or ' +
          '`feed:error`.',
        querystring: WsQuery,
        response: {
          101: { description: 'Switching Protocols: the feed is open' },
          403: failure('The `Origin` header names another site'),
          404: failure('Not a WebSocket upgrade request'),
          503: failure('The feed is not configured on this server, or the database is unreachable'),
        },
      },
      preHandler: async (req) => {
        if (!originAllowed(req, deps.config.publicUrl))
          throw httpError(403, 'headers/origin must be this server');
        if (!listener) throw httpError(503, 'the job feed is not configured');
        makeFilter(req.query.type, req.query.jobId, QUERY_FIELDS);
      },
    },
    (socket, req) => {
      hub.add(socket, makeFilter(req.query.type, req.query.jobId, QUERY_FIELDS));
      socket.on('message', (raw, isBinary) => {
        let msg: { action?: unknown; types?: unknown; jobIds?: unknown };
        try {
          if (isBinary) throw new Error('binary');
          msg = JSON.parse(raw.toString());
        } catch {
          socket.send(
            JSON.stringify({ event: 'feed:error', data: { message: 'messages must be JSON text' } }),
          );
          return;
        }
        if (msg.action !== 'subscribe') {
          socket.send(
            JSON.stringify({ event: 'feed:error', data: { message: 'action must be "subscribe"' } }),
          );
          return;
        }
        try {
          const filter = makeFilter(msg.types, msg.jobIds, ['types', 'jobIds']);
          hub.setFilter(socket, filter);
          socket.send(
            JSON.stringify({
              event: 'feed:subscribed',
              data: { types: [...filter.types], jobIds: [...filter.jobIds] },
            }),
          );
        } catch (err) {
          socket.send(JSON.stringify({ event: 'feed:error', data: { message: (err as Error).message } }));
        }
      });
      socket.send(JSON.stringify({ event: 'feed:ready', data: { listening: listener?.listening ?? false } }));
    },
  );
};
