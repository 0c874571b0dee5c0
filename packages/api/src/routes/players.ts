import {
  createJobReader,
  createPlayer,
  type Db,
  deletePlayer,
  getPlayer,
  lastPlayerAudit,
  listPlayers,
  PLAYER_DEFAULTS,
  type PlayerRecord,
  type PlayerType as PlayerTypeName,
  playerAuditFindings,
  playerGroupType,
  playerHostAllowed,
  testPlayer,
  updatePlayer,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import { translateDbError } from '../input.ts';
import type { Tag } from '../openapi.ts';
import {
  DbId,
  failure,
  IdParams,
  NoContent,
  Nullable,
  Patch,
  paging,
  Queued,
  StringEnum,
  Timestamp,
} from '../schemas.ts';
import { PlayerType } from './playerGroups.ts';

const tags: Tag[] = ['Players'];

const Secret = (maxLength: number, description: string) =>
  Nullable(Type.String({ maxLength, description: `${description}; write-only, \`null\` removes it` }));

const PlayerBody = Type.Object({
  groupId: DbId({ description: 'The group; its type must be the player type' }),
  name: Type.String({ minLength: 1, maxLength: 200, examples: ['Living room Kodi'] }),
  type: PlayerType,
  host: Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[A-Za-z0-9.:\\-\\[\\]_]+$',
    description: 'Host name or IP address (IPv6 in brackets)',
    examples: ['192.168.1.20'],
  }),
  port: Type.Integer({ minimum: 1, maximum: 65535, examples: [8080] }),
  useTls: Type.Optional(Type.Boolean({ default: PLAYER_DEFAULTS.useTls, description: 'Talk HTTPS' })),
  username: Type.Optional(Nullable(Type.String({ maxLength: 255, description: 'Kodi web server user' }))),
  password: Type.Optional(Secret(1024, 'Kodi web server password')),
  apiKey: Type.Optional(Secret(1024, 'Jellyfin/Emby API key or Plex token')),
  enabled: Type.Optional(
    Type.Boolean({ default: PLAYER_DEFAULTS.enabled, description: 'Disabled players are never told' }),
  ),
});

/** Secrets are write-only: the API says whether one is set, never what it is. */
const Player = Type.Object({
  id: Type.Integer({ examples: [1] }),
  groupId: Type.Integer({ examples: [1] }),
  name: Type.String({ examples: ['Living room Kodi'] }),
  type: PlayerType,
  host: Type.String({ examples: ['192.168.1.20'] }),
  port: Type.Integer({ examples: [8080] }),
  useTls: Type.Boolean(),
  username: Nullable(Type.String()),
  hasPassword: Type.Boolean(),
  hasApiKey: Type.Boolean(),
  enabled: Type.Boolean(),
});

const playerOut = (p: PlayerRecord) => ({
  id: p.id,
  groupId: p.groupId,
  name: p.name,
  type: p.type,
  host: p.host,
  port: p.port,
  useTls: p.useTls,
  username: p.username,
  hasPassword: Boolean(p.password),
  hasApiKey: Boolean(p.apiKey),
  enabled: p.enabled,
});

const TestResult = Type.Object({
  status: StringEnum(['ok', 'auth_failed', 'unreachable', 'refused', 'error'], {
    description:
      '`ok`: reachable, credentials accepted; `auth_failed`: credentials missing or refused; `unreachable`: no answer; `refused`: an address no player may have (link-local, metadata, unspecified); `error`: it answered, but not as a media server does',
  }),
  reachable: Type.Boolean({ description: 'The server answered' }),
  version: Nullable(Type.String({ examples: ['21.1.0'] })),
  authOk: Type.Boolean({ description: 'The credentials were accepted' }),
  message: Type.String({
    description: 'A sentence: what worked, or what failed and what to check',
    examples: ['Connected to Kodi (JSON-RPC 13.5.0).'],
  }),
});

const notFound = { 404: failure('No player with this id') };

const FINDING_KINDS = ['missing', 'gone', 'duplicate', 'stale'] as const;

const AuditQuery = Type.Object({
  repair: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'Also fix what the audit finds: missing → scan, gone → clean, stale → refresh (as `notify-group` jobs for this player), duplicates → the extra entry removed where the player can',
    }),
  ),
});

