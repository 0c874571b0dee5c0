import { publishMovie } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { notifyMovieFolder } from './notifyMovie.ts';
import { providersFor } from './providers.ts';

export const handlePublish: JobHandler<'publish'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
  const providers = await providersFor(deps);
  const r = await publishMovie(
    {
      db: ctx.db,
      log: ctx.log,
      clock: deps.clock,
      download: (url) => providers.download(url, ctx.signal),
      // Files and database writes are fenced by the context.
      fs: ctx.fs,
    },
    movieId,
    { alsoMovieNfo: deps.config.writeMovieNfo },
  );
  const notify = await notifyMovieFolder(ctx, deps, movieId, {
    refresh: r.written.length > 0 || r.removed.length > 0,
  });
  return { ...r, notifyJobId: notify?.id ?? null };
};
