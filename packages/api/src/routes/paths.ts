import nodeFs from 'node:fs/promises';
import {
  checkArrPath,
  type FolderOnDisk,
  isWithin,
  loadGroupsForLibrary,
  loadManagerRules,
  locateOnDisk,
  mapGroupPath,
  normalizePath,
  resolveArrPath,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { Nullable, StringEnum } from '../schemas.ts';
import { LIBRARY_TYPES } from './libraries.ts';
import { Manager } from './pathMappings.ts';
import { PlayerType } from './playerGroups.ts';

const tags: Tag[] = ['Paths'];

const ExplainQuery = Type.Object({
  manager: Manager,
  path: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: 'A folder path exactly as the *arr app would send it',
    examples: ['/data/movies/Heat (1995)'],
  }),
});

const Rule = Type.Object({ id: Type.Optional(Type.Integer()), from: Type.String(), to: Type.String() });
const Explanation = Type.Object({
  input: Type.String({ description: 'The path as given' }),
  manager: Manager,
  normalized: Type.String({ description: 'The path with separators and case rules applied' }),
  ok: Type.Boolean({ description: 'Whether the path reaches a library' }),
  mappingsConsidered: Type.Array(
    Type.Object({
      ...Rule.properties,
      matched: Type.Boolean({ description: 'Its prefix covers the path on whole segments' }),
      used: Type.Boolean({ description: 'The longest matching prefix: the one applied' }),
    }),
    { description: 'Every mapping of this manager' },
  ),
  mapping: Nullable(Rule),
  metarrPath: Nullable(Type.String({ description: 'The path on this host' })),
  folder: Nullable(
    Type.Object(
      {
        exists: Type.Boolean({ description: 'The folder is on disk (found exactly as a scan finds it)' }),
        path: Type.String({ description: 'The folder as spelled on disk, else the Metarr path' }),
      },
      { description: 'The Metarr path on disk; null when there is no Metarr path' },
    ),
  ),
  library: Nullable(
    Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      type: StringEnum(LIBRARY_TYPES),
      path: Type.String(),
    }),
  ),
  groups: Type.Array(
    Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      type: PlayerType,
      sharedLibrary: Type.Boolean(),
      playerPath: Type.String({ description: "The path in the group's players' form" }),
      mappingUsed: Type.Boolean({ description: 'A group mapping changed the path' }),
      mapping: Nullable(Rule),
      players: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() })),
    }),
    { description: 'Each player group linked to the library, and the path its players are told' },
  ),
  reason: Nullable(Type.String({ description: 'Why it stops, when it does' })),
  steps: Type.Array(Type.String(), { description: 'Every step, as sentences' }),
});

/** Quotes a path for a human: JSON.stringify would double every Windows backslash. */
const q = (p: string) => `"${p}"`;

/** The folder looked up exactly as a scan looks it up; an unreadable path counts as absent here. */
async function folderOf(path: string | null): Promise<FolderOnDisk | null> {
  if (path === null || !path.startsWith('/')) return null;
  return locateOnDisk(nodeFs, path).catch(() => ({ exists: false, path }));
}

/** Users debug path mappings more than anything else: show every step, or exactly why it stops. */
export const pathRoutes: RoutePlugin = async (app, deps) => {
  app.get(
    '/api/paths/explain',
    {
      schema: {
        tags,
        summary: 'Explain how a path maps',
        description:
          'The Metarr path, the library and what each player group is told, or exactly where and why it stops. ' +
          'A path that maps nowhere is still a 200 (`ok: false`); only a malformed path is a 400.',
        querystring: ExplainQuery,
        response: { 200: Explanation },
      },
    },
    async (req) => {
      const { manager, path } = req.query;
      const problem = checkArrPath(path);
      if (problem) throw httpError(400, `querystring/path ${problem}`);
      const normalized = normalizePath(path);
      const [r, rules] = await Promise.all([
        resolveArrPath(deps.db, manager, path),
        loadManagerRules(deps.db, manager),
      ]);
      // Every mapping of this manager, and whether its prefix covers the path on whole segments.
      const mappingsConsidered = rules.map((rule) => {
        const from = normalizePath(rule.from);
        const matched = isWithin(
          normalized.path,
          from.path,
          normalized.caseInsensitive || from.caseInsensitive,
        );
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
      const groups = await loadGroupsForLibrary(deps.db, r.library.id);
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
    },
  );
};
