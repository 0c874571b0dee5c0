import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { AlertChannel, AlertChannelType } from '../db/schema.ts';
import { openSecret, sealSecret, secretKey } from '../secrets.ts';

/**
 * Alert channels (where alerts go), alert events (what happened) and the outbox between them (which
 * channel still has to be told about which event). Records carry the channels' secrets opened: never
 * log them. `url` and `token` are stored sealed (secrets.ts), like player passwords.
 */

export const ALERT_CHANNEL_TYPES = ['webhook', 'discord', 'ntfy', 'apprise'] as const;

/**
 * What a channel can be told about. `item-healed` is accepted in a filter, but nothing emits it yet.
 */
export const ALERT_EVENT_TYPES = [
  'job-dead-lettered',
  'player-unreachable',
  'provider-key-rejected',
  'disk-full',
  'item-healed',
  'publish-done',
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** What a channel gets for each optional field its creator leaves out. */
export const ALERT_DEFAULTS = {
  enabled: true,
  /** Everything but `publish-done`, which would be one message per published movie. */
  events: ALERT_EVENT_TYPES.filter((e) => e !== 'publish-done') as AlertEventType[],
  unreachableMinutes: 10,
  digestSeconds: 60,
} as const;

export interface AlertChannelRecord {
  id: number;
  name: string;
  type: AlertChannelType;
  /** Opened: a Discord or webhook URL carries its token. Never log it, never return it. */
  url: string;
  /** ntfy access token or Apprise configuration key, opened. */
  token: string | null;
  topic: string | null;
  enabled: boolean;
  events: AlertEventType[];
  unreachableMinutes: number;
  digestSeconds: number;
}

export interface AlertChannelInput {
  name: string;
  type: AlertChannelType;
  url: string;
  token?: string | null | undefined;
  topic?: string | null | undefined;
  enabled?: boolean | undefined;
  events?: AlertEventType[] | undefined;
  unreachableMinutes?: number | undefined;
  digestSeconds?: number | undefined;
}

export const alertChannelRecord = (c: AlertChannel): AlertChannelRecord => ({
  id: c.id,
  name: c.name,
  type: c.type,
  url: openSecret(c.url) ?? '',
  token: openSecret(c.token),
  topic: c.topic,
  enabled: c.enabled,
  events: c.events as AlertEventType[],
  unreachableMinutes: c.unreachable_minutes,
  digestSeconds: c.digest_seconds,
});

/**
 * A URL with its secret part cut off: scheme, host and port, then `/…` when there was more (a path,
 * a query, credentials). What the API answers instead of a stored URL.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const more = (u.pathname !== '/' && u.pathname !== '') || u.search || u.username || u.password;
    return `${u.origin}${more ? '/…' : ''}`;
  } catch {
    return '…';
  }
}

export async function listAlertChannels(db: Db): Promise<AlertChannelRecord[]> {
  await secretKey();
  return (await db.selectFrom('alert_channels').selectAll().orderBy('id').execute()).map(alertChannelRecord);
}

export async function getAlertChannel(db: Db, id: number): Promise<AlertChannelRecord | undefined> {
  await secretKey();
  const c = await db.selectFrom('alert_channels').selectAll().where('id', '=', id).executeTakeFirst();
  return c && alertChannelRecord(c);
}

export async function createAlertChannel(db: Db, input: AlertChannelInput): Promise<AlertChannelRecord> {
  const c = await db
    .insertInto('alert_channels')
    .values({
      name: input.name,
      type: input.type,
      url: (await sealSecret(input.url)) ?? '',
      token: await sealSecret(input.token ?? null),
      topic: input.topic ?? null,
      enabled: input.enabled ?? ALERT_DEFAULTS.enabled,
      events: [...new Set(input.events ?? ALERT_DEFAULTS.events)],
      unreachable_minutes: input.unreachableMinutes ?? ALERT_DEFAULTS.unreachableMinutes,
      digest_seconds: input.digestSeconds ?? ALERT_DEFAULTS.digestSeconds,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return alertChannelRecord(c);
}

/**
 * Replaces a channel's settings (PUT). `url` and `token` left out (undefined) keep what is stored:
 * they are write-only, so a client that read the channel cannot send them back.
 */
export async function replaceAlertChannel(
  db: Db,
  id: number,
  input: Omit<AlertChannelInput, 'url'> & { url?: string | undefined },
): Promise<AlertChannelRecord | undefined> {
  const c = await db
    .updateTable('alert_channels')
    .set({
      name: input.name,
      type: input.type,
      ...(input.url !== undefined && { url: (await sealSecret(input.url)) ?? '' }),
      ...(input.token !== undefined && { token: await sealSecret(input.token) }),
      topic: input.topic ?? null,
      enabled: input.enabled ?? ALERT_DEFAULTS.enabled,
      events: [...new Set(input.events ?? ALERT_DEFAULTS.events)],
      unreachable_minutes: input.unreachableMinutes ?? ALERT_DEFAULTS.unreachableMinutes,
      digest_seconds: input.digestSeconds ?? ALERT_DEFAULTS.digestSeconds,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return c && alertChannelRecord(c);
}

export async function deleteAlertChannel(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('alert_channels').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---------------------------------------------------------------------------------------------
// Events

export interface AlertEventInput {
  type: AlertEventType;
  /** One line a person reads: what happened and where. Never a secret. */
  message: string;
  details?: Record<string, unknown>;
}

/** A channel that has new alerts waiting, and its digest window (the caller enqueues its delivery). */
export interface AlertWake {
  channelId: number;
  digestSeconds: number;
}

/**
 * Records an event for every enabled channel whose filter takes its type, in one statement. Nothing
 * is stored when no channel wants it. Returns the channels to wake.
 */
export async function recordAlertEvent(db: Db, e: AlertEventInput): Promise<AlertWake[]> {
  const { rows } = await sql<{ channel_id: number; digest_seconds: number }>`
    with wanted as (
      select id, digest_seconds from alert_channels where enabled and ${e.type} = any(events)
    ), ev as (
      insert into alert_events (type, message, details)
      select ${e.type}, ${e.message}, ${JSON.stringify(e.details ?? {})}::jsonb
      where exists (select 1 from wanted)
      returning id
    ), ob as (
      insert into alert_outbox (channel_id, event_id)
      select wanted.id, ev.id from wanted, ev
      returning channel_id
    )
    select ob.channel_id, wanted.digest_seconds from ob join wanted on wanted.id = ob.channel_id`.execute(db);
  return rows.map((r) => ({ channelId: r.channel_id, digestSeconds: r.digest_seconds }));
}

/**
 * What notify attempts saw of players: a reached player's outage ends; a failed one's starts (or
 * goes on: its `since` is kept, so every worker measures the same outage). For each channel whose
 * `unreachableMinutes` the outage has now lasted, one `player-unreachable` event is recorded, once
 * per outage and channel (a dedupe key of player + outage start), however many workers see it.
 */
export async function notePlayerReachability(
  db: Db,
  seen: { reached: number[]; failed: { playerId: number; error: string }[]; now: Date },
): Promise<AlertWake[]> {
  if (seen.reached.length)
    await db.deleteFrom('player_outages').where('player_id', 'in', seen.reached).execute();
  const wakes: AlertWake[] = [];
  for (const f of seen.failed) {
    const outage = await db
      .insertInto('player_outages')
      .values({ player_id: f.playerId, since: seen.now, last_error: f.error.slice(0, 500) })
      .onConflict((oc) => oc.column('player_id').doUpdateSet({ last_error: f.error.slice(0, 500) }))
      .returning(['since'])
      .executeTakeFirst();
    if (!outage) continue;
    const since = new Date(outage.since);
    const key = `player-unreachable:${f.playerId}:${since.getTime()}`;
    const minutes = Math.floor((seen.now.getTime() - since.getTime()) / 60_000);
    const { rows } = await sql<{ channel_id: number; digest_seconds: number }>`
      with due as (
        select c.id, c.digest_seconds from alert_channels c
        where c.enabled and 'player-unreachable' = any(c.events)
          and ${since}::timestamptz <= ${seen.now}::timestamptz - make_interval(mins => c.unreachable_minutes)
          and not exists (select 1 from alert_outbox o where o.channel_id = c.id and o.dedupe_key = ${key})
      ), player as (
        select p.name, p.type, p.host, p.port from players p where p.id = ${f.playerId}
      ), ev as (
        insert into alert_events (type, message, details)
        select 'player-unreachable',
          'Player ' || player.name || ' (' || player.type || ', ' || player.host || ':' || player.port
            || ') unreachable for ' || ${minutes}::int || ' minutes: ' || ${f.error.slice(0, 300)}::text,
          jsonb_build_object('playerId', ${f.playerId}::int, 'since', ${since.toISOString()}::text,
            'minutes', ${minutes}::int)
        from player where exists (select 1 from due)
        returning id
      ), ob as (
        insert into alert_outbox (channel_id, event_id, dedupe_key)
        select due.id, ev.id, ${key} from due, ev
        on conflict do nothing
        returning channel_id
      )
      select ob.channel_id, due.digest_seconds from ob join due on due.id = ob.channel_id`.execute(db);
    for (const r of rows) wakes.push({ channelId: r.channel_id, digestSeconds: r.digest_seconds });
  }
  return wakes;
}

/** A channel's waiting event, as a digest lists it. */
export interface PendingAlert {
  eventId: string;
  type: AlertEventType;
  message: string;
  details: Record<string, unknown>;
  createdAt: Date;
}