const ReportQuery = Type.Object({
  kind: Type.Optional(StringEnum(FINDING_KINDS, { description: 'Only findings of this kind' })),
  ...paging({ limit: 100, maxLimit: 1000 }),
});

const Finding = Type.Object({
  id: Type.String({ description: 'Stable order of the findings', examples: ['1'] }),
  kind: StringEnum(FINDING_KINDS, {
    description:
      "`missing`: Metarr has the movie, the player no item; `gone`: the player holds an item whose file is gone from disk; `duplicate`: a second item for one movie; `stale`: the item is older than Metarr's last publish (Plex only)",
  }),
  movieId: Nullable(Type.Integer({ examples: [12] })),
  libraryId: Nullable(Type.Integer({ examples: [1] })),
  itemId: Nullable(
    Type.String({ description: "The player's item id (Kodi movieid, Jellyfin id, Plex ratingKey)" }),
  ),
  keepItemId: Nullable(Type.String({ description: 'A duplicate: the item kept' })),
  playerPath: Nullable(Type.String({ examples: ['smb://nas/movies/Heat (1995)/Heat (1995).mkv'] })),
  metarrPath: Nullable(Type.String({ examples: ['/data/movies/Heat (1995)/Heat (1995).mkv'] })),
  moviePath: Nullable(
    Type.String({ description: "The movie's folder in Metarr, when the finding names a movie" }),
  ),
  detail: Type.String(),
});

const AuditReport = Type.Object({
  id: Type.Integer({ examples: [3] }),
  playerId: Type.Integer({ examples: [1] }),
  jobId: Nullable(Type.String({ description: 'The `audit-player` job' })),
  repair: Type.Boolean(),
  status: StringEnum(['running', 'done', 'failed'] as const),
  startedAt: Timestamp(),
  finishedAt: Nullable(Timestamp()),
  playerItems: Type.Integer({ description: "Items in the player's movie library" }),
  matched: Type.Integer({ description: "Items that stand for one of Metarr's movies" }),
  outside: Type.Integer({ description: "Items outside every library linked to the player's group" }),
  counts: Type.Object({
    missing: Type.Integer(),
    gone: Type.Integer(),
    duplicate: Type.Integer(),
    stale: Type.Integer(),
  }),
  staleChecked: Type.Boolean({ description: 'Whether the player says when an item last changed (Plex)' }),
  notes: Type.Array(Type.String(), { description: 'What the audit could not judge, and why' }),
  error: Nullable(Type.String({ description: 'Why a failed audit stopped' })),
  findings: Type.Object({
    total: Type.Integer({ description: 'Findings matching `kind`, in all' }),
    limit: Type.Integer(),
    offset: Type.Integer(),
    items: Type.Array(Finding),
  }),
});

/** Link-local (cloud metadata), `0.0.0.0/8` and `::` in any spelling, or a name resolving there. */
async function checkHost(host: string) {
  if (!(await playerHostAllowed(host)))
    throw httpError(
      400,
      'body/host must not be a link-local, metadata or unspecified address (169.254.0.0/16, fe80::/10, 0.0.0.0/8, ::)',
    );
}

/** A player's group must exist and be of the player's type. */
async function checkGroup(db: Db, groupId: number, type: PlayerTypeName) {
  const groupType = await playerGroupType(db, groupId);
  if (!groupType) throw httpError(400, `body/groupId refers to unknown player group ${groupId}`);
  if (groupType !== type) throw httpError(400, `body/type must match the group's type (${groupType})`);
}

