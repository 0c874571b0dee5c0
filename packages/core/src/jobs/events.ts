import { type Kysely, sql } from 'kysely';

// Any database or transaction: events and jobs ride along whatever the caller is writing.
// biome-ignore lint/suspicious/noExplicitAny: accepts every Kysely schema
export type AnyKysely = Kysely<any>;

/** The PostgreSQL channel every process publishes job lifecycle events on. */
export const JOB_EVENTS_CHANNEL = 'metarr_job_events';

export type JobEventName = 'job:created' | 'job:started' | 'job:progress' | 'job:completed' | 'job:failed';

export interface JobEventData {
  jobId: string;
  type: string;
  priority: number;
  parentId?: string | null;
  waitMs?: number;
  progress?: number;
  detail?: string;
  durationMs?: number;
  error?: string;
  retryCount?: number;
  maxRetries?: number;
  willRetry?: boolean;
}

export interface JobEvent {
  event: JobEventName;
  data: JobEventData;
}

// NOTIFY payloads are capped at 8000 bytes; stay well under with room for the envelope.
const MAX_PAYLOAD = 7000;

export function encodeJobEvent(evt: JobEvent): string {
  let text = JSON.stringify(evt);
  if (text.length <= MAX_PAYLOAD) return text;
  const data = { ...evt.data };
  if (data.detail) data.detail = data.detail.slice(0, 500);
  if (data.error) data.error = data.error.slice(0, 1000);
  text = JSON.stringify({ event: evt.event, data });
  return text.length <= MAX_PAYLOAD
    ? text
    : JSON.stringify({ event: evt.event, data: { ...data, detail: undefined, error: 'truncated' } });
}

/**
 * Publishes through NOTIFY so every API replica's WebSocket clients see every job, whichever
 * process ran it. Inside a transaction the event is delivered only if the transaction commits.
 */
export async function publishJobEvent(db: AnyKysely, evt: JobEvent): Promise<void> {
  await sql`select pg_notify(${JOB_EVENTS_CHANNEL}, ${encodeJobEvent(evt)})`.execute(db);
}

/** Publishes many events in one round trip (a batch's or a bulk insert's). */
export async function publishJobEvents(db: AnyKysely, events: JobEvent[]): Promise<void> {
  if (!events.length) return;
  await sql`select pg_notify(${JOB_EVENTS_CHANNEL}, e) from unnest(${events.map(encodeJobEvent)}::text[]) as e`.execute(
    db,
  );
}
