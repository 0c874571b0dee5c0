import { permanent, scanMovieDirectory } from '@metarr/core';
import type { JobHandler } from '../context.ts';

/** How long a library scan's folders fold into one notification of the library root. */
const LIBRARY_NOTIFY_WINDOW_SECONDS = 10;

export const handleScanMovie: JobHandler<'scan-movie'> = async (ctx, deps) => {
  const p = ctx.payload;
  const library = await deps.db
    .selectFrom('libraries')
    .selectAll()
    .where('id', '=', p.libraryId)
    .executeTakeFirst();
  if (!library) throw permanent('LIBRARY_NOT_FOUND', `library ${p.libraryId} no longer exists`);

  const result = await scanMovieDirectory(
    { db: deps.db, log: ctx.log, clock: deps.clock },
    {
      libraryId: library.id,
      libraryPath: library.path,
      path: p.path,
      ...(p.tmdbId !== undefined && { tmdbId: p.tmdbId }),
      ...(p.imdbId !== undefined && { imdbId: p.imdbId }),
      ...(p.title !== undefined && { title: p.title }),
      ...(p.year !== undefined && { year: p.year }),
      ...(p.radarrId !== undefined && { radarrId: p.radarrId }),
    },
  );
  if (result.status === 'missing') return { ...result, skipped: `${p.path} does not exist` };

  // With a TMDB key the metadata pipeline runs (discover → fetch → enrich → select → publish →
  // notify); without one a scanned folder goes straight to the players (CONTRACT).
  // Disc folders (BDMV, VIDEO_TS) have no top-level video but are movies too: discover decides.
  if (deps.config.tmdbApiKey && result.movieId !== null) {
    const discover = await ctx.enqueue('discover-assets', { movieId: result.movieId });
    return { ...result, discoverJobId: discover?.id ?? null };
  }
  if (p.trigger === 'library-scan') {
    // A library scan changes many folders at once: the players rescan the library root, and every
    // folder of the scan folds into the one waiting notification (a debounce in Postgres, so it holds
    // across workers) instead of a notification per folder.
    const notify = await ctx.enqueue(
      'notify-players',
      { libraryId: library.id, path: library.path, change: 'modified' },
      {
        coalesce: {
          key: `library-scan:${library.id}`,
          seconds: LIBRARY_NOTIFY_WINDOW_SECONDS,
          mode: 'debounce',
        },
      },
    );
    return { ...result, notifyJobId: notify?.id ?? null, notified: 'library root' };
  }
  const notify = await ctx.enqueue('notify-players', {
    libraryId: library.id,
    path: p.path,
    change: result.status === 'created' ? 'created' : 'modified',
    ...(result.movieId !== null && { movieId: result.movieId }),
  });
  return { ...result, notifyJobId: notify?.id ?? null };
};
