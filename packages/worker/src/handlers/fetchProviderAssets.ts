import { AppError, blockProvider, fetchProviderData, permanent } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { raiseAlert } from './alerts.ts';
import { notifyMovieFolder } from './notifyMovie.ts';
import { providersFor } from './providers.ts';

export const handleFetchProviderAssets: JobHandler<'fetch-provider-assets'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
  const c = deps.config;
  const providers = await providersFor(deps);
  if (!providers.tmdb) throw permanent('TMDB_KEY_MISSING', 'no TMDB API key is configured');
  try {
    const r = await fetchProviderData(
      {
        db: ctx.db,
        log: ctx.log,
        tmdb: providers.tmdb,
        fanart: providers.fanart,
        clock: deps.clock,
      },
      movieId,
      {
        language: c.metadataLanguage,
        ttlSeconds: c.providerCacheTtlSeconds,
        tmdbRateLimit: c.tmdbRateLimit,
        tmdbImageBaseUrl: c.tmdbImageBaseUrl,
        signal: ctx.signal,
      },
    );
    if (r.skipped) {
      const n = await notifyMovieFolder(ctx, deps, movieId);
      return { ...r, notifyJobId: n?.id ?? null };
    }
    const next = await ctx.enqueue('enrich-metadata', { movieId });
    return { ...r, nextJobId: next?.id ?? null };
  } catch (err) {
    // A 429 is about now, not about this job: every replica pauses the provider for Retry-After, and
    // the work is re-enqueued to start after it, so no retry is spent.
    if (err instanceof AppError && err.code === 'PROVIDER_RATE_LIMITED') {
      const waitMs = Number(err.details?.retryAfterMs ?? 1000);
      const provider = String(err.details?.provider ?? 'tmdb');
      const until = await blockProvider(deps.db, provider, waitMs);
      const again = await ctx.enqueue('fetch-provider-assets', { movieId }, { startAfter: until });
      ctx.log.warn(
        { provider, retryAfterMs: waitMs, deferredJobId: again?.id ?? null },
        'Provider rate limited; deferred',
      );
      return { movieId, deferred: { provider, retryAfterMs: waitMs, jobId: again?.id ?? null } };
    }
    // A 401/403: the key is wrong or revoked; every movie will fail the same way until it is fixed.
    if (err instanceof AppError && err.code === 'PROVIDER_AUTH') {
      const provider = String(err.details?.provider ?? 'tmdb');
      await raiseAlert(ctx, deps, {
        type: 'provider-key-rejected',
        message: `The ${provider} API key was rejected (movie ${movieId}): ${err.message}`,
        details: { provider, movieId, jobId: ctx.id },
      });
    }
    throw err;
  }
};
