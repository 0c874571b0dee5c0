import {
  checkArrPath,
  isWithin,
  loadGroupsForLibrary,
  loadManagerRules,
  mapGroupPath,
  normalizePath,
  resolveArrPath,
} from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const ExplainQuery = Type.Object({
  manager: Type.Union([Type.Literal('radarr'), Type.Literal('sonarr'), Type.Literal('lidarr')]),
  path: Type.String({ minLength: 1, maxLength: 4096 }),
  apikey: Type.Optional(Type.String()),
});

/** Quotes a path for a human: JSON.stringify would double every Windows backslash. */
const q = (p: string) => `"${p}"`;

/** Users debug path mappings more than anything else: show every step, or exactly why it stops. */
export const pathRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.get('/api/paths/explain', { schema: { querystring: ExplainQuery } }, async (req) => {
    const { manager, path } = req.query as Type.Static<typeof ExplainQuery>;
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
    const base = { input: path, manager, normalized: normalized.path, mappingsConsidered };
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
  });
};
