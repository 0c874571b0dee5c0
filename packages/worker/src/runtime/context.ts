import { createHash } from 'node:crypto';
import {
  createJobReader,
  type Db,
  type EnqueuedJob,
  type EnqueueOptions,
  type JobName,
  type JobPayload,
  type JobQueue,
  jobCatalog,
  type Logger,
  publishJobEvent,
} from '@metarr/core';
import type { JobContext } from '../context.ts';
import { type AttemptLease, fencedFs } from './lease.ts';

/**
 * The context a handler sees for one job. Exported so handler-coordination tests can run a
 * handler against a real queue exactly as the runtime does.
 */
export function createJobContext<N extends JobName>(
  deps: {
    queue: JobQueue;
    db: Db;
    log: Logger;
    /**
     * This attempt's lease (attemptLease): checked before every enqueue and file write, and by every
     * write through its `db`. Without an attempt (tests, the CLI) pass `unfenced(db)`.
     */
    lease: Pick<AttemptLease, 'check' | 'fence' | 'db'>;
  },
  job: {
    id: string;
    type: N;
    payload: JobContext<N>['payload'];
    parentId: string | null;
    retryCount: number;
    signal: AbortSignal;
    priority: number;
  },
): JobContext<N> {
  const base = { jobId: job.id, type: job.type, priority: job.priority };
  // No `service` binding here: each service adds its own, and pino would repeat the key.
  const log = deps.log.child({ jobId: job.id, jobType: job.type });
  const enqueueOne = async <M extends JobName>(
    child: M,
    payload: JobPayload<M>,
    o: Omit<EnqueueOptions, 'parentId' | 'trx'> | undefined,
    trx?: Db,
  ): Promise<EnqueuedJob | null> => {
    const rule = followUp(job, child, payload);
    const opts = {
      ...o,
      priority: o?.priority ?? rule.priority,
      parentId: job.id,
      source: job.type,
      ...(trx && { trx }),
    };
    const id = o?.id ?? rule.id;
    const sent = await deps.queue.enqueue(child, payload, { ...opts, id });
    if (sent || o?.id || job.retryCount === 0) return sent;
    // Folded into an earlier attempt's follow-up. If that one already started, it worked from the
    // state before this attempt's writes (a re-scan may have reset what it derived): run it again.
    const state = await createJobReader(trx ?? deps.db).state(child, id);
    if (state === undefined || state === 'created' || state === 'retry') return null;
    return deps.queue.enqueue(child, payload, opts);
  };
  return {
    id: job.id,
    type: job.type,
    payload: job.payload,
    parentId: job.parentId,
    retryCount: job.retryCount,
    signal: job.signal,
    log,
    enqueue: async (child, payload, o) => {
      await deps.lease.check();
      return enqueueOne(child, payload, o);
    },
    enqueueTogether: async (child, items) => {
      await deps.lease.check();
      const jobs = await deps.db.transaction().execute(async (trx) => {
        const out: (EnqueuedJob | null)[] = [];
        for (const it of items) out.push(await enqueueOne(child, it.payload, it.opts, trx));
        return out;
      });
      for (const j of jobs) j?.announce();
      return jobs;
    },
    enqueueMany: async (child, payloads, o) => {
      await deps.lease.check();
      // The follow-up ids of single jobs: a retried attempt's fan-out folds into the one an earlier
      // attempt already queued instead of queueing every job again.
      const items = payloads.map((payload) => {
        const rule = followUp(job, child, payload);
        const priority = Math.max(o?.priority ?? rule.priority, job.priority);
        return { payload, parentId: job.id, id: rule.id, priority };
      });
      return deps.queue.insertMany(child, items, { source: job.type });
    },
    assertLease: () => deps.lease.check(),
    fence: deps.lease.fence,
    db: deps.lease.db,
    fs: fencedFs(deps.lease.check),
    reportProgress: async (progress, detail) => {
      const pct = Math.max(0, Math.min(100, Math.round(progress)));
      log.info({ service: 'JobRunner', ...base, progress: pct, detail }, 'Job progress');
      await publishJobEvent(deps.db, {
        event: 'job:progress',
        data: { ...base, progress: pct, detail },
      }).catch(() => {});
    },
  };
}

/**
 * A follow-up's id and priority; single jobs (ctx.enqueue) and batches (enqueueFollowUps) both use
 * it, so a follow-up is the same job whichever path created it.
 * - id: same parent, type and payload → same id, so a retried attempt's follow-up folds into the
 *   one an earlier (killed, expired) attempt already enqueued instead of doubling the chain;
 * - priority: bulk work stays bulk down its chain: the parent's when less urgent than the catalog's.
 */
export function followUp(
  parent: { id: string; priority: number },
  child: JobName,
  payload: unknown,
): { id: string; priority: number } {
  return {
    id: followUpId(parent.id, child, payload),
    priority: Math.max(jobCatalog[child].policy.priority, parent.priority),
  };
}

/** A UUID (version 8, name-based) from the parent job, the follow-up's type and its payload. */
export function followUpId(parentId: string, child: string, payload: unknown): string {
  const h = createHash('sha256')
    .update(`${parentId}\0${child}\0${JSON.stringify(payload)}`)
    .digest('hex');
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
