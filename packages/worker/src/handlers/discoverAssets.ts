import { discoverMovieAssets } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { notifyMovieFolder } from './notifyMovie.ts';
import { providerSettingsFor } from './providers.ts';

export const handleDiscoverAssets: JobHandler<'discover-assets'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
  const { found, userEdits } = await discoverMovieAssets(
    { db: ctx.db, log: ctx.log, clock: deps.clock },
    movieId,
  );
  const summary = {
    movieId,
    videoFile: found.videoFile,
    disc: found.disc,
    nfo: found.nfo && {
      file: found.nfo.file,
      ok: found.nfo.ok,
      ...(found.nfo.error && { error: found.nfo.error }),
    },
    artwork: found.artwork.length,
    trailers: found.trailers.length,
    subtitles: found.subtitles.length,
    userEdits,
  };
  // The key can be removed between scan and here: then the folder goes straight to the players.
  if (!(await providerSettingsFor(deps)).tmdbApiKey) {
    const n = await notifyMovieFolder(ctx, deps, movieId);
    return { ...summary, notifyJobId: n?.id ?? null };
  }
  const next = await ctx.enqueue('fetch-provider-assets', { movieId });
  return { ...summary, nextJobId: next?.id ?? null };
};
