/**
 * Alert delivery: a channel's waiting events (`alert_outbox`) go out as ONE digest message — counts
 * per event type and the first few lines — so a burst of 500 dead letters is one message, not 500.
 * The rows are locked while the message is sent and stamped only when the receiver took it: a failed
 * send leaves them waiting for the job's retry, and two deliveries of one channel never send the same
 * event twice.
 */
import { sql } from 'kysely';
import { type AlertLevel, type AlertMessage, alertPeer, sendAlertMessage } from '../clients/alerts.ts';
import type { Db } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { serviceLogger } from '../log.ts';
import { type AlertChannelRecord, type AlertEventType, getAlertChannel } from '../records/alerts.ts';

export const ALERT_SERVICE = 'AlertService';
/** Lines a digest lists; the rest are counted. */
export const DIGEST_LINES = 5;
/** At most this many events per message; more wait for the next delivery. */
const DIGEST_MAX_EVENTS = 10_000;
/** Delivered events are kept this long (what was sent, for support), then removed. */
const KEEP_DAYS = 30;

const LABEL: Record<AlertEventType, [string, string]> = {
  'job-dead-lettered': ['job dead-lettered', 'jobs dead-lettered'],
  'player-unreachable': ['player unreachable', 'players unreachable'],
  'provider-key-rejected': ['provider key rejected', 'provider keys rejected'],
  'disk-full': ['disk full', 'disk full'],
  'item-healed': ['item healed', 'items healed'],
  'publish-done': ['movie published', 'movies published'],
};
const LEVEL: Record<AlertEventType, AlertLevel> = {
  'job-dead-lettered': 'failure',
  'player-unreachable': 'warning',
  'provider-key-rejected': 'failure',
  'disk-full': 'failure',
  'item-healed': 'info',
  'publish-done': 'success',
};
const SEVERITY: AlertLevel[] = ['success', 'info', 'warning', 'failure'];

interface DigestEvent {
  type: AlertEventType;
  message: string;
  details: Record<string, unknown>;
  createdAt: Date;
}

/** The digest of some events (in the order they happened): title, counts, first lines. */
export function digestMessage(events: DigestEvent[], counts: Map<AlertEventType, number>): AlertMessage {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts].map(([type, n]) => `${n} ${LABEL[type][n === 1 ? 0 : 1]}`);
  const level = [...counts.keys()]
    .map((t) => LEVEL[t])
    .reduce<AlertLevel>((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), 'success');
  const first = events.slice(0, DIGEST_LINES);
  const lines = first.map((e) => `• ${e.message}`);
  if (total > first.length) lines.push(`… and ${total - first.length} more`);
  return {
    title: total === 1 && first[0] ? `Metarr: ${LABEL[first[0].type][0]}` : `Metarr: ${parts.join(', ')}`,
    body: lines.join('\n'),
    level,
    data: {
      total,
      counts: Object.fromEntries(counts),
      events: first.map((e) => ({
        type: e.type,
        message: e.message,
        at: e.createdAt.toISOString(),
        details: e.details,
      })),
    },
  };
}

export type DeliverResult =
  | { channelId: number; sent: number; counts: Record<string, number>; status: number }
  | { channelId: number; skipped: string; dropped?: number }
  /** The oldest waiting event is younger than the digest window: deliver again in `waitSeconds`. */
  | { channelId: number; waitSeconds: number; waiting: number };

/**
 * Sends a channel's waiting events as one digest. Throws the transport's AppError (retryable for a
 * 5xx, a timeout, no connection) with the events still waiting.
 */
