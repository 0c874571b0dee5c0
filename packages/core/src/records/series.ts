import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { SeriesStatus, SeriesTable } from '../db/schema.ts';
import { containsPattern, MOVIE_SORTS } from './movies.ts';

/** TV series, seasons, episodes and episode files as scanned (read side; scanSeries writes the rows). */

export interface SeriesRecord {
  id: number;
  libraryId: number;
  path: string;
  title: string | null;
  year: number | null;
  tmdbId: number | null;
  tvdbId: number | null;
  imdbId: string | null;
  sonarrId: number | null;
  status: SeriesStatus;
  unparseable: { file: string; reason: string }[];
  createdAt: Date;
  updatedAt: Date;
  lastScannedAt: Date | null;
}

export const seriesRecord = (s: Selectable<SeriesTable>): SeriesRecord => ({
  id: s.id,
  libraryId: s.library_id,
  path: s.path,
  title: s.title,
  year: s.year,
  tmdbId: s.tmdb_id,
  tvdbId: s.tvdb_id,
  imdbId: s.imdb_id,
  sonarrId: s.sonarr_id,
  status: s.status,
  unparseable: s.unparseable,
  createdAt: s.created_at,
  updatedAt: s.updated_at,
  lastScannedAt: s.last_scanned_at,
});

export interface SeriesCounts {
  seasons: number;
  episodes: number;
  files: number;
  /** Episodes whose title, plot or still is still a placeholder. */
  placeholders: number;
  unparseable: number;
}

export type SeriesListItem = SeriesRecord & { counts: SeriesCounts };

/** The movie list's orders: id, title (A–Z), year (newest first), added (newest first). */
export const SERIES_SORTS = MOVIE_SORTS;
export type SeriesSort = (typeof SERIES_SORTS)[number];
/** `placeholders`: a series with an episode whose title, plot or still is a placeholder; `locked`: a locked series field. */
export const SERIES_FILTERS = ['placeholders', 'locked'] as const;
export type SeriesFilter = (typeof SERIES_FILTERS)[number];

/**
 * Series with their counts (one query), ordered as the movie list is: by id (the default), title
 * (case-insensitive, untitled last), year or added (newest first), each ending on id so pages never
 * overlap. `q`: a case-insensitive substring of the title (or, untitled, of the folder).
 */
export async function listSeries(
  db: Db,
  q: {
    libraryId?: number | undefined;
    q?: string | undefined;
    sort?: SeriesSort | undefined;
    filter?: SeriesFilter | undefined;
    limit: number;
    offset: number;
  },
): Promise<SeriesListItem[]> {
  let query = db
    .selectFrom('series as s')
    .selectAll('s')
    .select((eb) => [
      eb
        .selectFrom('seasons')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('seasons.series_id', '=', 's.id')
        .as('season_count'),
      eb
        .selectFrom('episodes')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('episodes.series_id', '=', 's.id')
        .as('episode_count'),
      eb
        .selectFrom('episodes')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('episodes.series_id', '=', 's.id')
        .where(sql<boolean>`cardinality(placeholder_fields) > 0`)
        .as('placeholder_count'),
      eb
        .selectFrom('episode_files')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('episode_files.series_id', '=', 's.id')
        .as('file_count'),
    ])
    .limit(q.limit)
    .offset(q.offset);
  if (q.libraryId) query = query.where('s.library_id', '=', q.libraryId);
  if (q.q) {
    const like = containsPattern(q.q);
    query = query.where((eb) =>
      eb.or([eb('s.title', 'ilike', like), eb.and([eb('s.title', 'is', null), eb('s.path', 'ilike', like)])]),
    );
  }
  if (q.filter === 'placeholders')
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('episodes as e')
          .select('e.id')
          .whereRef('e.series_id', '=', 's.id')
          .where(sql<boolean>`cardinality(e.placeholder_fields) > 0`),
      ),
    );
  else if (q.filter === 'locked')
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('series_field_locks as l').select('l.series_id').whereRef('l.series_id', '=', 's.id'),
      ),
    );
  const sort = q.sort ?? 'id';
  if (sort === 'title') query = query.orderBy(sql`lower(s.title) nulls last`).orderBy('s.year');
  else if (sort === 'year') query = query.orderBy(sql`s.year desc nulls last`);
  else if (sort === 'added') query = query.orderBy('s.created_at', 'desc');
  query = query.orderBy('s.id', sort === 'added' ? 'desc' : 'asc');
  const rows = await query.execute();
  return rows.map((r) => ({
    ...seriesRecord(r),
    counts: {
      seasons: Number(r.season_count ?? 0),
      episodes: Number(r.episode_count ?? 0),
      files: Number(r.file_count ?? 0),
      placeholders: Number(r.placeholder_count ?? 0),
      unparseable: r.unparseable.length,
    },
  }));
}

