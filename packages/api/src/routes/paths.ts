import { checkArrPath, explainArrPath } from '@metarr/core';
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
      return explainArrPath(deps.db, manager, path);
    },
  );
};
