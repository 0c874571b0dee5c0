/**
 * TMDB v3 client: transport only. Every call is bounded (timeout combined with the caller's signal),
 * redirects are not followed, and failures are AppErrors:
 * - 429 → PROVIDER_RATE_LIMITED (retryable) with `details.retryAfterMs` from Retry-After;
 * - 5xx, timeouts, resets → retryable; 401/403 → PROVIDER_AUTH (permanent);
 * - a body that is not JSON → PROVIDER_BAD_RESPONSE (permanent: retrying gets the same answer).
 * The key never appears in an error message or log line.
 */
import { type Dispatcher, request } from 'undici';
import { AppError } from '../errors.ts';

export const PROVIDER_TIMEOUT_MS = 15_000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;

export interface ProviderEndpoint {
  provider: 'tmdb' | 'fanart';
  baseUrl: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds; 1 s when absent or odd. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return 1000;
  if (/^\d+$/.test(v.trim())) return Math.min(Number(v) * 1000, 3_600_000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? 1000 : Math.max(0, Math.min(at - now, 3_600_000));
}

// C0 controls except \t and \n, and DEL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose.
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Provider text as PostgreSQL and an NFO can take it: control characters removed (a NUL is refused
 * by jsonb and text, 22P05) and lone surrogates replaced (not valid UTF-8, 22021). Tabs and
 * newlines stay: plots have paragraphs.
 */
export const cleanProviderText = (s: string): string =>
  s.replace(CONTROL_CHARS, '').replace(LONE_SURROGATE, '\uFFFD');

/**
 * GETs JSON; every string in it goes through cleanProviderText. Resolves `null` for 404 (the provider has no such record); everything else non-2xx
 * rejects.
 */
export async function providerGetJson(
  endpoint: ProviderEndpoint,
  path: string,
  query: Record<string, string>,
  opts: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<unknown | null> {
  const name = endpoint.provider === 'tmdb' ? 'TMDB' : 'fanart.tv';
  const url = new URL(`${endpoint.baseUrl}${path}`);
  url.search = Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const timeout = AbortSignal.timeout(endpoint.timeoutMs ?? PROVIDER_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  if (opts.signal?.aborted) {
    throw new AppError('PROVIDER_ABORTED', `the ${name} request was cancelled`, { retryable: true });
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'Metarr', ...opts.headers },
      signal,
      ...(endpoint.dispatcher ? { dispatcher: endpoint.dispatcher } : {}),
    });
  } catch (cause) {
    if (opts.signal?.aborted) {
      throw new AppError('PROVIDER_ABORTED', `the ${name} request was cancelled`, { retryable: true, cause });
    }
    const code = timeout.aborted ? 'PROVIDER_TIMEOUT' : 'PROVIDER_NETWORK';
    const what = timeout.aborted ? 'did not answer in time' : 'could not be reached';
    throw new AppError(code, `${name} at ${url.host} ${what}`, { retryable: true, cause });
  }
  const status = res.statusCode;
  if (status === 404) {
    await res.body.dump().catch(() => undefined);
    return null;
  }
  if (status < 200 || status >= 300) {
    await res.body.dump().catch(() => undefined);
    const details = { provider: endpoint.provider, status };
    if (status === 429) {
      throw new AppError('PROVIDER_RATE_LIMITED', `${name} is rate limiting requests (HTTP 429)`, {
        retryable: true,
        details: { ...details, retryAfterMs: retryAfterMs(res.headers['retry-after']) },
      });
    }
    if (status === 401 || status === 403) {
      throw new AppError('PROVIDER_AUTH', `${name} refused the API key (HTTP ${status})`, {
        retryable: false,
        details,
      });
    }
    const retry = status >= 500 || status === 408;
    throw new AppError(
      retry ? 'PROVIDER_SERVER_ERROR' : 'PROVIDER_HTTP_ERROR',
      `${name} answered HTTP ${status}`,
      { retryable: retry, details },
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_JSON_BYTES) {
        res.body.on('error', () => {});
        res.body.destroy();
        throw new AppError('PROVIDER_BAD_RESPONSE', `${name} sent an oversized response`, {
          retryable: false,
        });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new AppError('PROVIDER_NETWORK', `${name} closed the connection mid-response`, {
      retryable: true,
      cause,
    });
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'), (_k, v) =>
      typeof v === 'string' ? cleanProviderText(v) : v,
    );
  } catch (cause) {
    throw new AppError('PROVIDER_BAD_RESPONSE', `${name} answered with malformed JSON for ${path}`, {
      retryable: false,
      cause,
    });
  }
}

export interface TmdbClient {
  /** `/movie/{id}` with credits, images, videos, release_dates and external_ids appended. */
  movie(tmdbId: number, opts: { language: string; signal?: AbortSignal }): Promise<unknown | null>;
  /** `/find/{imdbId}?external_source=imdb_id`. */
  findByImdb(imdbId: string, opts: { signal?: AbortSignal }): Promise<unknown | null>;
}

export function createTmdbClient(opts: {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}): TmdbClient {
  const endpoint: ProviderEndpoint = {
    provider: 'tmdb',
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
    ...(opts.dispatcher && { dispatcher: opts.dispatcher }),
  };
  // A v4 read access token is a JWT (three dot-separated parts); a v3 key is 32 hex characters.
  const bearer = opts.apiKey.split('.').length === 3;
  const auth = (q: Record<string, string>) => (bearer ? q : { ...q, api_key: opts.apiKey });
  const headers = bearer ? { authorization: `Bearer ${opts.apiKey}` } : undefined;
  return {
    movie: (id, o) =>
      providerGetJson(
        endpoint,
        `/movie/${id}`,
        auth({
          language: o.language,
          append_to_response: 'credits,images,videos,release_dates,external_ids',
          include_image_language: `${o.language},null`,
        }),
        { ...(headers && { headers }), ...(o.signal && { signal: o.signal }) },
      ),
    findByImdb: (imdbId, o) =>
      providerGetJson(endpoint, `/find/${encodeURIComponent(imdbId)}`, auth({ external_source: 'imdb_id' }), {
        ...(headers && { headers }),
        ...(o.signal && { signal: o.signal }),
      }),
  };
}
