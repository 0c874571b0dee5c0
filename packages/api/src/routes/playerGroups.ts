import {
  type Db,
  deletePlayerGroup,
  getPlayerGroup,
  insertPlayerGroup,
  loadPlayerGroups,
  missingLibraries,
  normalizePath,
  PLAYER_GROUP_DEFAULTS,
  type PlayerGroupRecord,
  replaceGroupLinks,
  updatePlayerGroup,
} from '@metarr/core';
import Type, { type Static } from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import { checkPath, translateDbError } from '../input.ts';
import type { Tag } from '../openapi.ts';
import { DbId, failure, IdParams, NoContent, Patch, StringEnum } from '../schemas.ts';

const tags: Tag[] = ['Player groups'];

export const PLAYER_TYPES = ['kodi', 'jellyfin', 'emby', 'plex'] as const;
export const PlayerType = StringEnum(PLAYER_TYPES, { description: 'Which media server software' });
const SCAN_WHILE_PLAYING = ['defer', 'always'] as const;

const D = PLAYER_GROUP_DEFAULTS;
const GroupMapping = Type.Object({
  from: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: 'A Metarr path prefix (absolute, on this host)',
    examples: ['/media/movies'],
  }),
  to: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: "The players' form of it",
    examples: ['smb://nas/movies/'],
  }),
});
const settings = {
  sharedLibrary: Type.Boolean({
    default: D.sharedLibrary,
    description: 'Members share one library database (Kodi on MySQL): the first reachable one is told',
  }),
  debounceSeconds: Type.Integer({
    minimum: 0,
    maximum: 3600,
    default: D.debounceSeconds,
    description: 'Notifications of one folder within this many seconds become one call (0 = off)',
  }),
  cleanAfterDelete: Type.Boolean({
    default: D.cleanAfterDelete,
    description: 'Kodi: clean the deleted folder from the library after a delete',
  }),
  scanWhilePlaying: StringEnum(SCAN_WHILE_PLAYING, {
    default: D.scanWhilePlaying,
    description: 'Kodi: `defer` waits while a video plays; `always` scans anyway',
  }),
};

const GroupBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, examples: ['Living room'] }),
  type: PlayerType,
  sharedLibrary: Type.Optional(settings.sharedLibrary),
  libraryIds: Type.Optional(
    Type.Array(DbId(), {
      maxItems: 1000,
      default: [],
      description: "Libraries whose changes this group's players are told about",
      examples: [[1]],
    }),
  ),
  pathMappings: Type.Optional(Type.Array(GroupMapping, { maxItems: 100, default: [] })),
  debounceSeconds: Type.Optional(settings.debounceSeconds),
  cleanAfterDelete: Type.Optional(settings.cleanAfterDelete),
  scanWhilePlaying: Type.Optional(settings.scanWhilePlaying),
});
type GroupBody = Static<typeof GroupBody>;

const PlayerGroup = Type.Object({
  id: Type.Integer({ examples: [1] }),
  name: Type.String({ examples: ['Living room'] }),
  type: PlayerType,
  ...settings,
  libraryIds: Type.Array(Type.Integer(), { examples: [[1]] }),
  pathMappings: Type.Array(GroupMapping),
});

const notFound = { 404: failure('No player group with this id') };
const duplicate = { 409: failure('A player group with this name already exists') };

/**
 * Writes the group's library links and path mappings (each list only when given); inside the
 * caller's transaction, so an unknown library or a bad path leaves the group as it was.
 */
async function writeLinks(trx: Db, groupId: number, b: Partial<GroupBody>): Promise<void> {
  const libraryIds = b.libraryIds && [...new Set(b.libraryIds)];
  const missing = libraryIds ? await missingLibraries(trx, libraryIds) : [];
  if (missing.length)
    throw httpError(400, `body/libraryIds refers to unknown libraries: ${missing.join(', ')}`);
  for (const [i, m] of (b.pathMappings ?? []).entries())
    checkPath(`pathMappings/${i}/from`, m.from, { posixOnly: true });
  await replaceGroupLinks(trx, groupId, {
    libraryIds,
    pathMappings: b.pathMappings?.map((m) => ({ from: normalizePath(m.from).path, to: m.to })),
  });
}

/** The group as it is now (it exists: the caller just wrote it). */
async function current(db: Db, id: number): Promise<PlayerGroupRecord> {
  const g = await getPlayerGroup(db, id);
  if (!g) throw httpError(404, `player group ${id} not found`);
  return g;
}

export const playerGroupRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/player-groups',
    { schema: { tags, summary: 'List player groups', response: { 200: Type.Array(PlayerGroup) } } },
    async () => loadPlayerGroups(db),
  );

  app.get(
    '/api/player-groups/:id',
    {
      schema: {
        tags,
        summary: 'Get a player group',
        params: IdParams,
        response: { 200: PlayerGroup, ...notFound },
      },
    },
    async (req) => current(db, req.params.id),
  );

  app.post(
    '/api/player-groups',
    {
      schema: {
        tags,
        summary: 'Add a player group',
        description: 'Settings left out take the defaults shown; players are added to the group afterwards.',
        body: GroupBody,
        response: { 201: PlayerGroup, ...duplicate },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const id = await db
        .transaction()
        .execute(async (trx) => {
          const id = await insertPlayerGroup(trx, b);
          await writeLinks(trx, id, b);
          return id;
        })
        .catch((e) => translateDbError(e, `a player group named ${b.name}`));
      return reply.code(201).send(await current(db, id));
    },
  );

  app.patch(
    '/api/player-groups/:id',
    {
      schema: {
        tags,
        summary: 'Change a player group',
        description: '`libraryIds` and `pathMappings`, when given, replace the lists as a whole.',
        params: IdParams,
        body: Patch(GroupBody),
        response: { 200: PlayerGroup, ...notFound, ...duplicate },
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      await db
        .transaction()
        .execute(async (trx) => {
          if (!(await updatePlayerGroup(trx, id, b))) throw httpError(404, `player group ${id} not found`);
          await writeLinks(trx, id, b);
        })
        .catch((e) => translateDbError(e, `a player group named ${b.name}`));
      return current(db, id);
    },
  );

  app.delete(
    '/api/player-groups/:id',
    {
      schema: {
        tags,
        summary: 'Remove a player group',
        description: 'Its players go with it.',
        params: IdParams,
        response: { 204: NoContent, ...notFound },
      },
    },
    async (req, reply) => {
      if (!(await deletePlayerGroup(db, req.params.id)))
        throw httpError(404, `player group ${req.params.id} not found`);
      return reply.code(204).send();
    },
  );
};
