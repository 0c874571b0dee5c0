import { enrichMovieMetadata } from '@metarr/core';
import type { JobHandler } from '../context.ts';

export const handleEnrichMetadata: JobHandler<'enrich-metadata'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
  const r = await enrichMovieMetadata({ db: ctx.db, log: ctx.log, clock: deps.clock }, movieId, {
    language: deps.config.metadataLanguage,
    country: deps.config.certificationCountry,
    imageBaseUrl: deps.config.tmdbImageBaseUrl,
  });
  const next = await ctx.enqueue('select-assets', { movieId });
  return { ...r, nextJobId: next?.id ?? null };
};
