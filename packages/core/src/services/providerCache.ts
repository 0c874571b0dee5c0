/**
 * ProviderService — fetches a movie's TMDB and fanart.tv records through a Postgres cache shared by
 * every worker (TTL), under one DB-backed rate limit per provider, and records the artwork
 * candidates they offer.
 */

import { type Candidate, fanartImageCandidates, tmdbImageCandidates, uniqueCandidates } from '../artwork.ts';
import type { FanartClient } from '../clients/fanart.ts';
import type { TmdbClient } from '../clients/tmdb.ts';
import type { Db } from '../db/connect.ts';
import { errorCode, errorMessage, permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import { cachedProviderCall } from '../providerCalls.ts';
import { fanartMovieKey, tmdbMovieKey } from '../records/providerCache.ts';
import { addProviderRequestCounts, ProviderRequestTally } from '../records/providerRequests.ts';

export type { Candidate } from '../artwork.ts';
export { acquireRateSlot, blockProvider } from '../providerCalls.ts';

export interface ProviderDeps {
  db: Db;
  log: Logger;
  tmdb: TmdbClient;
  fanart: FanartClient | null;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** The job attempt's write fence for the movie's rows (the shared cache needs none). */
  fence?: Fence;
}

export interface ProviderOptions {
  language: string;
  ttlSeconds: number;
  tmdbRateLimit: number;
  /** TMDB image root (`…/t/p`); candidates get `<root>/original<file_path>`. */
  tmdbImageBaseUrl: string;
  signal?: AbortSignal;
  /** In-job attempts for 5xx/timeouts before the job's own retry takes over. */
  transientAttempts?: number;
}

export interface ProviderFetchResult {
  movieId: number;
  tmdbId: number | null;
  skipped?: string;
  requests: { tmdb: number; fanart: number };
  cacheHits: number;
  candidates: number;
}

const FANART_TYPES: Record<string, string> = {
  movieposter: 'poster',
  moviebackground: 'fanart',
  hdmovielogo: 'clearlogo',
  movielogo: 'clearlogo',
  hdmovieclearart: 'clearart',
  movieart: 'clearart',
  moviebanner: 'banner',
  moviethumb: 'landscape',
  moviedisc: 'discart',
};

/** The artwork candidates in a TMDB movie record and a fanart.tv movie record. */
export function candidatesFrom(tmdb: unknown, fanart: unknown, imageBaseUrl: string): Candidate[] {
  return uniqueCandidates([
    ...tmdbImageCandidates(tmdb, imageBaseUrl),
    ...fanartImageCandidates(fanart, FANART_TYPES).map(({ season: _, ...c }) => c),
  ]);
}

/**
 * A movie's provider records (from the shared cache when fresh) and its artwork candidates. Every
 * request's outcome, and every cache hit, is added to the shared counters `/metrics` reports, also
 * when the fetch fails.
 */
export async function fetchProviderData(
  deps: ProviderDeps,
  movieId: number,
  opts: ProviderOptions,
): Promise<ProviderFetchResult> {
  const tally = new ProviderRequestTally();
  try {
    return await fetchTallied(deps, movieId, opts, tally);
  } finally {
    // Counting must never turn a fetch that worked into a failed job.
    await addProviderRequestCounts(deps.db, tally).catch((err: unknown) =>
      deps.log.warn(
        { service: 'ProviderService', code: errorCode(err), error: errorMessage(err) },
        'Provider request counts could not be recorded',
      ),
    );
  }
}

async function fetchTallied(
  deps: ProviderDeps,
  movieId: number,
  opts: ProviderOptions,
  tally: ProviderRequestTally,
): Promise<ProviderFetchResult> {
  const log = deps.log.child({ service: 'ProviderService', operation: 'fetchProviderData', movieId });
  const now = (deps.clock ?? (() => new Date()))();
  const attempts = opts.transientAttempts ?? 3;
  const result: ProviderFetchResult = {
    movieId,
    tmdbId: null,
    requests: { tmdb: 0, fanart: 0 },
    cacheHits: 0,
    candidates: 0,
  };
  const movie = await deps.db.selectFrom('movies').selectAll().where('id', '=', movieId).executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);

  const cached = <T>(provider: 'tmdb' | 'fanart', key: string, fetch: () => Promise<T | null>) =>
    cachedProviderCall<T>(deps, { ...opts, now, attempts }, { tally, counts: result }, provider, key, fetch);
  const signal = opts.signal ? { signal: opts.signal } : {};

  let tmdbId = movie.tmdb_id;
  if (tmdbId === null && movie.imdb_id) {
    const found = await cached<{ movie_results?: { id?: number }[] }>(
      'tmdb',
      `find:${movie.imdb_id}`,
      () =>
        deps.tmdb.findByImdb(movie.imdb_id as string, signal) as Promise<{
          movie_results?: { id?: number }[];
        } | null>,
    );
    const id = 'movie_results' in found ? found.movie_results?.[0]?.id : undefined;
    if (typeof id === 'number') {
      tmdbId = id;
      await fencedWrite(deps.db, deps.fence, (trx) =>
        trx.updateTable('movies').set({ tmdb_id: id }).where('id', '=', movieId).execute(),
      );
    }
  }
  if (tmdbId === null) {
    log.warn({ imdbId: movie.imdb_id }, 'Movie has no TMDB id and none could be found; skipping providers');
    return { ...result, skipped: 'the movie has no TMDB id and TMDB knows none for its IMDb id' };
  }
  result.tmdbId = tmdbId;
  const id = tmdbId;
  // fanart.tv is keyed by the TMDB id too: both are asked at once (one round trip, not two), and
  // both settle before anything is decided, so every request is counted.
  const fanartClient = deps.fanart;
  const [tmdbAnswer, fanartAnswer] = await Promise.allSettled([
    cached('tmdb', tmdbMovieKey(id, opts.language), () =>
      deps.tmdb.movie(id, { language: opts.language, ...signal }),
    ),
    fanartClient ? cached('fanart', fanartMovieKey(id), () => fanartClient.movie(id, signal)) : null,
  ]);
  if (tmdbAnswer.status === 'rejected') throw tmdbAnswer.reason;
  const tmdb = tmdbAnswer.value;
  if (tmdb && typeof tmdb === 'object' && 'notFound' in tmdb) {
    throw permanent('TMDB_MOVIE_NOT_FOUND', `TMDB has no movie ${id}`);
  }
  if (!tmdb || typeof tmdb !== 'object' || (tmdb as { id?: unknown }).id !== id) {
    throw permanent('PROVIDER_BAD_RESPONSE', `TMDB's answer for movie ${id} is not a movie record`);
  }
  if (fanartAnswer.status === 'rejected') throw fanartAnswer.reason;
  const fanart = fanartAnswer.value;

  const candidates = candidatesFrom(
    tmdb,
    fanart && !('notFound' in (fanart as object)) ? fanart : null,
    opts.tmdbImageBaseUrl,
  );
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    // Rank and selection are select-assets' to set; a refresh keeps the rows it already scored.
    const urls = candidates.map((c) => c.url);
    let del = trx.deleteFrom('movie_asset_candidates').where('movie_id', '=', movieId);
    if (urls.length) del = del.where('url', 'not in', urls);
    await del.execute();
    if (candidates.length) {
      await trx
        .insertInto('movie_asset_candidates')
        .values(candidates.map((c) => ({ movie_id: movieId, ...c })))
        .onConflict((oc) =>
          oc.columns(['movie_id', 'type', 'url']).doUpdateSet((eb) => ({
            language: eb.ref('excluded.language'),
            width: eb.ref('excluded.width'),
            height: eb.ref('excluded.height'),
            votes: eb.ref('excluded.votes'),
          })),
        )
        .execute();
    }
  });
  result.candidates = candidates.length;
  log.info(
    { tmdbId: id, requests: result.requests, cacheHits: result.cacheHits, candidates: candidates.length },
    'Provider data fetched',
  );
  return result;
}
