import type { Db } from '../db/connect.ts';
import type { DeliveryStatus, Manager, WebhookDelivery } from '../db/schema.ts';

/** Webhook deliveries as received: one row per request, with what became of it. */

export interface DeliveryRecord {
  id: number;
  source: Manager;
  eventType: string;
  instanceName: string | null;
  status: DeliveryStatus;
  jobId: string | null;
  outcome: string | null;
  receivedAt: Date;
}

export interface DeliveryFilter {
  source?: Manager | undefined;
  eventType?: string | undefined;
  status?: DeliveryStatus | undefined;
  limit: number;
  offset: number;
}

/** Newest first. */
export async function listDeliveries(db: Db, f: DeliveryFilter): Promise<DeliveryRecord[]> {
  let query = db
    .selectFrom('webhook_deliveries')
    .select(['id', 'source', 'event_type', 'instance_name', 'status', 'job_id', 'outcome', 'received_at'])
    .orderBy('id', 'desc')
    .limit(f.limit)
    .offset(f.offset);
  if (f.source) query = query.where('source', '=', f.source);
  if (f.eventType) query = query.where('event_type', '=', f.eventType);
  if (f.status) query = query.where('status', '=', f.status);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    source: r.source,
    eventType: r.event_type,
    instanceName: r.instance_name,
    status: r.status,
    jobId: r.job_id,
    outcome: r.outcome,
    receivedAt: r.received_at,
  }));
}

export async function getDelivery(db: Db, id: number): Promise<WebhookDelivery | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', String(id)).executeTakeFirst();
}

/**
 * Stores a delivery that makes no job (a Test, or an event Metarr does not act on): kept so the
 * deliveries list shows every request the *arr made.
 */
export async function recordUnqueuedDelivery(
  db: Db,
  d: {
    source: Manager;
    eventType: string;
    instanceName: string | null;
    body: string;
    status: Exclude<DeliveryStatus, 'queued'>;
    outcome: string;
  },
): Promise<void> {
  await db
    .insertInto('webhook_deliveries')
    .values({
      source: d.source,
      event_type: d.eventType,
      instance_name: d.instanceName,
      idempotency_key: '',
      body: d.body,
      status: d.status,
      outcome: d.outcome,
    })
    .execute();
}

/** Deliveries kept, per source and what became of them (for `/metrics`). */
export async function deliveryCounts(db: Db): Promise<{ source: string; status: string; n: number }[]> {
  return db
    .selectFrom('webhook_deliveries')
    .select(['source', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['source', 'status'])
    .execute()
    .then((rows) => rows.map((r) => ({ source: r.source, status: r.status, n: Number(r.n) })));
}
