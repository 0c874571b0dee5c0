/**
 * ProviderService — fetches a movie's TMDB and fanart.tv records through a Postgres cache shared by
 * every worker (TTL), under one DB-backed rate limit per provider, and records the artwork
 * candidates they offer.
 */
import { sql } from 'kysely';
import { backoffDelay } from '../async.ts';
import type { FanartClient } from '../clients/fanart.ts';
import type { TmdbClient } from '../clients/tmdb.ts';
import type { Db } from '../db/connect.ts';
import { AppError, errorCode, errorMessage, permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import { fanartMovieKey, readProviderCache, tmdbMovieKey } from '../records/providerCache.ts';
import {
  addProviderRequestCounts,
  ProviderRequestTally,
  providerOutcome,
} from '../records/providerRequests.ts';

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

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Takes one request slot of `provider`'s per-second window, waiting (never spinning) when the window
 * is full or a 429 back-off is in force. All replicas share the row, so the limit is global.
 */
export async function acquireRateSlot(
  deps: Pick<ProviderDeps, 'db' | 'sleep'>,
  provider: string,
  perSecond: number,
  signal?: AbortSignal,
): Promise<void> {
  const sleep = deps.sleep ?? sleepReal;
  for (;;) {
    if (signal?.aborted)
      throw new AppError('PROVIDER_ABORTED', 'cancelled while waiting for a rate slot', { retryable: true });
    const { rows } = await sql<{ count: number; wait_ms: number }>`
      insert into provider_rate_limits (provider, window_start, count)
      values (${provider}, date_trunc('second', clock_timestamp()), 1)
      on conflict (provider) do update set
        count = case when provider_rate_limits.window_start < date_trunc('second', clock_timestamp())
                     then 1 else provider_rate_limits.count + 1 end,
        window_start = greatest(provider_rate_limits.window_start, date_trunc('second', clock_timestamp()))
      returning count,
        greatest(
          coalesce(extract(epoch from (blocked_until - clock_timestamp())) * 1000, 0),
          case when count > ${perSecond}
               then extract(epoch from (window_start + interval '1 second' - clock_timestamp())) * 1000
               else 0 end
        )::float8 as wait_ms`.execute(deps.db);
    const wait = rows[0]?.wait_ms ?? 0;
    if (wait <= 0) return;
    await sleep(Math.min(Math.ceil(wait), 60_000));
  }
}

/** Every replica pauses this provider until `untilMs` (a 429's Retry-After). */
export async function blockProvider(db: Db, provider: string, waitMs: number): Promise<Date> {
  const until = new Date(Date.now() + waitMs);
  await db
    .insertInto('provider_rate_limits')
    .values({ provider, window_start: new Date(), count: 0, blocked_until: until })
    .onConflict((oc) =>
      oc
        .column('provider')
        .doUpdateSet({ blocked_until: sql`greatest(provider_rate_limits.blocked_until, ${until})` }),
    )
    .execute();
  return until;
}

async function withTransientRetry<T>(deps: ProviderDeps, attempts: number, fn: () => Promise<T>): Promise<T> {
  const sleep = deps.sleep ?? sleepReal;
  const random = deps.random ?? Math.random;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const transient =
        err instanceof AppError &&
        err.retryable &&
        err.code !== 'PROVIDER_RATE_LIMITED' &&
        err.code !== 'PROVIDER_ABORTED';
      if (!transient || i >= attempts) throw err;
      // Full jitter: replicas that failed together do not come back together.
      await sleep(backoffDelay(i, { baseMs: 250, jitter: 'full', random }));
    }
  }
}

interface TmdbImage {
  file_path?: string;
  width?: number;
  height?: number;
  iso_639_1?: string | null;
  vote_average?: number;
  vote_count?: number;
}
interface FanartImage {
  url?: string;
  lang?: string;
  likes?: string | number;
}

export interface Candidate {
  type: string;
  provider: 'tmdb' | 'fanart';
  url: string;
  language: string | null;
  width: number | null;
  height: number | null;
  votes: number;
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
  const out: Candidate[] = [];
  const images = (tmdb as { images?: Record<string, TmdbImage[]> } | null)?.images ?? {};
  const tmdbTypes: [string, string][] = [
    ['posters', 'poster'],
    ['backdrops', 'fanart'],
    ['logos', 'clearlogo'],
  ];
  for (const [key, type] of tmdbTypes) {
    for (const img of images[key] ?? []) {
      if (typeof img.file_path !== 'string' || !img.file_path.startsWith('/')) continue;
      out.push({
        type,
        provider: 'tmdb',
        url: `${imageBaseUrl}/original${img.file_path}`,
        language: img.iso_639_1 || null,
        width: img.width ?? null,
        height: img.height ?? null,
        votes: (img.vote_average ?? 0) * Math.log10(1 + (img.vote_count ?? 0)),
      });
    }
  }
  const f = (fanart ?? {}) as Record<string, FanartImage[] | unknown>;
  for (const [key, type] of Object.entries(FANART_TYPES)) {
    const list = f[key];
    if (!Array.isArray(list)) continue;
    for (const img of list as FanartImage[]) {
      if (typeof img.url !== 'string') continue;
      const lang = img.lang && img.lang !== '00' ? img.lang : null;
      out.push({
        type,
        provider: 'fanart',
        url: img.url,
        language: lang,
        width: null,
        height: null,
        votes: Number(img.likes ?? 0) || 0,
      });
    }
  }
  const seen = new Set<string>();
  return out.filter((c) => {
    const k = `${c.type} ${c.url}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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

  const cached = async <T>(provider: 'tmdb' | 'fanart', key: string, fetch: () => Promise<T | null>) => {
    const hit = await readProviderCache(deps.db, provider, key, { fresh: true, now });
    if (hit !== undefined) {
      result.cacheHits++;
      tally.add(provider, 'cache_hit');
      return hit as T | { notFound: true };
    }
    const body = await withTransientRetry(deps, attempts, async () => {
      await acquireRateSlot(deps, provider, provider === 'tmdb' ? opts.tmdbRateLimit : 10, opts.signal);
      result.requests[provider]++;
      try {
        const answer = await fetch();
        tally.add(provider, answer === null ? '404' : '2xx');
        return answer;
      } catch (err) {
        tally.add(provider, providerOutcome(err));
        throw err;
      }
    });
    // A 404 is cached too: asking again within the TTL would get the same answer.
    const stored = body === null ? { notFound: true } : body;
    const json = JSON.stringify(stored);
    const expires = new Date(now.getTime() + opts.ttlSeconds * 1000);
    await deps.db
      .insertInto('provider_cache')
      .values({ provider, cache_key: key, body: json, fetched_at: now, expires_at: expires })
      .onConflict((oc) =>
        oc
          .columns(['provider', 'cache_key'])
          .doUpdateSet({ body: json, fetched_at: now, expires_at: expires }),
      )
      .execute();
    return stored as T | { notFound: true };
  };
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
