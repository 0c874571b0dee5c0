/**
 * The one HTTP transport for JSON APIs: the media-server clients (Kodi, Jellyfin/Emby, Plex) and the
 * metadata providers (TMDB, fanart.tv).
 *
 * - every call is bounded: the endpoint's timeout (DEFAULT_TIMEOUT_MS; never above MAX_TIMEOUT_MS),
 *   combined with the caller's `signal`;
 * - redirects are never followed: a 3xx is a failure (it nearly always means a wrong port or TLS setting,
 *   and following it could send credentials to another host);
 * - only http and https;
 * - responses are capped in size;
 * - failures become AppErrors with a stable code (`PLAYER_…` or `PROVIDER_…`, by the endpoint's peer)
 *   and a `retryable` flag. Messages name the peer and its address, never a credential.
 */
import { type Dispatcher, request } from 'undici';
import { AppError } from '../errors.ts';
import { assertPlayerHostAllowed } from './address.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** A per-player timeout is configurable (METARR_PLAYER_TIMEOUT_SECONDS) but never unbounded. */
export const MAX_TIMEOUT_MS = 300_000;
/** Responses larger than this are refused: no media-server answer we read comes close. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export type HttpPeer = 'player' | 'provider';

export interface HttpEndpoint {
  /** The player's display name (or the provider's, e.g. `TMDB`), used in error messages. */
  name: string;
  /** Whose endpoint: error codes start with PLAYER_ or PROVIDER_. A player when absent. */
  peer?: HttpPeer;
  /** A provider's id in error details (`tmdb`); the name when absent. */
  id?: string;
  /** Larger responses are refused; MAX_RESPONSE_BYTES when absent. */
  maxResponseBytes?: number;
  /** `http(s)://host:port` plus an optional base path (no trailing slash). */
  baseUrl: string;
  /** Per-call timeout in ms (DEFAULT_TIMEOUT_MS when absent); capped at MAX_TIMEOUT_MS. */
  timeoutMs?: number;
  /** undici dispatcher; the global one when absent. */
  dispatcher?: Dispatcher;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT';
  /** Path below the base URL, starting with '/'. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Serialized as JSON with `Content-Type: application/json`. */
  json?: unknown;
  signal?: AbortSignal;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface PlayerAddress {
  host: string;
  port: number;
  useTls: boolean;
}

/**
 * `{host:'kodi.lan', port:8080, useTls:false}` → `http://kodi.lan:8080`. A host typed as a URL
 * (`https://jf.example/jellyfin`) keeps its scheme and base path; only http and https are accepted, and
 * user-info in such a URL is dropped (credentials belong in their own fields).
 */
