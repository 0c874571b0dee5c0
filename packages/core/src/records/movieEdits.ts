/**
 * A user's own choices for a movie: another artwork candidate, or edited metadata fields. Each is
 * locked at once, so the pipeline (a provider update, a rescan) never undoes it; the caller then
 * queues a `publish`, which writes the files and asks the players to refresh the movie.
 */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { AppError } from '../errors.ts';
import { METADATA_FIELDS, type MovieMetadata } from '../files/nfo.ts';

export interface ArtworkCandidate {
  id: number;
  type: string;
  provider: string;
  url: string;
  language: string | null;
  width: number | null;
  height: number | null;
  votes: number;
  score: number | null;
  /** 0 is the one published for the type (for fanart, 1… are the extrafanart); null before selection. */
  rank: number | null;
  selected: boolean;
}

/** Every candidate of the movie, by type, best first (unranked last). */
export async function listArtworkCandidates(db: Db, movieId: number): Promise<ArtworkCandidate[]> {
  const rows = await db
    .selectFrom('movie_asset_candidates')
    .selectAll()
    .where('movie_id', '=', movieId)
    .orderBy('type')
    .orderBy(sql`rank nulls last`)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    provider: r.provider,
    url: r.url,
    language: r.language,
    width: r.width,
    height: r.height,
    votes: Number(r.votes),
    score: r.score,
    rank: r.rank,
    selected: r.selected,
  }));
}

/**
 * Makes `candidateId` the published image of its type (rank 0, selected) and locks the type. The
 * candidate that held rank 0 takes the chosen one's place, so a fanart chosen from the extrafanart
 * swaps with the main fanart and the extras stay as they were.
 */
export async function chooseArtworkCandidate(
  db: Db,
  movieId: number,
  type: string,
  candidateId: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const chosen = await trx
      .selectFrom('movie_asset_candidates')
      .select(['id', 'rank', 'selected'])
      .where('id', '=', candidateId)
      .where('movie_id', '=', movieId)
      .where('type', '=', type)
      .forUpdate()
      .executeTakeFirst();
    if (!chosen)
      throw new AppError(
        'CANDIDATE_NOT_FOUND',
        `candidate ${candidateId} is not a ${type} of movie ${movieId}`,
        {
          retryable: false,
        },
      );
    const current = await trx
      .selectFrom('movie_asset_candidates')
      .select(['id'])
      .where('movie_id', '=', movieId)
      .where('type', '=', type)
      .where('rank', '=', 0)
      .where('id', '!=', candidateId)
      .forUpdate()
      .executeTakeFirst();
    if (current)
      await trx
        .updateTable('movie_asset_candidates')
        .set({ rank: chosen.rank, selected: chosen.rank === null ? false : chosen.selected })
        .where('id', '=', current.id)
        .execute();
    await trx
      .updateTable('movie_asset_candidates')
      .set({ rank: 0, selected: true })
      .where('id', '=', candidateId)
      .execute();
    await trx
      .insertInto('movie_field_locks')
      .values({ movie_id: movieId, field: type })
      .onConflict((oc) => oc.columns(['movie_id', 'field']).doNothing())
      .execute();
  });
}

/** Metadata fields only providers fill (structured or id-like); every other field a user may edit. */
const PROVIDER_ONLY = ['rating', 'set', 'cast', 'uniqueIds', 'trailer'] as const;

export type EditableField = Exclude<(typeof METADATA_FIELDS)[number], (typeof PROVIDER_ONLY)[number]>;

export const EDITABLE_FIELDS: readonly EditableField[] = METADATA_FIELDS.filter(
  (f): f is EditableField => !(PROVIDER_ONLY as readonly string[]).includes(f),
);

export type MetadataEdit = Partial<Pick<MovieMetadata, EditableField>>;

/**
 * Writes the edited fields into the movie's metadata and locks each of them (an unchanged value is
 * locked too: the user confirmed it). The movie row's title and year follow, as enrichment does.
 * Returns the fields whose value changed. A movie never enriched has no metadata to edit yet.
 */
export async function editMovieMetadata(
  db: Db,
  movieId: number,
  edit: MetadataEdit,
  now: Date,
): Promise<{ changed: string[] }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('movie_metadata')
      .select('data')
      .where('movie_id', '=', movieId)
      .forUpdate()
      .executeTakeFirst();
    if (!row)
      throw new AppError(
        'METADATA_MISSING',
        `movie ${movieId} has no metadata yet (it needs a TMDB id and a completed enrichment)`,
        { retryable: false },
      );
    const data = row.data as Record<string, unknown>;
    const fields = Object.keys(edit) as (keyof MetadataEdit)[];
    const changed = fields.filter((f) => JSON.stringify(data[f]) !== JSON.stringify(edit[f]));
    const next = JSON.stringify({ ...data, ...edit });
    await trx
      .updateTable('movie_metadata')
      .set({ data: next, updated_at: now })
      .where('movie_id', '=', movieId)
      .execute();
    await trx
      .insertInto('movie_field_locks')
      .values(fields.map((field) => ({ movie_id: movieId, field })))
      .onConflict((oc) => oc.columns(['movie_id', 'field']).doNothing())
      .execute();
    if (edit.title !== undefined || edit.year !== undefined)
      await trx
        .updateTable('movies')
        .set({
          ...(edit.title !== undefined && edit.title !== null && { title: edit.title }),
          ...(edit.year !== undefined && edit.year !== null && { year: edit.year }),
          updated_at: now,
        })
        .where('id', '=', movieId)
        .execute();
    return { changed };
  });
}

/**
 * Gives the movie the TMDB id the user picked. Its IMDb id and artwork candidates belonged to the old
 * identity (or to none), so they go; the pipeline fetches the new ones. Locks stay: they are the
 * user's.
 */
export async function identifyMovie(db: Db, movieId: number, tmdbId: number, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('movies')
      .set({ tmdb_id: tmdbId, imdb_id: null, updated_at: now })
      .where('id', '=', movieId)
      .execute();
    await trx.deleteFrom('movie_asset_candidates').where('movie_id', '=', movieId).execute();
  });
}
