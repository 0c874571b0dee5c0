import { findStaleMovies, readScheduleSettings } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { providerSettingsFor } from './providers.ts';

/** At most this many re-enrichments per tick, so one tick never floods the provider's rate limit. */
export const PROVIDER_UPDATE_BATCH = 5000;

/**
 * A cron tick: re-enrich movies whose provider data (`movie_metadata.updated_at`, or the last scan
 * for a movie never enriched) is older than `staleAfterDays`. The chain starts at
 * `fetch-provider-assets` (which refreshes the provider cache, then enrich → select → publish →
 * notify), because `enrich-metadata` alone only re-reads what was fetched before. Bulk priority 9.
 */
export const handleScheduledProviderUpdate: JobHandler<'scheduled-provider-update'> = async (ctx, deps) => {
  const keys = await providerSettingsFor(deps);
  if (!keys.tmdbApiKey) return { skipped: 'no TMDB API key configured' };
  const settings = await readScheduleSettings(deps.db);
  const cutoff = new Date(deps.clock().getTime() - settings.providerUpdate.staleAfterDays * 86_400_000);
  const ids = await findStaleMovies(deps.db, cutoff, PROVIDER_UPDATE_BATCH);
  const jobs = await ctx.enqueueMany(
    'fetch-provider-assets',
    ids.map((movieId) => ({ movieId })),
    { priority: 9 },
  );
  return { stale: ids.length, refreshJobs: jobs.length, cutoff: cutoff.toISOString() };
};
