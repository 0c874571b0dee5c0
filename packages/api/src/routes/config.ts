import fs from 'node:fs/promises';
import type { Db, Player } from '@metarr/core';
import { checkArrPath, isWithin, normalizePath, syncSchedules } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const LibraryType = Type.Union([Type.Literal('movie'), Type.Literal('tv'), Type.Literal('music')]);
const ManagerT = Type.Union([Type.Literal('radarr'), Type.Literal('sonarr'), Type.Literal('lidarr')]);
const PlayerTypeT = Type.Union([
  Type.Literal('kodi'),
  Type.Literal('jellyfin'),
  Type.Literal('emby'),
  Type.Literal('plex'),
]);
const PathStr = Type.String({ minLength: 1, maxLength: 4096 });

const LibraryBody = Type.Object({ name: Name, type: LibraryType, path: PathStr });
const PathMappingBody = Type.Object({ manager: ManagerT, from: PathStr, to: PathStr });
const GroupMapping = Type.Object({ from: PathStr, to: PathStr });
const GroupBody = Type.Object({
  name: Name,
  type: PlayerTypeT,
  sharedLibrary: Type.Optional(Type.Boolean()),
  libraryIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000 })),
  pathMappings: Type.Optional(Type.Array(GroupMapping, { maxItems: 100 })),
  /** Notifications of one folder within this many seconds become one call (0 = off). */
  debounceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  /** Kodi: clean the deleted folder from the library after a delete. */
  cleanAfterDelete: Type.Optional(Type.Boolean()),
  /** Kodi: `defer` waits while a video plays; `always` scans anyway. */
  scanWhilePlaying: Type.Optional(Type.Union([Type.Literal('defer'), Type.Literal('always')])),
});
const PlayerBody = Type.Object({
  groupId: Type.Integer({ minimum: 1 }),
  name: Name,
  type: PlayerTypeT,
  host: Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:\\-\\[\\]_]+$' }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  useTls: Type.Optional(Type.Boolean()),
  username: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  password: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  apiKey: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  enabled: Type.Optional(Type.Boolean()),
});
const partial = <T extends Type.TObject>(t: T) => Type.Partial(t, { minProperties: 1 });

function checkPath(field: string, p: string, opts: { posixOnly?: boolean } = {}) {
  const problem = checkArrPath(p);
  if (problem) throw httpError(400, `body/${field} ${problem}`);
  if (opts.posixOnly && !p.startsWith('/'))
    throw httpError(400, `body/${field} must be an absolute path on this host`);
}

/** A library root must be a directory this host can read, and not inside (or around) another library. */
async function checkLibraryRoot(db: Db, path: string, selfId?: number): Promise<string> {
  checkPath('path', path, { posixOnly: true });
  const root = normalizePath(path).path;
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    st = await fs.stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw httpError(
      400,
      `body/path ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: ${root}`,
    );
  }
  if (!st.isDirectory()) throw httpError(400, `body/path is not a directory: ${root}`);
  const others = await db.selectFrom('libraries').select(['id', 'name', 'path']).execute();
  for (const o of others) {
    if (o.id === selfId) continue;
    if (isWithin(root, o.path) || isWithin(o.path, root)) {
      throw httpError(
        409,
        `body/path ${root} overlaps library ${o.id} "${o.name}" at ${o.path}: one library root cannot contain another`,
      );
    }
  }
  return root;
}

/** Postgres unique/foreign-key violations are the client's conflict, not a server error. */
function translateDbError(err: unknown, what: string): never {
  const code = (err as { code?: string }).code;
  if (code === '23505') throw httpError(409, `${what} already exists`);
  if (code === '23503') throw httpError(400, `${what} refers to something that does not exist`);
  throw err;
}

const libraryOut = (r: { id: number; name: string; type: string; path: string; created_at: Date }) => ({
  id: r.id,
  name: r.name,
  type: r.type,
  path: r.path,
  createdAt: r.created_at,
});

/** Secrets are write-only: the API says whether one is set, never what it is. */
const playerOut = (p: Player) => ({
  id: p.id,
  groupId: p.group_id,
  name: p.name,
  type: p.type,
  host: p.host,
  port: p.port,
  useTls: p.use_tls,
  username: p.username,
  hasPassword: Boolean(p.password),
  hasApiKey: Boolean(p.api_key),
  enabled: p.enabled,
});