export function playerBaseUrl(name: string, addr: PlayerAddress): string {
  const raw = addr.host.trim();
  if (raw === '') throw new AppError('PLAYER_BAD_URL', `player ${name} has no host`, { retryable: false });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch (cause) {
      throw new AppError('PLAYER_BAD_URL', `player ${name} has an invalid host URL`, {
        retryable: false,
        cause,
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AppError(
        'PLAYER_BAD_URL',
        `player ${name}: only http and https are supported, not ${url.protocol}`,
        {
          retryable: false,
        },
      );
    }
    url.username = '';
    url.password = '';
    if (!url.port && addr.port) url.port = String(addr.port);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  const bare = raw.replace(/\/+$/, '');
  const host = bare.includes(':') && !bare.startsWith('[') ? `[${bare}]` : bare;
  return `${addr.useTls ? 'https' : 'http'}://${host}:${addr.port}`;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ABORT_ERR',
]);
const TLS =
  /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/;

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
    const name = (cur as { name?: unknown }).name;
    if (name === 'TimeoutError') codes.push('ETIMEDOUT');
    if (cur instanceof AggregateError) for (const e of cur.errors) codes.push(...errorCodes(e));
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

function where(endpoint: HttpEndpoint): string {
  try {
    return new URL(endpoint.baseUrl).host;
  } catch {
    return 'an invalid address';
  }
}

/** `player Kodi` or `TMDB`, as messages name the peer. */
function who(endpoint: HttpEndpoint): string {
  return endpoint.peer === 'provider' ? endpoint.name : `player ${endpoint.name}`;
}

/** `PLAYER_TIMEOUT` or `PROVIDER_TIMEOUT`. */
function code(endpoint: HttpEndpoint, what: string): string {
  return `${endpoint.peer === 'provider' ? 'PROVIDER' : 'PLAYER'}_${what}`;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds; 1 s when absent or odd. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return 1000;
  if (/^\d+$/.test(v.trim())) return Math.min(Number(v) * 1000, 3_600_000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? 1000 : Math.max(0, Math.min(at - now, 3_600_000));
}

/** Maps a transport failure (no HTTP status) to an AppError. */
export function networkError(endpoint: HttpEndpoint, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const at = `${who(endpoint)} at ${where(endpoint)}`;
  const codes = errorCodes(err);
  const tls = codes.find((c) => TLS.test(c));
  if (tls) {
    return new AppError(
      code(endpoint, 'TLS'),
      `${at}: TLS failed (${tls}); check the TLS setting and certificate`,
      { retryable: false, cause: err },
    );
  }
  const unreachable = codes.find((c) => UNREACHABLE.has(c));
  if (unreachable) {
    return new AppError(code(endpoint, 'UNREACHABLE'), `${at} is unreachable (${unreachable})`, {
      retryable: true,
      cause: err,
    });
  }
  const reset = codes.find((c) => RESET.has(c));
  if (reset) {
    return new AppError(code(endpoint, 'CONNECTION_RESET'), `${at} closed the connection (${reset})`, {
      retryable: true,
      cause: err,
    });
  }
  if (codes.some((c) => TIMEOUT.has(c))) {
    return new AppError(code(endpoint, 'TIMEOUT'), `${at} did not answer in time`, {
      retryable: true,
      cause: err,
    });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new AppError(code(endpoint, 'NETWORK'), `${at}: ${msg}`, { retryable: true, cause: err });
}

/** Maps a non-2xx HTTP status to an AppError. */
export function statusError(
  endpoint: HttpEndpoint,
  status: number,
  headers: Record<string, string | string[] | undefined> = {},
): AppError {
  const at = `${who(endpoint)} at ${where(endpoint)}`;
  const provider = endpoint.peer === 'provider';
  const details = provider
    ? { provider: endpoint.id ?? endpoint.name, status }
    : { player: endpoint.name, status };
  if (status === 401 || status === 403) {
    const message = provider
      ? `${endpoint.name} refused the API key (HTTP ${status})`
      : `check the credentials of player ${endpoint.name}`;
    return new AppError(code(endpoint, 'AUTH'), message, { retryable: false, details });
  }
  if (status >= 300 && status < 400) {
    return new AppError(
      code(endpoint, 'REDIRECT'),
      `${at} answered with a redirect (HTTP ${status}), which is not followed; check the host, port and TLS setting`,
      { retryable: false, details },
    );
  }
  if (status >= 500) {
    const failed = provider ? `${endpoint.name} answered HTTP ${status}` : `${at} failed with HTTP ${status}`;
    return new AppError(code(endpoint, 'SERVER_ERROR'), failed, {
      retryable: true,
      details,
    });
  }
  // A provider says how long to wait; the caller waits that long without spending an attempt.
  if (status === 429 && provider) {
    return new AppError(
      code(endpoint, 'RATE_LIMITED'),
      `${endpoint.name} is rate limiting requests (HTTP 429)`,
      {
        retryable: true,
        details: { ...details, retryAfterMs: retryAfterMs(headers['retry-after']) },
      },
    );
  }
  // 408 Request Timeout and 429 Too Many Requests are about now, not about the request.
  const retry = status === 408 || status === 429;
  const refused = provider
    ? `${endpoint.name} answered HTTP ${status}`
    : `${at} refused the request with HTTP ${status}`;
  return new AppError(code(endpoint, 'HTTP_ERROR'), refused, {
    retryable: retry,
    details,
  });
}

export function buildUrl(endpoint: HttpEndpoint, path: string, query?: Record<string, string>): URL {
  let url: URL;
  try {
    url = new URL(`${endpoint.baseUrl}${path}`);
  } catch (cause) {
    throw new AppError(code(endpoint, 'BAD_URL'), `${who(endpoint)} has an invalid address`, {
      retryable: false,
      cause,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError(code(endpoint, 'BAD_URL'), `${who(endpoint)}: only http and https are supported`, {
      retryable: false,
    });
  }
  if (query) {
    // encodeURIComponent rather than URLSearchParams: spaces become %20, which every server decodes alike.
    const qs = Object.entries(query)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    if (qs) url.search = qs;
  }
  return url;
}

async function readCapped(endpoint: HttpEndpoint, body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > (endpoint.maxResponseBytes ?? MAX_RESPONSE_BYTES)) {
      body.on('error', () => {});
      body.destroy();
      throw new AppError(code(endpoint, 'BAD_RESPONSE'), `${who(endpoint)} sent an oversized response`, {
        retryable: false,
      });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One HTTP exchange. Resolves only for 2xx answers; everything else rejects with an AppError.
 */
export async function httpCall(endpoint: HttpEndpoint, call: HttpCall): Promise<HttpResult> {
  const url = buildUrl(endpoint, call.path, call.query);
  const timeoutMs = Math.max(1, Math.min(endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS));
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  const headers: Record<string, string> = { 'user-agent': 'Metarr', ...call.headers };
  let body: string | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers['content-type'] = 'application/json';
  }

  if (call.signal?.aborted) throw aborted(endpoint, call.signal.reason);
  await assertPlayerHostAllowed(endpoint.name, endpoint.baseUrl);
  try {
    const res = await request(url, {
      method: call.method,
      headers,
      body,
      signal,
      ...(endpoint.dispatcher ? { dispatcher: endpoint.dispatcher } : {}),
    });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => undefined);
      throw statusError(endpoint, res.statusCode, res.headers);
    }
    const text = await readCapped(endpoint, res.body);
    return { status: res.statusCode, headers: res.headers, text };
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (call.signal?.aborted) throw aborted(endpoint, err);
    if (timeout.aborted) {
      throw new AppError(
        code(endpoint, 'TIMEOUT'),
        `${who(endpoint)} at ${where(endpoint)} did not answer within ${timeoutMs} ms`,
        { retryable: true, cause: err },
      );
    }
    throw networkError(endpoint, err);
  }
}

function aborted(endpoint: HttpEndpoint, cause: unknown): AppError {
  return new AppError(code(endpoint, 'ABORTED'), `the request to ${who(endpoint)} was cancelled`, {
    retryable: true,
    cause,
  });
}

/** Parses a JSON body; a non-JSON answer means we are not talking to the server we think. */
export function parseJson(
  endpoint: HttpEndpoint,
  text: string,
  reviver?: (key: string, value: unknown) => unknown,
): unknown {
  try {
    return JSON.parse(text, reviver);
  } catch (cause) {
    throw new AppError(
      code(endpoint, 'BAD_RESPONSE'),
      endpoint.peer === 'provider'
        ? `${endpoint.name} at ${where(endpoint)} answered with malformed JSON`
        : `player ${endpoint.name} at ${where(endpoint)} did not answer with JSON; check the host, port and player type`,
      { retryable: false, cause },
    );
  }
}

export function basicAuth(username: string, password: string | null | undefined): string {
  return `Basic ${Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64')}`;
}
