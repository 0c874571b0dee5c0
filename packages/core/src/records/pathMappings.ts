import type { Db } from '../db/connect.ts';
import type { Manager, PathMapping } from '../db/schema.ts';

/** Manager path mappings: an *arr path prefix (`from`) and the Metarr path it stands for (`to`). */

export interface PathMappingRecord {
  id: number;
  manager: Manager;
  from: string;
  to: string;
}

export interface PathMappingInput {
  manager: Manager;
  from: string;
  to: string;
}

export const pathMappingRecord = (m: PathMapping): PathMappingRecord => ({
  id: m.id,
  manager: m.manager,
  from: m.from_path,
  to: m.to_path,
});

export async function listPathMappings(db: Db): Promise<PathMappingRecord[]> {
  return (await db.selectFrom('path_mappings').selectAll().orderBy('id').execute()).map(pathMappingRecord);
}

export async function createPathMapping(db: Db, input: PathMappingInput): Promise<PathMappingRecord> {
  const row = await db
    .insertInto('path_mappings')
    .values({ manager: input.manager, from_path: input.from, to_path: input.to })
    .returningAll()
    .executeTakeFirstOrThrow();
  return pathMappingRecord(row);
}

/** The updated mapping, or undefined when there is none with this id. */
export async function updatePathMapping(
  db: Db,
  id: number,
  patch: Partial<PathMappingInput>,
): Promise<PathMappingRecord | undefined> {
  const row = await db
    .updateTable('path_mappings')
    .set({
      ...(patch.manager !== undefined && { manager: patch.manager }),
      ...(patch.from !== undefined && { from_path: patch.from }),
      ...(patch.to !== undefined && { to_path: patch.to }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && pathMappingRecord(row);
}

export async function deletePathMapping(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('path_mappings').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
