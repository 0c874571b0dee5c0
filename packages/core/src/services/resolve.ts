import nodeFs from 'node:fs/promises';
import type { Db } from '../db/connect.ts';
import type { Library, Manager, PlayerType } from '../db/schema.ts';
import {
  applyPathMapping,
  type FolderOnDisk,
  findLibraryForPath,
  isWithin,
  locateOnDisk,
  mapGroupPath,
  normalizePath,
  type PathRule,
} from '../paths.ts';
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

/** Quotes a path for a human: JSON.stringify would double every Windows backslash. */
const q = (p: string) => `"${p}"`;

/** The folder looked up exactly as a scan looks it up; an unreadable path counts as absent here. */
async function folderOf(path: string | null): Promise<FolderOnDisk | null> {
  if (path === null || !path.startsWith('/')) return null;
  return locateOnDisk(nodeFs, path).catch(() => ({ exists: false, path }));
}

/**
 * Users debug path mappings more than anything else: how an *arr path maps, the library and what
 * each player group is told, or exactly where and why it stops. `path` must pass `checkArrPath`.
 */
export async function explainArrPath(db: Db, manager: Manager, path: string) {
  const normalized = normalizePath(path);
  const [r, rules] = await Promise.all([resolveArrPath(db, manager, path), loadManagerRules(db, manager)]);
  // Every mapping of this manager, and whether its prefix covers the path on whole segments.
  const mappingsConsidered = rules.map((rule) => {
    const from = normalizePath(rule.from);
    const matched = isWithin(normalized.path, from.path, normalized.caseInsensitive || from.caseInsensitive);
    return { id: rule.id, from: rule.from, to: rule.to, matched, used: r.rule?.id === rule.id };
  });
  const steps: string[] = [
    `${manager} sent ${q(path)}${normalized.path !== path ? `, normalized to ${q(normalized.path)}` : ''}`,
    r.rule
      ? `mapping #${r.rule.id} ${q(r.rule.from)} → ${q(r.rule.to)} applies (longest matching prefix of ${mappingsConsidered.filter((m) => m.matched).length} matching)`
      : rules.length
        ? `none of the ${rules.length} ${manager} mapping(s) covers this path (${rules.map((m) => q(m.from)).join(', ')})`
        : `no ${manager} path mappings are configured`,
    r.path ? `Metarr path: ${q(r.path)}` : 'no Metarr path: a Windows path needs a mapping',
  ];
  const folder = await folderOf(r.path);
  if (folder) {
    steps.push(
      folder.exists
        ? `the folder exists on disk${folder.path !== r.path ? ` as ${q(folder.path)}` : ''}`
        : 'the folder does not exist on disk (yet)',
    );
  }
  const base = { input: path, manager, normalized: normalized.path, mappingsConsidered, folder };
  const mapping = r.rule ? { id: r.rule.id, from: r.rule.from, to: r.rule.to } : null;
  if (!r.ok) {
    steps.push(`stops here: ${r.reason}`);
    return {
      ...base,
      ok: false,
      mapping,
      metarrPath: r.path,
      library: null,
      groups: [],
      reason: r.reason,
      steps,
    };
  }
  steps.push(`library #${r.library.id} "${r.library.name}" (${r.library.type}) at ${q(r.library.path)}`);
  const groups = await loadGroupsForLibrary(db, r.library.id);
  const groupsOut = groups.map((g) => {
    const playerPath = mapGroupPath(r.path, g.mappings);
    const used = g.mappings.find(
      (m) => m.from && playerPath !== r.path && isWithin(r.path, normalizePath(m.from).path),
    );
    steps.push(
      `player group #${g.groupId} "${g.groupName}" (${g.type}, ${g.players.length} enabled player(s)) is told ${q(playerPath)}${used ? ` via its mapping ${q(used.from)} → ${q(used.to)}` : ' (no group mapping applies: the players see the Metarr path)'}`,
    );
    return {
      id: g.groupId,
      name: g.groupName,
      type: g.type,
      sharedLibrary: g.sharedLibrary,
      playerPath,
      mappingUsed: playerPath !== r.path,
      mapping: used ? { id: used.id, from: used.from, to: used.to } : null,
      players: g.players.map((p) => ({ id: p.id, name: p.name })),
    };
  });
  const reason = groups.length
    ? null
    : `library "${r.library.name}" is linked to no player group, so no player will be told`;
  if (reason) steps.push(`stops here: ${reason}`);
  return {
    ...base,
    ok: true,
    mapping,
    metarrPath: r.path,
    library: { id: r.library.id, name: r.library.name, type: r.library.type, path: r.library.path },
    groups: groupsOut,
    reason,
    steps,
  };
}
