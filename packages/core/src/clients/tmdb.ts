/**
 * TMDB v3 client: transport only, over the shared transport (http.ts). Every call is bounded
 * (timeout combined with the caller's signal), redirects are not followed, and failures are AppErrors:
 * - 429 → PROVIDER_RATE_LIMITED (retryable) with `details.retryAfterMs` from Retry-After;
 * - 5xx, timeouts, resets → retryable; 401/403 → PROVIDER_AUTH (permanent);
 * - a body that is not JSON → PROVIDER_BAD_RESPONSE (permanent: retrying gets the same answer).
 * The key never appears in an error message or log line.
 */
import type { Dispatcher } from 'undici';
import { AppError } from '../errors.ts';
import { type HttpEndpoint, httpCall, parseJson } from './http.ts';

export const PROVIDER_TIMEOUT_MS = 15_000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;

export interface ProviderEndpoint {
  provider: 'tmdb' | 'fanart';
  baseUrl: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
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
 * GETs JSON through the shared transport (see http.ts); every string in it goes through
 * cleanProviderText. Resolves `null` for 404 (the provider has no such record); everything else
 * non-2xx rejects.
 */
export async function providerGetJson(
  endpoint: ProviderEndpoint,
  path: string,
  query: Record<string, string>,
  opts: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<unknown | null> {
  const http: HttpEndpoint = {
    name: endpoint.provider === 'tmdb' ? 'TMDB' : 'fanart.tv',
    peer: 'provider',
    id: endpoint.provider,
    baseUrl: endpoint.baseUrl,
    timeoutMs: endpoint.timeoutMs ?? PROVIDER_TIMEOUT_MS,
    maxResponseBytes: MAX_JSON_BYTES,
    ...(endpoint.dispatcher && { dispatcher: endpoint.dispatcher }),
  };
  let text: string;
  try {
    ({ text } = await httpCall(http, {
      method: 'GET',
      path,
      query,
      headers: { accept: 'application/json', ...opts.headers },
      ...(opts.signal && { signal: opts.signal }),
    }));
  } catch (err) {
    if (err instanceof AppError && err.details?.status === 404) return null;
    throw err;
  }
  return parseJson(http, text, (_k, v) => (typeof v === 'string' ? cleanProviderText(v) : v));
}

export interface TmdbClient {
  /** `/movie/{id}` with credits, images, videos, release_dates and external_ids appended. */
  movie(tmdbId: number, opts: { language: string; signal?: AbortSignal }): Promise<unknown | null>;
  /** `/tv/{id}` with aggregate_credits, images, external_ids, content_ratings and videos appended. */
  tv(tmdbId: number, opts: { language: string; signal?: AbortSignal }): Promise<unknown | null>;
  /** `/tv/{id}/season/{n}`: every episode of the season (one call serves them all). */
  tvSeason(
    tmdbId: number,
    season: number,
    opts: { language: string; signal?: AbortSignal },
  ): Promise<unknown | null>;
  /** `/find/{tvdbId}?external_source=tvdb_id`: the TMDB series of a TVDB id (`tv_results`). */
  findByTvdb(tvdbId: number, opts: { signal?: AbortSignal }): Promise<unknown | null>;
  /** `/find/{imdbId}?external_source=imdb_id`. */
  findByImdb(imdbId: string, opts: { signal?: AbortSignal }): Promise<unknown | null>;
  /** `/search/movie?query=…&year=…`: the first page of matches. */
  searchMovies(
    query: string,
    opts: { language: string; year?: number; signal?: AbortSignal },
  ): Promise<unknown | null>;
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
    tv: (id, o) =>
      providerGetJson(
        endpoint,
        `/tv/${id}`,
        auth({
          language: o.language,
          append_to_response: 'aggregate_credits,images,external_ids,content_ratings,videos',
          include_image_language: `${o.language},null`,
        }),
        { ...(headers && { headers }), ...(o.signal && { signal: o.signal }) },
      ),
    tvSeason: (id, season, o) =>
      providerGetJson(endpoint, `/tv/${id}/season/${season}`, auth({ language: o.language }), {
        ...(headers && { headers }),
        ...(o.signal && { signal: o.signal }),
      }),
    findByTvdb: (tvdbId, o) =>
      providerGetJson(endpoint, `/find/${tvdbId}`, auth({ external_source: 'tvdb_id' }), {
        ...(headers && { headers }),
        ...(o.signal && { signal: o.signal }),
      }),
    searchMovies: (query, o) =>
      providerGetJson(
        endpoint,
        '/search/movie',
        auth({
          query,
          language: o.language,
          include_adult: 'false',
          ...(o.year !== undefined && { year: String(o.year) }),
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
