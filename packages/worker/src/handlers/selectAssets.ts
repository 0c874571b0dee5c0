import { selectMovieAssets } from '@metarr/core';
import type { JobHandler } from '../context.ts';

export const handleSelectAssets: JobHandler<'select-assets'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
  const r = await selectMovieAssets({ db: ctx.db, log: ctx.log }, movieId, {
    language: deps.config.metadataLanguage,
  });
  const next = await ctx.enqueue('publish', { movieId });
  return { ...r, nextJobId: next?.id ?? null };
};
