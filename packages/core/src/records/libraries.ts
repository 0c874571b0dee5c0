import type { Db } from '../db/connect.ts';
import type { Library, LibraryType } from '../db/schema.ts';

/** Libraries: the root folders Metarr manages. Queries and the one row mapper, for routes and jobs alike. */

export interface LibraryRecord {
  id: number;
  name: string;
  type: LibraryType;
  path: string;
  createdAt: Date;
}

export interface LibraryInput {
  name: string;
  type: LibraryType;
  path: string;
}

export const libraryRecord = (r: Library): LibraryRecord => ({
  id: r.id,
  name: r.name,
  type: r.type,
  path: r.path,
  createdAt: r.created_at,
});

export async function listLibraries(db: Db): Promise<LibraryRecord[]> {
  return (await db.selectFrom('libraries').selectAll().orderBy('id').execute()).map(libraryRecord);
}

export async function getLibrary(db: Db, id: number): Promise<LibraryRecord | undefined> {
  const row = await db.selectFrom('libraries').selectAll().where('id', '=', id).executeTakeFirst();
  return row && libraryRecord(row);
}

/** The ids among `ids` that name no library, in the order given. */
export async function missingLibraries(db: Db, ids: readonly number[]): Promise<number[]> {
  if (!ids.length) return [];
  const found = await db.selectFrom('libraries').select('id').where('id', 'in', ids).execute();
  const known = new Set(found.map((f) => f.id));
  return ids.filter((id) => !known.has(id));
}

export async function createLibrary(db: Db, input: LibraryInput): Promise<LibraryRecord> {
  const row = await db.insertInto('libraries').values(input).returningAll().executeTakeFirstOrThrow();
  return libraryRecord(row);
}

/** The updated library, or undefined when there is none with this id. */
export async function updateLibrary(
  db: Db,
  id: number,
  patch: Partial<LibraryInput>,
): Promise<LibraryRecord | undefined> {
  const row = await db
    .updateTable('libraries')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && libraryRecord(row);
}

/** Whether a library was deleted (its movies, folders and group links go with it). */
export async function deleteLibrary(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('libraries').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
