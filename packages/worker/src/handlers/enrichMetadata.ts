import {
  AppError,
  blockProvider,
  enrichMovieMetadata,
  enrichSeries,
  mediaItemOf,
  permanent,
} from '@metarr/core';
import type { HandlerDeps, JobContext, JobHandler, JobOutput } from '../context.ts';
import { providersFor } from './providers.ts';

/**
 * Works on a media item (`{kind, id}`; an old `{movieId}` payload is a movie). A movie's metadata
 * comes from the records fetch-provider-assets stored, then select-assets follows; a series' from
 * TMDB directly (one series call, one per season on disk), then publish (its NFOs).
 */
export const handleEnrichMetadata: JobHandler<'enrich-metadata'> = async (ctx, deps) => {
  const item = mediaItemOf(ctx.payload);
  if (item.kind === 'series') return enrichSeriesItem(ctx, deps, item.id);
  const movieId = item.id;
  const r = await enrichMovieMetadata({ db: ctx.db, log: ctx.log, clock: deps.clock }, movieId, {
    language: deps.config.metadataLanguage,
    country: deps.config.certificationCountry,
    imageBaseUrl: deps.config.tmdbImageBaseUrl,
  });
  const next = await ctx.enqueue('select-assets', { movieId });
  return { ...r, nextJobId: next?.id ?? null };
};

async function enrichSeriesItem(
  ctx: JobContext<'enrich-metadata'>,
  deps: HandlerDeps,
  seriesId: number,
): Promise<JobOutput> {
  const c = deps.config;
  const providers = await providersFor(deps);
  if (!providers.tmdb) throw permanent('TMDB_KEY_MISSING', 'no TMDB API key is configured');
  try {
    const r = await enrichSeries(
      { db: ctx.db, log: ctx.log, tmdb: providers.tmdb, clock: deps.clock },
      seriesId,
      {
        language: c.metadataLanguage,
        country: c.certificationCountry,
        imageBaseUrl: c.tmdbImageBaseUrl,
        ttlSeconds: c.providerCacheTtlSeconds,
        tmdbRateLimit: c.tmdbRateLimit,
        placeholderRecheckSeconds: c.placeholderRecheckSeconds,
        signal: ctx.signal,
        recheck: 'recheck' in ctx.payload && ctx.payload.recheck === true,
        refresh: 'refresh' in ctx.payload && ctx.payload.refresh === true,
      },
    );
    // A skipped recheck means a later check is already planned by another run: this chain stops.
    if (r.skipped) return { ...r };
    // Placeholder healing: while an episode still has stand-ins, the series is asked again (past the
    // cache) at its next check; the chain ends when every placeholder healed or gave up.
    const recheck = r.nextCheckAt
      ? await ctx.enqueue(
          'enrich-metadata',
          { kind: 'series', id: seriesId, recheck: true },
          { startAfter: r.nextCheckAt },
        )
      : null;
    // publish writes only what changed, so it follows every enrichment.
    const next = await ctx.enqueue('publish', { kind: 'series', id: seriesId });
    return { ...r, nextJobId: next?.id ?? null, recheckJobId: recheck?.id ?? null };
  } catch (err) {
    // As fetch-provider-assets: a 429 pauses TMDB for every replica and defers this job, no retry spent.
    if (err instanceof AppError && err.code === 'PROVIDER_RATE_LIMITED') {
      const waitMs = Number(err.details?.retryAfterMs ?? 1000);
      const provider = String(err.details?.provider ?? 'tmdb');
      const until = await blockProvider(deps.db, provider, waitMs);
      const again = await ctx.enqueue('enrich-metadata', ctx.payload, { startAfter: until });
      ctx.log.warn(
        { provider, retryAfterMs: waitMs, deferredJobId: again?.id ?? null },
        'Provider rate limited; deferred',
      );
      return { seriesId, deferred: { provider, retryAfterMs: waitMs, jobId: again?.id ?? null } };
    }
    throw err;
  }
}
