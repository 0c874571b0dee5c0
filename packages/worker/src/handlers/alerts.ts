import { randomUUID } from 'node:crypto';
import {
  type AlertEventInput,
  type AlertWake,
  deliverAlerts,
  errorMessage,
  recordAlertEvent,
} from '@metarr/core';
import type { HandlerDeps, JobContext, JobHandler } from '../context.ts';
import { wakeAlertChannels } from '../runtime/alerts.ts';

/**
 * A handler saw something a person should hear about: records it (durably, for every channel whose
 * filter takes it; `record` returns the channels to wake) and enqueues the deliveries. Never fails
 * the handler: an alert that cannot be recorded is logged and the job's own outcome stands.
 */
export async function raiseAlerts(
  ctx: Pick<JobContext<never>, 'db' | 'log' | 'enqueue'>,
  deps: Pick<HandlerDeps, 'config'>,
  what: string,
  record: (db: JobContext<never>['db']) => Promise<AlertWake[]>,
): Promise<void> {
  try {
    const wakes = await record(ctx.db);
    await wakeAlertChannels(
      (p, o) => ctx.enqueue('send-alerts', p, o),
      wakes,
      deps.config.alertRetryDelaySeconds,
    );
  } catch (err) {
    ctx.log.warn(
      { service: 'AlertService', alert: what, error: errorMessage(err) },
      'Could not record an alert',
    );
  }
}

/** One event, for every channel whose filter takes its type. */
export const raiseAlert = (
  ctx: Pick<JobContext<never>, 'db' | 'log' | 'enqueue'>,
  deps: Pick<HandlerDeps, 'config'>,
  event: AlertEventInput,
) => raiseAlerts(ctx, deps, event.type, (db) => recordAlertEvent(db, event));

/**
 * Sends one channel's waiting alerts as one digest (see deliverAlerts). Run before the oldest waiting
 * event's window is over, it delivers nothing yet and makes sure a delivery runs when it is (folded
 * into one already waiting, by the catalog's debounce).
 */
export const handleSendAlerts: JobHandler<'send-alerts'> = async (ctx) => {
  const r = await deliverAlerts({ db: ctx.db, log: ctx.log, signal: ctx.signal }, ctx.payload.channelId);
  if ('waitSeconds' in r) {
    const next = await ctx.enqueue('send-alerts', ctx.payload, {
      id: randomUUID(),
      startAfter: r.waitSeconds,
    });
    return { ...r, deferred: true, nextJobId: next?.id ?? null };
  }
  return { ...r };
};