export const playerRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/players',
    { schema: { tags, summary: 'List players', response: { 200: Type.Array(Player) } } },
    async () => (await listPlayers(db)).map(playerOut),
  );

  app.get(
    '/api/players/:id',
    { schema: { tags, summary: 'Get a player', params: IdParams, response: { 200: Player, ...notFound } } },
    async (req) => {
      const p = await getPlayer(db, req.params.id);
      if (!p) throw httpError(404, `player ${req.params.id} not found`);
      return playerOut(p);
    },
  );

  app.post(
    '/api/players',
    {
      schema: { tags, summary: 'Add a player', body: PlayerBody, response: { 201: Player } },
    },
    async (req, reply) => {
      const b = req.body;
      await checkHost(b.host);
      await checkGroup(db, b.groupId, b.type);
      return reply.code(201).send(playerOut(await createPlayer(db, b)));
    },
  );

  app.patch(
    '/api/players/:id',
    {
      schema: {
        tags,
        summary: 'Change a player',
        params: IdParams,
        body: Patch(PlayerBody),
        response: { 200: Player, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      const current = await getPlayer(db, id);
      if (!current) throw httpError(404, `player ${id} not found`);
      if (b.host !== undefined) await checkHost(b.host);
      if (b.groupId !== undefined || b.type !== undefined)
        await checkGroup(db, b.groupId ?? current.groupId, b.type ?? current.type);
      const p = await updatePlayer(db, id, b).catch((e) => translateDbError(e, 'that player'));
      if (!p) throw httpError(404, `player ${id} not found`);
      return playerOut(p);
    },
  );

  app.delete(
    '/api/players/:id',
    {
      schema: {
        tags,
        summary: 'Remove a player',
        params: IdParams,
        response: { 204: NoContent, ...notFound },
      },
    },
    async (req, reply) => {
      if (!(await deletePlayer(db, req.params.id))) throw httpError(404, `player ${req.params.id} not found`);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/players/:id/test',
    {
      schema: {
        tags,
        summary: 'Test a player connection',
        description:
          "Reachability, version and credentials as a `status`, with a sentence for a failure (never the remote's own error text). A failed test is still a 200: the result says what failed.",
        params: IdParams,
        response: { 200: TestResult, ...notFound },
      },
    },
    async (req) => {
      const p = await getPlayer(db, req.params.id);
      if (!p) throw httpError(404, `player ${req.params.id} not found`);
      const result = await testPlayer(p);
      deps.log.info(
        {
          service: 'MediaPlayerNotificationService',
          playerId: p.id,
          status: result.status,
          reachable: result.reachable,
          authOk: result.authOk,
        },
        'Player connection tested',
      );
      return result;
    },
  );

  app.post(
    '/api/players/:id/audit',
    {
      schema: {
        tags,
        summary: "Audit a player's library",
        description:
          "Queues an `audit-player` job: the player's movie library is compared with Metarr's through the group's path mappings (missing, gone, duplicate, stale). `GET` this path for the report.",
        params: IdParams,
        querystring: AuditQuery,
        response: {
          202: Queued,
          ...notFound,
          409: failure('An audit of this player is already queued or running'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await getPlayer(db, id))) throw httpError(404, `player ${id} not found`);
      // Two audits of one player would share nothing but the load: one at a time. (Two requests at
      // the same instant can both pass this check; the second audit then only repeats the first.)
      const busy = await createJobReader(db).unfinishedPayloadValues('audit-player', 'playerId');
      if (busy.includes(String(id)))
        throw httpError(409, `an audit of player ${id} is already queued or running`);
      const job = await deps.queue.enqueue(
        'audit-player',
        { playerId: id, repair: req.query.repair ?? false },
        { source: 'PlayerController' },
      );
      return reply.code(202).send({ jobId: job?.id ?? null });
    },
  );

  app.get(
    '/api/players/:id/audit',
    {
      schema: {
        tags,
        summary: "The last audit of a player's library",
        description:
          'The latest audit (running, done or failed) with its counts and one page of its findings, oldest first.',
        params: IdParams,
        querystring: ReportQuery,
        response: { 200: AuditReport, 404: failure('No player with this id, or it was never audited') },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await getPlayer(db, id))) throw httpError(404, `player ${id} not found`);
      const audit = await lastPlayerAudit(db, id);
      if (!audit)
        throw httpError(404, `player ${id} has not been audited yet; POST /api/players/${id}/audit`);
      const limit = req.query.limit ?? 100;
      const offset = req.query.offset ?? 0;
      const page = await playerAuditFindings(db, audit.id, { kind: req.query.kind, limit, offset });
      // A worker killed mid-audit leaves the row running; once its job is over, say so.
      if (audit.status === 'running' && audit.jobId) {
        const state = await createJobReader(db).state('audit-player', audit.jobId);
        if (state === undefined || state === 'failed' || state === 'cancelled' || state === 'completed') {
          audit.status = 'failed';
          audit.error = `the audit-player job ended (${state ?? 'deleted'}) before the audit finished`;
        }
      }
      return { ...audit, findings: { total: page.total, limit, offset, items: page.findings } };
    },
  );
};
