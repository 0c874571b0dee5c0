import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Movie, MovieStatus } from '../db/schema.ts';

/** Movies as scanned, their stored metadata and per-field locks (read side; services write the rows). */

export interface MovieRecord {
  id: number;
  libraryId: number;
  path: string;
  title: string | null;
  year: number | null;
  tmdbId: number | null;
  imdbId: string | null;
  radarrId: number | null;
  videoFile: string | null;
  status: MovieStatus;
  createdAt: Date;
  updatedAt: Date;
  lastScannedAt: Date | null;
}

export const movieRecord = (m: Movie): MovieRecord => ({
  id: m.id,
  libraryId: m.library_id,
  path: m.path,
  title: m.title,
  year: m.year,
  tmdbId: m.tmdb_id,
  imdbId: m.imdb_id,
  radarrId: m.radarr_id,
  videoFile: m.video_file,
  status: m.status,
  createdAt: m.created_at,
  updatedAt: m.updated_at,
  lastScannedAt: m.last_scanned_at,
});

/** An `ilike` pattern for titles containing `text`: `%`, `_` and `\\` in it are characters, not wildcards. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export const MOVIE_SORTS = ['id', 'title', 'year', 'added'] as const;
export type MovieSort = (typeof MOVIE_SORTS)[number];
/** `no-metadata`: enrichment stored nothing (no TMDB id, or not run); `locked`: a user locked a field or image. */
export const MOVIE_FILTERS = ['no-metadata', 'locked'] as const;
export type MovieFilter = (typeof MOVIE_FILTERS)[number];

/**
 * Movies by id (the default), title (case-insensitive, untitled last), year (newest first) or added
 * (newest first), each ending on id so pages never overlap. `q`: a case-insensitive substring of
 * the title (or, for a movie without one, of its folder).
 */
export async function listMovies(
  db: Db,
  q: {
    libraryId?: number | undefined;
    q?: string | undefined;
    sort?: MovieSort;
    filter?: MovieFilter | undefined;
    limit: number;
    offset: number;
  },
): Promise<MovieRecord[]> {
  let query = db.selectFrom('movies').selectAll().limit(q.limit).offset(q.offset);
  if (q.libraryId) query = query.where('library_id', '=', q.libraryId);
  if (q.q) {
    const like = containsPattern(q.q);
    query = query.where((eb) =>
      eb.or([eb('title', 'ilike', like), eb.and([eb('title', 'is', null), eb('path', 'ilike', like)])]),
    );
  }
  if (q.filter === 'no-metadata')
    query = query.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('movie_metadata as md').select('md.movie_id').whereRef('md.movie_id', '=', 'movies.id'),
        ),
      ),
    );
  else if (q.filter === 'locked')
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('movie_field_locks as l').select('l.movie_id').whereRef('l.movie_id', '=', 'movies.id'),
      ),
    );
  const sort = q.sort ?? 'id';
  if (sort === 'title') query = query.orderBy(sql`lower(title) nulls last`).orderBy('year');
  else if (sort === 'year') query = query.orderBy(sql`year desc nulls last`);
  else if (sort === 'added') query = query.orderBy('created_at', 'desc');
  query = query.orderBy('id', sort === 'added' ? 'desc' : 'asc');
  return (await query.execute()).map(movieRecord);
}

export async function getMovie(db: Db, id: number): Promise<MovieRecord | undefined> {
  const m = await db.selectFrom('movies').selectAll().where('id', '=', id).executeTakeFirst();
  return m && movieRecord(m);
}

/** What enrichment stored for the movie (the document plus when), or null before the first run. */
export async function getMovieMetadata(
  db: Db,
  movieId: number,
): Promise<(Record<string, unknown> & { updatedAt: Date }) | null> {
  const meta = await db
    .selectFrom('movie_metadata')
    .select(['data', 'updated_at'])
    .where('movie_id', '=', movieId)
    .executeTakeFirst();
  return meta ? { ...(meta.data as Record<string, unknown>), updatedAt: meta.updated_at } : null;
}

/** The JSON document a pipeline step stored for a movie (`movie_metadata` or `movie_discovery`), or undefined. */
export async function movieDocument<T>(
  db: Db,
  table: 'movie_metadata' | 'movie_discovery',
  movieId: number,
): Promise<T | undefined> {
  const row = await db.selectFrom(table).select('data').where('movie_id', '=', movieId).executeTakeFirst();
  return row?.data as T | undefined;
}

/** The locked fields and artwork types of a movie, sorted. */
export async function listMovieLocks(db: Db, movieId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('movie_field_locks')
    .select('field')
    .where('movie_id', '=', movieId)
    .orderBy('field')
    .execute();
  return rows.map((r) => r.field);
}

/** Locks or unlocks one field; doing what is already so changes nothing. */
export async function setMovieLock(db: Db, movieId: number, field: string, locked: boolean): Promise<void> {
  if (locked) {
    await db
      .insertInto('movie_field_locks')
      .values({ movie_id: movieId, field })
      .onConflict((oc) => oc.columns(['movie_id', 'field']).doNothing())
      .execute();
  } else {
    await db
      .deleteFrom('movie_field_locks')
      .where('movie_id', '=', movieId)
      .where('field', '=', field)
      .execute();
  }
}

/** What an event or a scan knows of a movie: its folder and whichever ids and names it carries. */
export interface MovieIdentity {
  libraryId: number;
  path: string;
  tmdbId?: number;
  imdbId?: string;
  title?: string;
  year?: number;
  radarrId?: number;
}

/** Library items per library kind and state (for `/metrics`). */
export async function libraryItemCounts(db: Db): Promise<{ kind: string; state: string; n: number }[]> {
  const rows = await db
    .selectFrom('movies')
    .innerJoin('libraries', 'libraries.id', 'movies.library_id')
    .select(['libraries.type as kind', 'movies.status as state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['libraries.type', 'movies.status'])
    .execute();
  return rows.map((r) => ({ kind: r.kind, state: r.state, n: Number(r.n) }));
}
