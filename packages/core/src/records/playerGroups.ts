import type { Db } from '../db/connect.ts';
import type { PlayerGroup, PlayerType, ScanWhilePlaying } from '../db/schema.ts';

/** Player groups: media servers that see a library the same way, with their links and mappings. */

export interface PlayerGroupSettings {
  /** Members share one library database (Kodi on MySQL): told once, by the first reachable member. */
  sharedLibrary: boolean;
  /** Notifications of one folder within this many seconds become one call (0 = off). */
  debounceSeconds: number;
  /** Kodi: clean the deleted folder from the library after a delete. */
  cleanAfterDelete: boolean;
  /** Kodi: `defer` waits while a video plays; `always` scans anyway. */
  scanWhilePlaying: ScanWhilePlaying;
}

/** What a group gets for each setting its creator leaves out. */
export const PLAYER_GROUP_DEFAULTS: Readonly<PlayerGroupSettings> = {
  sharedLibrary: false,
  debounceSeconds: 10,
  cleanAfterDelete: false,
  scanWhilePlaying: 'defer',
};

export interface GroupMapping {
  /** A Metarr path prefix. */
  from: string;
  /** What the group's players call it (`smb://nas/movies/`). */
  to: string;
}

export interface PlayerGroupRecord extends PlayerGroupSettings {
  id: number;
  name: string;
  type: PlayerType;
  libraryIds: number[];
  pathMappings: GroupMapping[];
}

export interface PlayerGroupInput extends Partial<PlayerGroupSettings> {
  name: string;
  type: PlayerType;
}

type SettingsColumns = Pick<
  PlayerGroup,
  'shared_library' | 'debounce_seconds' | 'clean_after_delete' | 'scan_while_playing'
>;

export const groupSettings = (g: SettingsColumns): PlayerGroupSettings => ({
  sharedLibrary: g.shared_library,
  debounceSeconds: g.debounce_seconds,
  cleanAfterDelete: g.clean_after_delete,
  scanWhilePlaying: g.scan_while_playing,
});

const changedColumns = (s: Partial<PlayerGroupSettings>): Partial<SettingsColumns> => ({
  ...(s.sharedLibrary !== undefined && { shared_library: s.sharedLibrary }),
  ...(s.debounceSeconds !== undefined && { debounce_seconds: s.debounceSeconds }),
  ...(s.cleanAfterDelete !== undefined && { clean_after_delete: s.cleanAfterDelete }),
  ...(s.scanWhilePlaying !== undefined && { scan_while_playing: s.scanWhilePlaying }),
});

/** Every group, or those with the given ids, each with its library links and path mappings. */
export async function loadPlayerGroups(db: Db, ids?: readonly number[]): Promise<PlayerGroupRecord[]> {
  let q = db.selectFrom('player_groups').selectAll().orderBy('id');
  if (ids) q = q.where('id', 'in', ids.length ? ids : [-1]);
  const groups = await q.execute();
  if (!groups.length) return [];
  const gids = groups.map((g) => g.id);
  const [libs, maps] = await Promise.all([
    db.selectFrom('player_group_libraries').selectAll().where('group_id', 'in', gids).execute(),
    groupPathMappings(db, gids),
  ]);
  return groups.map((g) => ({
    id: g.id,
    name: g.name,
    type: g.type,
    ...groupSettings(g),
    libraryIds: libs.filter((l) => l.group_id === g.id).map((l) => l.library_id),
    pathMappings: maps.filter((m) => m.groupId === g.id).map(({ from, to }) => ({ from, to })),
  }));
}

/** The path mappings of these groups, each group's in the order they were written. */
export async function groupPathMappings(
  db: Db,
  groupIds: readonly number[],
): Promise<(GroupMapping & { id: number; groupId: number })[]> {
  if (!groupIds.length) return [];
  const rows = await db
    .selectFrom('player_group_path_mappings')
    .selectAll()
    .where('group_id', 'in', groupIds)
    .orderBy('id')
    .execute();
  return rows.map((m) => ({ id: m.id, groupId: m.group_id, from: m.from_path, to: m.to_path }));
}

export async function getPlayerGroup(db: Db, id: number): Promise<PlayerGroupRecord | undefined> {
  return (await loadPlayerGroups(db, [id]))[0];
}

/** A group's type (its players must be of it), or undefined when there is no such group. */
export async function playerGroupType(db: Db, id: number): Promise<PlayerType | undefined> {
  const g = await db.selectFrom('player_groups').select('type').where('id', '=', id).executeTakeFirst();
  return g?.type;
}

/** The new group's id. Settings left out take PLAYER_GROUP_DEFAULTS. */
export async function insertPlayerGroup(db: Db, input: PlayerGroupInput): Promise<number> {
  const g = await db
    .insertInto('player_groups')
    .values({
      name: input.name,
      type: input.type,
      shared_library: input.sharedLibrary ?? PLAYER_GROUP_DEFAULTS.sharedLibrary,
      debounce_seconds: input.debounceSeconds ?? PLAYER_GROUP_DEFAULTS.debounceSeconds,
      clean_after_delete: input.cleanAfterDelete ?? PLAYER_GROUP_DEFAULTS.cleanAfterDelete,
      scan_while_playing: input.scanWhilePlaying ?? PLAYER_GROUP_DEFAULTS.scanWhilePlaying,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return g.id;
}

/** Whether the group exists; changes only the fields given. */
export async function updatePlayerGroup(
  db: Db,
  id: number,
  patch: Partial<PlayerGroupInput>,
): Promise<boolean> {
  const set = {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.type !== undefined && { type: patch.type }),
    ...changedColumns(patch),
  };
  if (!Object.keys(set).length) {
    const g = await db.selectFrom('player_groups').select('id').where('id', '=', id).executeTakeFirst();
    return g !== undefined;
  }
  const r = await db.updateTable('player_groups').set(set).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Replaces the group's library links (when given) and path mappings (when given). */
export async function replaceGroupLinks(
  db: Db,
  groupId: number,
  links: { libraryIds?: readonly number[] | undefined; pathMappings?: readonly GroupMapping[] | undefined },
): Promise<void> {
  if (links.libraryIds) {
    await db.deleteFrom('player_group_libraries').where('group_id', '=', groupId).execute();
    const ids = [...new Set(links.libraryIds)];
    if (ids.length) {
      await db
        .insertInto('player_group_libraries')
        .values(ids.map((library_id) => ({ group_id: groupId, library_id })))
        .execute();
    }
  }
  if (links.pathMappings) {
    await db.deleteFrom('player_group_path_mappings').where('group_id', '=', groupId).execute();
    if (links.pathMappings.length) {
      await db
        .insertInto('player_group_path_mappings')
        .values(links.pathMappings.map((m) => ({ group_id: groupId, from_path: m.from, to_path: m.to })))
        .execute();
    }
  }
}

export async function deletePlayerGroup(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('player_groups').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Every group's player type, by id (for `/metrics`). */
export async function playerGroupTypes(db: Db): Promise<Map<number, PlayerType>> {
  const rows = await db.selectFrom('player_groups').select(['id', 'type']).execute();
  return new Map(rows.map((r) => [r.id, r.type]));
}
