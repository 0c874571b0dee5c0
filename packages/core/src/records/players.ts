import type { Db } from '../db/connect.ts';
import type { Player, PlayerType } from '../db/schema.ts';
import { openSecret, sealSecret, secretKey } from '../secrets.ts';

/**
 * Players: one media server each, in a group of its own type. Records carry the secrets: never log
 * them. The password and API key are stored sealed (secrets.ts) and opened here.
 */

/** What a call to a player needs: where it is and its credentials (opened, never logged). */
export interface PlayerConn {
  id: number;
  name: string;
  type: PlayerType;
  host: string;
  port: number;
  useTls: boolean;
  username?: string | null;
  password?: string | null;
  apiKey?: string | null;
}

export interface PlayerRecord {
  id: number;
  groupId: number;
  name: string;
  type: PlayerType;
  host: string;
  port: number;
  useTls: boolean;
  username: string | null;
  password: string | null;
  apiKey: string | null;
  enabled: boolean;
}

export interface PlayerInput {
  groupId: number;
  name: string;
  type: PlayerType;
  host: string;
  port: number;
  useTls?: boolean | undefined;
  username?: string | null | undefined;
  password?: string | null | undefined;
  apiKey?: string | null | undefined;
  enabled?: boolean | undefined;
}

/** What a player gets for each optional field its creator leaves out. */
export const PLAYER_DEFAULTS = { useTls: false, enabled: true } as const;

export const playerRecord = (p: Player): PlayerRecord => ({
  id: p.id,
  groupId: p.group_id,
  name: p.name,
  type: p.type,
  host: p.host,
  port: p.port,
  useTls: p.use_tls,
  username: p.username,
  password: openSecret(p.password),
  apiKey: openSecret(p.api_key),
  enabled: p.enabled,
});

export async function listPlayers(db: Db): Promise<PlayerRecord[]> {
  await secretKey();
  return (await db.selectFrom('players').selectAll().orderBy('id').execute()).map(playerRecord);
}

export async function getPlayer(db: Db, id: number): Promise<PlayerRecord | undefined> {
  await secretKey();
  const p = await db.selectFrom('players').selectAll().where('id', '=', id).executeTakeFirst();
  return p && playerRecord(p);
}

export async function createPlayer(db: Db, input: PlayerInput): Promise<PlayerRecord> {
  const p = await db
    .insertInto('players')
    .values({
      group_id: input.groupId,
      name: input.name,
      type: input.type,
      host: input.host,
      port: input.port,
      use_tls: input.useTls ?? PLAYER_DEFAULTS.useTls,
      username: input.username ?? null,
      password: await sealSecret(input.password ?? null),
      api_key: await sealSecret(input.apiKey ?? null),
      enabled: input.enabled ?? PLAYER_DEFAULTS.enabled,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return playerRecord(p);
}

/** The updated player, or undefined when there is none with this id. Changes only the fields given. */
export async function updatePlayer(
  db: Db,
  id: number,
  patch: Partial<PlayerInput>,
): Promise<PlayerRecord | undefined> {
  const p = await db
    .updateTable('players')
    .set({
      ...(patch.groupId !== undefined && { group_id: patch.groupId }),
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.type !== undefined && { type: patch.type }),
      ...(patch.host !== undefined && { host: patch.host }),
      ...(patch.port !== undefined && { port: patch.port }),
      ...(patch.useTls !== undefined && { use_tls: patch.useTls }),
      ...(patch.username !== undefined && { username: patch.username }),
      ...(patch.password !== undefined && { password: await sealSecret(patch.password) }),
      ...(patch.apiKey !== undefined && { api_key: await sealSecret(patch.apiKey) }),
      ...(patch.enabled !== undefined && { enabled: patch.enabled }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return p && playerRecord(p);
}

export async function deletePlayer(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('players').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
