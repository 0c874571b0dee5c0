import type { Db } from '../db/connect.ts';
import type { Library, Manager, PlayerType } from '../db/schema.ts';
import { applyPathMapping, findLibraryForPath, type PathRule } from '../paths.ts';
import { groupPathMappings, groupSettings, type PlayerGroupSettings } from '../records/playerGroups.ts';
import { type PlayerRecord, playerRecord } from '../records/players.ts';
import { secretKey } from '../secrets.ts';

/** PathResolutionService — from an *arr path to a Metarr folder and its library, or why not. */

export type Resolution =
  | { ok: true; input: string; path: string; rule: PathRule | null; library: Library }
  | { ok: false; input: string; path: string | null; rule: PathRule | null; reason: string };

export async function loadManagerRules(db: Db, manager: Manager): Promise<PathRule[]> {
  const rows = await db
    .selectFrom('path_mappings')
    .select(['id', 'from_path', 'to_path'])
    .where('manager', '=', manager)
    .execute();
  return rows.map((r) => ({ id: r.id, from: r.from_path, to: r.to_path }));
}

export async function resolveArrPath(db: Db, manager: Manager, input: string): Promise<Resolution> {
  const rules = await loadManagerRules(db, manager);
  const mapped = applyPathMapping(input, rules);
  if (!mapped) {
    return {
      ok: false,
      input,
      path: null,
      rule: null,
      reason: `no ${manager} path mapping matches ${input}; a Windows path needs a mapping to a path on this host`,
    };
  }
  const libraries = await db.selectFrom('libraries').selectAll().execute();
  const library = findLibraryForPath(mapped.path, libraries);
  if (!library) {
    const roots = libraries.map((l) => l.path).join(', ') || 'none configured';
    return {
      ok: false,
      input,
      path: mapped.path,
      rule: mapped.rule,
      reason: `${mapped.path} is in no library (library roots: ${roots})${mapped.rule ? '' : `; no ${manager} path mapping matched`}`,
    };
  }
  return { ok: true, input, path: mapped.path, rule: mapped.rule, library };
}

export interface GroupConfig extends PlayerGroupSettings {
  groupId: number;
  groupName: string;
  type: PlayerType;
  mappings: PathRule[];
  /** Enabled players, in the order they are tried. */
  players: PlayerRecord[];
}

/**
 * Player groups linked to a library (only `groupId` when given), each with its settings, path
 * mappings and enabled players in order.
 */
export async function loadGroupsForLibrary(
  db: Db,
  libraryId: number,
  groupId?: number,
): Promise<GroupConfig[]> {
  let q = db
    .selectFrom('player_groups as g')
    .innerJoin('player_group_libraries as gl', 'gl.group_id', 'g.id')
    .select([
      'g.id',
      'g.name',
      'g.type',
      'g.shared_library',
      'g.debounce_seconds',
      'g.clean_after_delete',
      'g.scan_while_playing',
    ])
    .where('gl.library_id', '=', libraryId);
  if (groupId !== undefined) q = q.where('g.id', '=', groupId);
  const groups = await q.orderBy('g.id').execute();
  if (!groups.length) return [];
  const ids = groups.map((g) => g.id);
  const [mappings, players] = await Promise.all([
    groupPathMappings(db, ids),
    db
      .selectFrom('players')
      .selectAll()
      .where('group_id', 'in', ids)
      .where('enabled', '=', true)
      .orderBy('id')
      .execute(),
  ]);
  await secretKey();
  return groups.map((g) => ({
    groupId: g.id,
    groupName: g.name,
    type: g.type,
    ...groupSettings(g),
    mappings: mappings.filter((m) => m.groupId === g.id).map(({ id, from, to }) => ({ id, from, to })),
    players: players.filter((p) => p.group_id === g.id).map(playerRecord),
  }));
}