export async function getSeries(db: Db, id: number): Promise<SeriesRecord | undefined> {
  const s = await db.selectFrom('series').selectAll().where('id', '=', id).executeTakeFirst();
  return s && seriesRecord(s);
}

export interface EpisodeRecord {
  id: number;
  seasonNumber: number;
  number: number;
  title: string | null;
  plot: string | null;
  airDate: string | null;
  /** Files holding this episode, relative to the series folder. */
  files: string[];
  placeholder: boolean;
  placeholderFields: string[];
  nextCheckAt: Date | null;
  giveUpAt: Date | null;
  locks: string[];
}

export interface SeasonRecord {
  id: number;
  number: number;
  folder: string | null;
  episodes: EpisodeRecord[];
}

export interface EpisodeFileRecord {
  id: number;
  file: string;
  seasonNumber: number | null;
  airDate: string | null;
  /** The episodes the file holds, in order: `[{season, number}]`. */
  episodes: { season: number; number: number }[];
}

export interface SeriesDetail extends SeriesRecord {
  metadata: Record<string, unknown> | null;
  locks: string[];
  seasons: SeasonRecord[];
  files: EpisodeFileRecord[];
}

/** A series with its seasons, episodes (placeholder state, locks, files) and files. */
export async function getSeriesDetail(db: Db, id: number): Promise<SeriesDetail | undefined> {
  const s = await db.selectFrom('series').selectAll().where('id', '=', id).executeTakeFirst();
  if (!s) return undefined;
  const [locks, seasons, episodes, files, links, episodeLocks] = await Promise.all([
    db
      .selectFrom('series_field_locks')
      .select('field')
      .where('series_id', '=', id)
      .orderBy('field')
      .execute(),
    db.selectFrom('seasons').selectAll().where('series_id', '=', id).orderBy('number').execute(),
    db
      .selectFrom('episodes')
      .selectAll()
      .where('series_id', '=', id)
      .orderBy('season_number')
      .orderBy('number')
      .execute(),
    db.selectFrom('episode_files').selectAll().where('series_id', '=', id).orderBy('file').execute(),
    db
      .selectFrom('episode_file_episodes as l')
      .innerJoin('episode_files as f', 'f.id', 'l.file_id')
      .innerJoin('episodes as e', 'e.id', 'l.episode_id')
      .select(['l.file_id', 'l.episode_id', 'f.file', 'e.season_number', 'e.number'])
      .where('f.series_id', '=', id)
      .orderBy('l.file_id')
      .orderBy('l.position')
      .execute(),
    db
      .selectFrom('episode_field_locks as k')
      .innerJoin('episodes as e', 'e.id', 'k.episode_id')
      .select(['k.episode_id', 'k.field'])
      .where('e.series_id', '=', id)
      .orderBy('k.field')
      .execute(),
  ]);
  const filesOf = new Map<number, string[]>();
  const episodesOf = new Map<number, { season: number; number: number }[]>();
  for (const l of links) {
    filesOf.set(l.episode_id, [...(filesOf.get(l.episode_id) ?? []), l.file]);
    episodesOf.set(l.file_id, [
      ...(episodesOf.get(l.file_id) ?? []),
      { season: l.season_number, number: l.number },
    ]);
  }
  const locksOf = new Map<number, string[]>();
  for (const k of episodeLocks) locksOf.set(k.episode_id, [...(locksOf.get(k.episode_id) ?? []), k.field]);
  const episodeRecords = episodes.map(
    (e): EpisodeRecord => ({
      id: e.id,
      seasonNumber: e.season_number,
      number: e.number,
      title: e.title,
      plot: e.plot,
      airDate: e.air_date,
      files: (filesOf.get(e.id) ?? []).sort(),
      placeholder: e.placeholder_fields.length > 0,
      placeholderFields: e.placeholder_fields,
      nextCheckAt: e.placeholder_next_check,
      giveUpAt: e.placeholder_give_up_at,
      locks: locksOf.get(e.id) ?? [],
    }),
  );
  return {
    ...seriesRecord(s),
    metadata: (s.metadata as Record<string, unknown> | null) ?? null,
    locks: locks.map((l) => l.field),
    seasons: seasons.map((season) => ({
      id: season.id,
      number: season.number,
      folder: season.folder,
      episodes: episodeRecords.filter((e) => e.seasonNumber === season.number),
    })),
    files: files.map((f) => ({
      id: f.id,
      file: f.file,
      seasonNumber: f.season_number,
      airDate: f.air_date,
      episodes: episodesOf.get(f.id) ?? [],
    })),
  };
}