export async function deliverAlerts(
  deps: { db: Db; log: Logger; timeoutMs?: number; signal?: AbortSignal },
  channelId: number,
): Promise<DeliverResult> {
  const log = serviceLogger(deps.log, ALERT_SERVICE, { channelId });
  const channel = await getAlertChannel(deps.db, channelId);
  if (!channel) return { channelId, skipped: 'the channel was removed' };
  if (!channel.enabled) {
    // Disabled: what waited is dropped, so turning it back on does not send a backlog.
    const r = await deps.db
      .deleteFrom('alert_outbox')
      .where('channel_id', '=', channelId)
      .where('delivered_at', 'is', null)
      .executeTakeFirst();
    return { channelId, skipped: 'the channel is disabled', dropped: Number(r.numDeletedRows) };
  }
  return deps.db.transaction().execute(async (trx) => {
    // Locks this channel's waiting rows: a concurrent delivery waits, then finds them delivered.
    const { rows } = await sql<{ event_id: string; type: AlertEventType }>`
      select o.event_id, e.type from alert_outbox o join alert_events e on e.id = o.event_id
      where o.channel_id = ${channelId} and o.delivered_at is null
      order by o.event_id
      limit ${DIGEST_MAX_EVENTS}
      for update of o`.execute(trx);
    if (!rows.length) return { channelId, skipped: 'nothing waiting' };
    // A digest covers one window from its oldest event: a delivery that runs sooner (two events at
    // the same instant can each make one, in neighbouring debounce slots) sends nothing yet.
    const { rows: age } = await sql<{ seconds: number }>`
      select extract(epoch from now() - min(e.created_at))::float8 as seconds
      from alert_events e where e.id = any(${rows.map((r) => r.event_id)}::bigint[])`.execute(trx);
    const waitSeconds = channel.digestSeconds - (age[0]?.seconds ?? channel.digestSeconds);
    if (waitSeconds > 0.25) return { channelId, waitSeconds: Math.ceil(waitSeconds), waiting: rows.length };
    const counts = new Map<AlertEventType, number>();
    for (const r of rows) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const firstIds = rows.slice(0, DIGEST_LINES).map((r) => r.event_id);
    const first = await trx
      .selectFrom('alert_events')
      .select(['type', 'message', 'details', 'created_at'])
      .where('id', 'in', firstIds)
      .orderBy('id')
      .execute();
    const message = digestMessage(
      first.map((e) => ({
        type: e.type as AlertEventType,
        message: e.message,
        details: e.details,
        createdAt: e.created_at,
      })),
      counts,
    );
    const { status } = await sendAlertMessage(channel, message, {
      ...(deps.timeoutMs !== undefined && { timeoutMs: deps.timeoutMs }),
      ...(deps.signal && { signal: deps.signal }),
    });
    await trx
      .updateTable('alert_outbox')
      .set({ delivered_at: new Date() })
      .where('channel_id', '=', channelId)
      .where(
        'event_id',
        'in',
        rows.map((r) => r.event_id),
      )
      .execute();
    await sql`delete from alert_events e where e.created_at < now() - make_interval(days => ${KEEP_DAYS})
      and not exists (select 1 from alert_outbox o where o.event_id = e.id and o.delivered_at is null)`.execute(
      trx,
    );
    const out = { channelId, sent: rows.length, counts: Object.fromEntries(counts), status };
    log.info(
      { channelName: channel.name, type: channel.type, sent: rows.length, counts: out.counts },
      'Alert digest delivered',
    );
    return out;
  });
}

/** The outcome of a channel's Test action: a sentence either way, never a secret. */
export interface AlertTestResult {
  ok: boolean;
  status: number | null;
  code: string | null;
  message: string;
}

/** Sends a test message to a channel now (enabled or not) and says how it went. */
export async function testAlertChannel(
  deps: { log: Logger; timeoutMs?: number },
  channel: AlertChannelRecord,
): Promise<AlertTestResult> {
  const log = serviceLogger(deps.log, ALERT_SERVICE, { channelId: channel.id });
  const message: AlertMessage = {
    title: 'Metarr: test alert',
    body: `This is a test message from Metarr for the channel "${channel.name}". Alerts will arrive like this.`,
    level: 'info',
    data: { total: 0, counts: {}, events: [], test: true },
  };
  const peer = alertPeer(channel);
  try {
    const { status } = await sendAlertMessage(channel, message, {
      ...(deps.timeoutMs !== undefined && { timeoutMs: deps.timeoutMs }),
    });
    log.info({ channelName: channel.name, type: channel.type, status }, 'Alert channel tested');
    return { ok: true, status, code: null, message: `Delivered to ${peer} (HTTP ${status}).` };
  } catch (err) {
    const e = err as { code?: string; message?: string; details?: { status?: number } };
    log.warn({ channelName: channel.name, type: channel.type, code: e.code }, 'Alert channel test failed');
    return {
      ok: false,
      status: e.details?.status ?? null,
      code: e.code ?? 'ALERT_FAILED',
      message: `Test message not delivered: ${e.message ?? 'unknown error'}.`,
    };
  }
}
