import { randomUUID } from 'node:crypto';
import {
  type AlertEventInput,
  type AlertWake,
  type Db,
  errorMessage,
  type JobQueue,
  type Logger,
  recordAlertEvent,
} from '@metarr/core';

/**
 * Wakes the channels an event was recorded for: one `send-alerts` job each, folded per channel by
 * the catalog's debounce. The first job of a quiet channel waits one digest window too (startAfter),
 * so a burst that starts now goes out as one message. Each job gets a fresh id: a delivery is not a
 * derived step of the job that saw the event (a retried attempt's event needs a delivery of its own).
 */
export async function wakeAlertChannels(
  enqueue: (
    payload: { channelId: number; windowSeconds: number },
    opts: { id: string; startAfter: number; retry: { delay: number } },
  ) => Promise<unknown>,
  wakes: AlertWake[],
  retryDelaySeconds: number,
): Promise<void> {
  for (const w of wakes)
    await enqueue(
      { channelId: w.channelId, windowSeconds: w.digestSeconds },
      { id: randomUUID(), startAfter: w.digestSeconds, retry: { delay: retryDelaySeconds } },
    );
}

/** The runtime's dead-letter path (no handler context: the attempt is over). */
export async function raiseDeadLetterAlert(
  deps: { db: Db; log: Logger; queue: JobQueue; retryDelaySeconds: number },
  job: { id: string; type: string },
  event: AlertEventInput,
): Promise<void> {
  try {
    const wakes = await recordAlertEvent(deps.db, event);
    await wakeAlertChannels(
      (p, o) => deps.queue.enqueue('send-alerts', p, { ...o, parentId: job.id, source: job.type }),
      wakes,
      deps.retryDelaySeconds,
    );
  } catch (err) {
    deps.log.warn(
      { service: 'AlertService', jobId: job.id, alert: event.type, error: errorMessage(err) },
      'Could not record an alert',
    );
  }
}