/** The series of a library folder, if one was recorded. */
export async function findSeriesByPath(
  db: Db,
  libraryId: number,
  path: string,
): Promise<SeriesRecord | undefined> {
  const s = await db
    .selectFrom('series')
    .selectAll()
    .where('library_id', '=', libraryId)
    .where('path', '=', path)
    .executeTakeFirst();
  return s && seriesRecord(s);
}

/** Series of a library not marked removed, by path (a library scan rescans those whose folder vanished). */
export async function listLibrarySeriesPaths(db: Db, libraryId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('series')
    .select('path')
    .where('library_id', '=', libraryId)
    .where('status', '=', 'present')
    .orderBy('path')
    .execute();
  return rows.map((r) => r.path);
}

/** Series fields a user can lock (enrichment keeps a locked one), and an episode's. */
export const SERIES_LOCKABLE = ['title', 'year'] as const;
export const EPISODE_LOCKABLE = ['title', 'plot', 'aired'] as const;

const LOCK_TABLES = {
  series: { table: 'series_field_locks', owner: 'series_id' },
  episode: { table: 'episode_field_locks', owner: 'episode_id' },
} as const;

/** A series' or an episode's locked fields, sorted. */
export async function listTvLocks(db: Db, kind: 'series' | 'episode', id: number): Promise<string[]> {
  const t = LOCK_TABLES[kind];
  const r = await sql<{ field: string }>`
    select field from ${sql.table(t.table)} where ${sql.ref(t.owner)} = ${id} order by field`.execute(db);
  return r.rows.map((x) => x.field);
}

/** Locks or unlocks one field of a series or an episode; doing what is already so changes nothing. */
export async function setTvLock(
  db: Db,
  kind: 'series' | 'episode',
  id: number,
  field: string,
  locked: boolean,
): Promise<void> {
  const t = LOCK_TABLES[kind];
  await (locked
    ? sql`insert into ${sql.table(t.table)} (${sql.ref(t.owner)}, field) values (${id}, ${field})
          on conflict do nothing`
    : sql`delete from ${sql.table(t.table)} where ${sql.ref(t.owner)} = ${id} and field = ${field}`
  ).execute(db);
}

export async function episodeExists(db: Db, id: number): Promise<boolean> {
  return (await db.selectFrom('episodes').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}
