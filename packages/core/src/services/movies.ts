import type { Db } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { MovieIdentity } from '../records/movies.ts';

/** MovieRecordService — movie rows for events that carry no files to scan. */

/** MovieAdded: the movie exists in the *arr but has no files yet. */
export async function recordAddedMovie(
  deps: { db: Db; log: Logger },
  m: MovieIdentity,
): Promise<{ movieId: number; created: boolean }> {
  const log = deps.log.child({ service: 'MovieRecordService', operation: 'recordAddedMovie' });
  const values = {
    library_id: m.libraryId,
    path: m.path,
    title: m.title ?? null,
    year: m.year ?? null,
    tmdb_id: m.tmdbId ?? null,
    imdb_id: m.imdbId ?? null,
    radarr_id: m.radarrId ?? null,
    status: 'no_files' as const,
  };
  const inserted = await deps.db
    .insertInto('movies')
    .values(values)
    .onConflict((oc) => oc.columns(['library_id', 'path']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) {
    log.info({ movieId: inserted.id, path: m.path }, 'Movie recorded without files');
    return { movieId: inserted.id, created: true };
  }
  const row = await deps.db
    .selectFrom('movies')
    .select('id')
    .where('library_id', '=', m.libraryId)
    .where('path', '=', m.path)
    .executeTakeFirstOrThrow();
  return { movieId: row.id, created: false };
}

/** MovieDelete: keep the row (history, locks) but mark it removed. */
export async function markMovieRemoved(
  deps: { db: Db; log: Logger; clock?: () => Date },
  m: { libraryId: number; path: string },
): Promise<{ movieId: number | null }> {
  const log = deps.log.child({ service: 'MovieRecordService', operation: 'markMovieRemoved' });
  const now = (deps.clock ?? (() => new Date()))();
  const row = await deps.db
    .updateTable('movies')
    .set({ status: 'removed', updated_at: now })
    .where('library_id', '=', m.libraryId)
    .where('path', '=', m.path)
    .returning('id')
    .executeTakeFirst();
  log.info({ movieId: row?.id ?? null, path: m.path }, 'Movie marked removed');
  return { movieId: row?.id ?? null };
}
