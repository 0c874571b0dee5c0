import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import { isTempFileName, publishMovie } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { notifyMovieFolder } from './notifyMovie.ts';
import { providersFor } from './providers.ts';

export const handlePublish: JobHandler<'publish'> = async (ctx, deps) => {
  const { movieId } = ctx.payload;
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
  const notify = await notifyMovieFolder(ctx, deps, movieId);
  return { ...r, notifyJobId: notify?.id ?? null };
};
