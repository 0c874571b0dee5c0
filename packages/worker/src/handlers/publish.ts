import { AppError, type Db, mediaItemOf, publishMovie, publishSeries } from '@metarr/core';
import type { HandlerDeps, JobContext, JobHandler, JobOutput } from '../context.ts';
import { raiseAlert } from './alerts.ts';
import { notifyMovieFolder } from './notifyMovie.ts';
import { providersFor } from './providers.ts';

/** `The Matrix (1999)`, or the folder when the movie has no title yet. */
async function movieLabel(db: Db, movieId: number): Promise<string> {
  const m = await db
    .selectFrom('movies')
    .select(['title', 'year', 'path'])
    .where('id', '=', movieId)
    .executeTakeFirst();
  if (!m) return `movie ${movieId}`;
  return m.title ? `${m.title}${m.year ? ` (${m.year})` : ''}` : m.path;
}

/**
 * A series' NFOs (tvshow.nfo, one per episode file); when anything was written, the players are
 * told about the series folder (a folder scan: a TV refresh of known items is not built yet).
 */
async function publishSeriesItem(
  ctx: JobContext<'publish'>,
  deps: HandlerDeps,
  seriesId: number,
): Promise<JobOutput> {
  const providers = await providersFor(deps);
  const r = await publishSeries(
    { db: ctx.db, fs: ctx.fs, log: ctx.log, download: (url) => providers.download(url, ctx.signal) },
    seriesId,
  );
  if (r.skipped || (r.written.length === 0 && r.removed.length === 0)) return { ...r };
  const notify = await ctx.enqueue('notify-players', {
    libraryId: r.libraryId,
    path: r.path,
    change: 'modified',
  });
  return { ...r, notifyJobId: notify?.id ?? null };
}

/** Works on a media item (`{kind, id}`); an old `{movieId}` payload is a movie. */
export const handlePublish: JobHandler<'publish'> = async (ctx, deps) => {
  const item = mediaItemOf(ctx.payload);
  if (item.kind === 'series') return publishSeriesItem(ctx, deps, item.id);
  const movieId = item.id;
  const providers = await providersFor(deps);
  let r: Awaited<ReturnType<typeof publishMovie>>;
  try {
    r = await publishMovie(
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
  } catch (err) {
    // ENOSPC/EDQUOT in a write: the user has to free space, so tell them (the job keeps retrying).
    if (err instanceof AppError && err.code === 'DISK_FULL')
      await raiseAlert(ctx, deps, {
        type: 'disk-full',
        message: `${await movieLabel(ctx.db, movieId)}: ${err.message}`,
        details: { movieId, jobId: ctx.id },
      });
    throw err;
  }
  const notify = await notifyMovieFolder(ctx, deps, movieId, {
    refresh: r.written.length > 0 || r.removed.length > 0,
  });
  await raiseAlert(ctx, deps, {
    type: 'publish-done',
    message: `Published ${await movieLabel(ctx.db, movieId)}: ${r.written.length} file${r.written.length === 1 ? '' : 's'} written, ${r.unchanged.length} unchanged`,
    details: { movieId, written: r.written.length, unchanged: r.unchanged.length, removed: r.removed.length },
  });
  return { ...r, notifyJobId: notify?.id ?? null };
};
