/**
 * Provider calls shared by the movie and TV provider services: one DB-backed rate limit per provider
 * (every replica shares the row), a 429 blocks the provider for everyone, transient failures retried
 * in-job with jittered backoff, and the shared answer cache (`provider_cache`, TTL; a 404 is cached
 * too). Outside `services/` so both services use it without calling each other.
 */
import { sql } from 'kysely';
import { backoffDelay } from './async.ts';
import type { Db } from './db/connect.ts';
import { AppError } from './errors.ts';
import { readProviderCache } from './records/providerCache.ts';
import { type ProviderRequestTally, providerOutcome } from './records/providerRequests.ts';

interface CallDeps {
  db: Db;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Takes one request slot of `provider`'s per-second window, waiting (never spinning) when the window
 * is full or a 429 back-off is in force. All replicas share the row, so the limit is global.
 */
export async function acquireRateSlot(
  deps: Pick<CallDeps, 'db' | 'sleep'>,
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

export async function withTransientRetry<T>(
  deps: CallDeps,
  attempts: number,
  fn: () => Promise<T>,
): Promise<T> {
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

/**
 * A provider answer from the shared cache when fresh, else fetched under the rate limit (with
 * in-job retries of transient failures) and cached for `ttlSeconds`. `{ notFound: true }` stands for
 * a 404. Every request's outcome and every cache hit goes into `counts.tally`.
 */
export async function cachedProviderCall<T>(
  deps: CallDeps,
  opts: {
    now: Date;
    ttlSeconds: number;
    tmdbRateLimit: number;
    attempts: number;
    signal?: AbortSignal;
    /** Ask the provider even when the cache is fresh (a placeholder recheck); the answer is cached. */
    refresh?: boolean;
  },
  counts: {
    tally: ProviderRequestTally;
    counts: { requests: { tmdb: number; fanart: number }; cacheHits: number };
  },
  provider: 'tmdb' | 'fanart',
  key: string,
  fetch: () => Promise<T | null>,
): Promise<T | { notFound: true }> {
  const { tally } = counts;
  const hit = opts.refresh
    ? undefined
    : await readProviderCache(deps.db, provider, key, { fresh: true, now: opts.now });
  if (hit !== undefined) {
    counts.counts.cacheHits++;
    tally.add(provider, 'cache_hit');
    return hit as T | { notFound: true };
  }
  const body = await withTransientRetry(deps, opts.attempts, async () => {
    await acquireRateSlot(deps, provider, provider === 'tmdb' ? opts.tmdbRateLimit : 10, opts.signal);
    counts.counts.requests[provider]++;
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
  const expires = new Date(opts.now.getTime() + opts.ttlSeconds * 1000);
  await deps.db
    .insertInto('provider_cache')
    .values({ provider, cache_key: key, body: json, fetched_at: opts.now, expires_at: expires })
    .onConflict((oc) =>
      oc
        .columns(['provider', 'cache_key'])
        .doUpdateSet({ body: json, fetched_at: opts.now, expires_at: expires }),
    )
    .execute();
  return stored as T | { notFound: true };
}
