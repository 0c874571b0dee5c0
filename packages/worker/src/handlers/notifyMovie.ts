import { type EnqueuedJob, type JobName, permanent } from '@metarr/core';
import type { HandlerDeps, JobContext } from '../context.ts';

/**
 * The last step of every metadata path (published, or skipped because there is no key or no TMDB
 * id): tell the players the movie's folder changed. One `notify-players` follow-up; `refresh` when
 * the movie's NFO or artwork were rewritten, so players that hold it re-read them.
 */
export async function notifyMovieFolder<N extends JobName>(
  ctx: JobContext<N>,
  deps: Pick<HandlerDeps, 'db'>,
  movieId: number,
  opts: { refresh?: boolean } = {},
): Promise<EnqueuedJob | null> {
  const movie = await deps.db
    .selectFrom('movies')
    .select(['library_id', 'path'])
    .where('id', '=', movieId)
    .executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  return ctx.enqueue('notify-players', {
    libraryId: movie.library_id,
    path: movie.path,
    change: 'modified',
    movieId,
    ...(opts.refresh && { refresh: true }),
  });
}
