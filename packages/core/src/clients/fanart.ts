/** fanart.tv v3 client: transport only (see tmdb.ts for the error mapping). */
import type { Dispatcher } from 'undici';
import { providerGetJson } from './tmdb.ts';

export interface FanartClient {
  /** `/movies/{tmdbId}`; null when fanart.tv has no artwork for the movie. */
  movie(tmdbId: number, opts: { signal?: AbortSignal }): Promise<unknown | null>;
  /** `/tv/{tvdbId}` (fanart.tv keys shows by TVDB id); null when it has no artwork for the show. */
  tv(tvdbId: number, opts: { signal?: AbortSignal }): Promise<unknown | null>;
}

export function createFanartClient(opts: {
  baseUrl: string;
  apiKey: string;
  /** A user's personal key: fanart.tv then serves newer images sooner. */
  clientKey?: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}): FanartClient {
  const endpoint = {
    provider: 'fanart' as const,
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
    ...(opts.dispatcher && { dispatcher: opts.dispatcher }),
  };
  const get = (path: string, o: { signal?: AbortSignal }) =>
    providerGetJson(
      endpoint,
      path,
      { api_key: opts.apiKey, ...(opts.clientKey && { client_key: opts.clientKey }) },
      o.signal ? { signal: o.signal } : {},
    );
  return {
    movie: (tmdbId, o) => get(`/movies/${tmdbId}`, o),
    tv: (tvdbId, o) => get(`/tv/${tvdbId}`, o),
  };
}
