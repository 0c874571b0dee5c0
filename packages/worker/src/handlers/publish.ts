import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import { isTempFileName, permanent, publishMovie } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { providersFor } from './providers.ts';

export const handlePublish: JobHandler<'publish'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
  const movie = await deps.db
    .selectFrom('movies')
    .select(['library_id', 'path'])
    .where('id', '=', movieId)
    .executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  const providers = await providersFor(deps);
  const r = await publishMovie(
    {
      db: deps.db,
      log: ctx.log,
      clock: deps.clock,
      fence: ctx.fence,
      download: (url) => providers.download(url, ctx.signal),
      // Each file lands by rename: a stale attempt (paused past its heartbeat) must not replace
      // what the newer attempt wrote, so the lease is checked right before every rename, and before
      // removing a published file (a temp file is removed unchecked: it is nobody's work).
      // The DB records go through `fence`.
      fs: {
        open: nodeFs.open,
        readFile: nodeFs.readFile,
        readdir: nodeFs.readdir,
        lstat: nodeFs.lstat,
        mkdir: nodeFs.mkdir,
        unlink: async (file) => {
          if (!isTempFileName(nodePath.basename(String(file)))) await ctx.assertLease();
          return nodeFs.unlink(file);
        },
        rename: async (from, to) => {
          await ctx.assertLease();
          return nodeFs.rename(from, to);
        },
      },
    },
    movieId,
    { alsoMovieNfo: deps.config.writeMovieNfo },
  );
  const notify = await ctx.enqueue('notify-players', {
    libraryId: movie.library_id,
    path: movie.path,
    change: 'modified',
    movieId,
  });
  return { ...r, notifyJobId: notify?.id ?? null };
};