async function groupOut(db: Db, ids?: number[]) {
  let q = db.selectFrom('player_groups').selectAll().orderBy('id');
  if (ids) q = q.where('id', 'in', ids.length ? ids : [-1]);
  const groups = await q.execute();
  if (!groups.length) return [];
  const gids = groups.map((g) => g.id);
  const [libs, maps] = await Promise.all([
    db.selectFrom('player_group_libraries').selectAll().where('group_id', 'in', gids).execute(),
    db
      .selectFrom('player_group_path_mappings')
      .selectAll()
      .where('group_id', 'in', gids)
      .orderBy('id')
      .execute(),
  ]);
  return groups.map((g) => ({
    id: g.id,
    name: g.name,
    type: g.type,
    sharedLibrary: g.shared_library,
    debounceSeconds: g.debounce_seconds,
    cleanAfterDelete: g.clean_after_delete,
    scanWhilePlaying: g.scan_while_playing,
    libraryIds: libs.filter((l) => l.group_id === g.id).map((l) => l.library_id),
    pathMappings: maps.filter((m) => m.group_id === g.id).map((m) => ({ from: m.from_path, to: m.to_path })),
  }));
}

export const configRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const db = deps.db;

  // ── libraries ────────────────────────────────────────────────────────────
  // A library's file-scan schedule follows the library; a failure here is repaired by the next
  // sync (every worker start), so it is logged, not turned into a failed request.
  const resync = () =>
    syncSchedules({ db, boss: deps.boss, log: deps.log }).then(
      () => {},
      (err: unknown) =>
        deps.log.error({ service: 'ScheduleService', err: { message: String(err) } }, 'Schedule sync failed'),
    );
  app.get('/api/libraries', async () =>
    (await db.selectFrom('libraries').selectAll().orderBy('id').execute()).map(libraryOut),
  );
  app.get('/api/libraries/:id', { schema: { params: IdParams } }, async (req) => {
    const { id } = req.params as { id: number };
    const row = await db.selectFrom('libraries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw httpError(404, `library ${id} not found`);
    return libraryOut(row);
  });
  app.post('/api/libraries', { schema: { body: LibraryBody } }, async (req, reply) => {
    const b = req.body as Type.Static<typeof LibraryBody>;
    const path = await checkLibraryRoot(db, b.path);
    const row = await db
      .insertInto('libraries')
      .values({ name: b.name, type: b.type, path })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((e) => translateDbError(e, `a library at ${b.path}`));
    await resync();
    return reply.code(201).send(libraryOut(row));
  });
  app.patch(
    '/api/libraries/:id',
    { schema: { params: IdParams, body: partial(LibraryBody) } },
    async (req) => {
      const { id } = req.params as { id: number };
      const b = req.body as Partial<Type.Static<typeof LibraryBody>>;
      const exists = await db.selectFrom('libraries').select('id').where('id', '=', id).executeTakeFirst();
      if (!exists) throw httpError(404, `library ${id} not found`);
      const path = b.path !== undefined ? await checkLibraryRoot(db, b.path, id) : undefined;
      const row = await db
        .updateTable('libraries')
        .set({ ...b, ...(path !== undefined && { path }) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
        .catch((e) => translateDbError(e, `a library at ${b.path}`));
      if (!row) throw httpError(404, `library ${id} not found`);
      if (b.type !== undefined) await resync();
      return libraryOut(row);
    },
  );
  app.delete('/api/libraries/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const r = await db.deleteFrom('libraries').where('id', '=', id).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw httpError(404, `library ${id} not found`);
    await resync();
    return reply.code(204).send();
  });
  app.post('/api/libraries/:id/scan', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const row = await db.selectFrom('libraries').select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw httpError(404, `library ${id} not found`);
    const job = await deps.queue.enqueue('library-scan', { libraryId: id }, { source: 'LibraryController' });
    return reply.code(202).send({ jobId: job?.id ?? null });
  });

  // ── manager path mappings ────────────────────────────────────────────────
  const mappingOut = (m: { id: number; manager: string; from_path: string; to_path: string }) => ({
    id: m.id,
    manager: m.manager,
    from: m.from_path,
    to: m.to_path,
  });
  app.get('/api/path-mappings', async () =>
    (await db.selectFrom('path_mappings').selectAll().orderBy('id').execute()).map(mappingOut),
  );
  app.post('/api/path-mappings', { schema: { body: PathMappingBody } }, async (req, reply) => {
    const b = req.body as Type.Static<typeof PathMappingBody>;
    checkPath('from', b.from);
    checkPath('to', b.to, { posixOnly: true });
    const row = await db
      .insertInto('path_mappings')
      .values({ manager: b.manager, from_path: b.from, to_path: normalizePath(b.to).path })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((e) => translateDbError(e, `a ${b.manager} mapping from ${b.from}`));
    return reply.code(201).send(mappingOut(row));
  });
  app.patch(
    '/api/path-mappings/:id',
    { schema: { params: IdParams, body: partial(PathMappingBody) } },
    async (req) => {
      const { id } = req.params as { id: number };
      const b = req.body as Partial<Type.Static<typeof PathMappingBody>>;
      if (b.from !== undefined) checkPath('from', b.from);
      if (b.to !== undefined) checkPath('to', b.to, { posixOnly: true });
      const row = await db
        .updateTable('path_mappings')
        .set({
          ...(b.manager !== undefined && { manager: b.manager }),
          ...(b.from !== undefined && { from_path: b.from }),
          ...(b.to !== undefined && { to_path: normalizePath(b.to).path }),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
        .catch((e) => translateDbError(e, 'that mapping'));
      if (!row) throw httpError(404, `path mapping ${id} not found`);
      return mappingOut(row);
    },
  );
  app.delete('/api/path-mappings/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const r = await db.deleteFrom('path_mappings').where('id', '=', id).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw httpError(404, `path mapping ${id} not found`);
    return reply.code(204).send();
  });

  // ── player groups ────────────────────────────────────────────────────────
  async function writeGroupLinks(
    trx: Db,
    groupId: number,
    b: { libraryIds?: number[] | undefined; pathMappings?: { from: string; to: string }[] | undefined },
  ) {
    if (b.libraryIds) {
      await trx.deleteFrom('player_group_libraries').where('group_id', '=', groupId).execute();
      const ids = [...new Set(b.libraryIds)];
      if (ids.length) {
        const found = await trx.selectFrom('libraries').select('id').where('id', 'in', ids).execute();
        const missing = ids.filter((i) => !found.some((f) => f.id === i));
        if (missing.length)
          throw httpError(400, `body/libraryIds refers to unknown libraries: ${missing.join(', ')}`);
        await trx
          .insertInto('player_group_libraries')
          .values(ids.map((library_id) => ({ group_id: groupId, library_id })))
          .execute();
      }
    }
    if (b.pathMappings) {
      for (const [i, m] of b.pathMappings.entries())
        checkPath(`pathMappings/${i}/from`, m.from, { posixOnly: true });
      await trx.deleteFrom('player_group_path_mappings').where('group_id', '=', groupId).execute();
      if (b.pathMappings.length) {
        await trx
          .insertInto('player_group_path_mappings')
          .values(
            b.pathMappings.map((m) => ({
              group_id: groupId,
              from_path: normalizePath(m.from).path,
              to_path: m.to,
            })),
          )
          .execute();
      }
    }
  }

  app.get('/api/player-groups', async () => groupOut(db));
  app.get('/api/player-groups/:id', { schema: { params: IdParams } }, async (req) => {
    const { id } = req.params as { id: number };
    const [g] = await groupOut(db, [id]);
    if (!g) throw httpError(404, `player group ${id} not found`);
    return g;
  });
  app.post('/api/player-groups', { schema: { body: GroupBody } }, async (req, reply) => {
    const b = req.body as Type.Static<typeof GroupBody>;
    const id = await db
      .transaction()
      .execute(async (trx) => {
        const g = await trx
          .insertInto('player_groups')
          .values({
            name: b.name,
            type: b.type,
            shared_library: b.sharedLibrary ?? false,
            ...(b.debounceSeconds !== undefined && { debounce_seconds: b.debounceSeconds }),
            ...(b.cleanAfterDelete !== undefined && { clean_after_delete: b.cleanAfterDelete }),
            ...(b.scanWhilePlaying !== undefined && { scan_while_playing: b.scanWhilePlaying }),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await writeGroupLinks(trx, g.id, b);
        return g.id;
      })
      .catch((e) => translateDbError(e, `a player group named ${b.name}`));
    const [g] = await groupOut(db, [id]);
    return reply.code(201).send(g);
  });
  app.patch(
    '/api/player-groups/:id',
    { schema: { params: IdParams, body: partial(GroupBody) } },
    async (req) => {
      const { id } = req.params as { id: number };
      const b = req.body as Partial<Type.Static<typeof GroupBody>>;
      await db
        .transaction()
        .execute(async (trx) => {
          const exists = await trx
            .selectFrom('player_groups')
            .select('id')
            .where('id', '=', id)
            .executeTakeFirst();
          if (!exists) throw httpError(404, `player group ${id} not found`);
          const set = {
            ...(b.name !== undefined && { name: b.name }),
            ...(b.type !== undefined && { type: b.type }),
            ...(b.sharedLibrary !== undefined && { shared_library: b.sharedLibrary }),
            ...(b.debounceSeconds !== undefined && { debounce_seconds: b.debounceSeconds }),
            ...(b.cleanAfterDelete !== undefined && { clean_after_delete: b.cleanAfterDelete }),
            ...(b.scanWhilePlaying !== undefined && { scan_while_playing: b.scanWhilePlaying }),
          };
          if (Object.keys(set).length)
            await trx.updateTable('player_groups').set(set).where('id', '=', id).execute();
          await writeGroupLinks(trx, id, b);
        })
        .catch((e) => translateDbError(e, `a player group named ${b.name}`));
      const [g] = await groupOut(db, [id]);
      return g;
    },
  );
  app.delete('/api/player-groups/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const r = await db.deleteFrom('player_groups').where('id', '=', id).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw httpError(404, `player group ${id} not found`);
    return reply.code(204).send();
  });

  // ── players ──────────────────────────────────────────────────────────────
  app.get('/api/players', async () =>
    (await db.selectFrom('players').selectAll().orderBy('id').execute()).map(playerOut),
  );
  app.get('/api/players/:id', { schema: { params: IdParams } }, async (req) => {
    const { id } = req.params as { id: number };
    const p = await db.selectFrom('players').selectAll().where('id', '=', id).executeTakeFirst();
    if (!p) throw httpError(404, `player ${id} not found`);
    return playerOut(p);
  });
  app.post('/api/players', { schema: { body: PlayerBody } }, async (req, reply) => {
    const b = req.body as Type.Static<typeof PlayerBody>;
    const group = await db
      .selectFrom('player_groups')
      .select(['id', 'type'])
      .where('id', '=', b.groupId)
      .executeTakeFirst();
    if (!group) throw httpError(400, `body/groupId refers to unknown player group ${b.groupId}`);
    if (group.type !== b.type) throw httpError(400, `body/type must match the group's type (${group.type})`);
    const p = await db
      .insertInto('players')
      .values({
        group_id: b.groupId,
        name: b.name,
        type: b.type,
        host: b.host,
        port: b.port,
        use_tls: b.useTls ?? false,
        username: b.username ?? null,
        password: b.password ?? null,
        api_key: b.apiKey ?? null,
        enabled: b.enabled ?? true,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return reply.code(201).send(playerOut(p));
  });
  app.patch('/api/players/:id', { schema: { params: IdParams, body: partial(PlayerBody) } }, async (req) => {
    const { id } = req.params as { id: number };
    const b = req.body as Partial<Type.Static<typeof PlayerBody>>;
    const current = await db
      .selectFrom('players')
      .select(['group_id', 'type'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!current) throw httpError(404, `player ${id} not found`);
    if (b.groupId !== undefined || b.type !== undefined) {
      const groupId = b.groupId ?? current.group_id;
      const group = await db
        .selectFrom('player_groups')
        .select('type')
        .where('id', '=', groupId)
        .executeTakeFirst();
      if (!group) throw httpError(400, `body/groupId refers to unknown player group ${groupId}`);
      if (group.type !== (b.type ?? current.type))
        throw httpError(400, `body/type must match the group's type (${group.type})`);
    }
    const p = await db
      .updateTable('players')
      .set({
        ...(b.groupId !== undefined && { group_id: b.groupId }),
        ...(b.name !== undefined && { name: b.name }),
        ...(b.type !== undefined && { type: b.type }),
        ...(b.host !== undefined && { host: b.host }),
        ...(b.port !== undefined && { port: b.port }),
        ...(b.useTls !== undefined && { use_tls: b.useTls }),
        ...(b.username !== undefined && { username: b.username }),
        ...(b.password !== undefined && { password: b.password }),
        ...(b.apiKey !== undefined && { api_key: b.apiKey }),
        ...(b.enabled !== undefined && { enabled: b.enabled }),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
      .catch((e) => translateDbError(e, 'that player'));
    if (!p) throw httpError(404, `player ${id} not found`);
    return playerOut(p);
  });
  app.delete('/api/players/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const r = await db.deleteFrom('players').where('id', '=', id).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw httpError(404, `player ${id} not found`);
    return reply.code(204).send();
  });
};
