import { checkArrPath, loadGroupsForLibrary, mapGroupPath, resolveArrPath } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const ExplainQuery = Type.Object({
  manager: Type.Union([Type.Literal('radarr'), Type.Literal('sonarr'), Type.Literal('lidarr')]),
  path: Type.String({ minLength: 1, maxLength: 4096 }),
  apikey: Type.Optional(Type.String()),
});

/** Users debug path mappings more than anything else: show every step, or exactly why it stops. */
export const pathRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.get('/api/paths/explain', { schema: { querystring: ExplainQuery } }, async (req) => {
    const { manager, path } = req.query as Type.Static<typeof ExplainQuery>;
    const problem = checkArrPath(path);
    if (problem) throw httpError(400, `querystring/path ${problem}`);
    const r = await resolveArrPath(deps.db, manager, path);
    const steps = {
      input: path,
      manager,
      mapping: r.rule ? { id: r.rule.id, from: r.rule.from, to: r.rule.to } : null,
      metarrPath: r.path,
    };
    if (!r.ok) return { ...steps, ok: false, library: null, groups: [], reason: r.reason };
    const groups = await loadGroupsForLibrary(deps.db, r.library.id);
    return {
      ...steps,
      ok: true,
      library: { id: r.library.id, name: r.library.name, type: r.library.type, path: r.library.path },
      groups: groups.map((g) => {
        const playerPath = mapGroupPath(r.path, g.mappings);
        return {
          id: g.groupId,
          name: g.groupName,
          type: g.type,
          sharedLibrary: g.sharedLibrary,
          playerPath,
          mappingUsed: playerPath !== r.path,
          players: g.players.map((p) => ({ id: p.id, name: p.name })),
        };
      }),
      reason: groups.length
        ? null
        : `library "${r.library.name}" is linked to no player group, so no player will be told`,
    };
  });
};
