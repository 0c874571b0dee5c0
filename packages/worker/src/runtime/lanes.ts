import {
  completeAttempt,
  createJobQueue,
  fromBossPriority,
  type JobEnvelope,
  type JobName,
  type JobQueue,
  jobCatalog,
  jobNames,
  toBossPriority,
} from '@metarr/core';
import type { JobResult, JobWithMetadata, PgBoss } from 'pg-boss';
import type { BatchJobHandler } from '../context.ts';
import { runJob } from './attempt.ts';
import { runBatch } from './batch.ts';
import { EventBatch } from './events.ts';
import {
  BULK_BATCH_HANDLER_SIZE,
  BULK_BATCH_SIZE,
  URGENT_BATCH_HANDLER_SIZE,
  URGENT_PRIORITY_MAX,
  type WorkerRuntimeOptions,
} from './options.ts';

/**
 * Subscribes to every catalog queue and wraps each handler with the lifecycle every job shares:
 * payload validation, `Job started/completed/failed` logs with timings, feed events over NOTIFY,
 * and the retry decision (a permanent error dead-letters at once instead of burning retries).
 */
export async function startWorkerRuntime(
  opts: WorkerRuntimeOptions,
): Promise<{ queue: JobQueue; inFlight: () => number }> {
  const queue = createJobQueue({ boss: opts.boss, db: opts.db, log: opts.log });
  let inFlight = 0;
  for (const name of opts.queues ?? jobNames) {
    const handle = async (jobs: unknown[]) => {
      inFlight += jobs.length;
      // Bulk-lane batches only, unless the batch handler takes urgent ones too (notify-group): an
      // urgent lane's jobs otherwise keep the per-job path (each settles at once).
      const batchHandler = opts.batchHandlers?.[name] as BatchJobHandler<JobName> | undefined;
      const bulk = (jobs as JobWithMetadata<JobEnvelope>[]).every(
        (j) => fromBossPriority(j.priority) > URGENT_PRIORITY_MAX,
      );
      if (batchHandler && jobs.length > 1 && (bulk || batchHandler.urgent)) {
        return runBatch(opts, queue, name, jobs as JobWithMetadata<JobEnvelope>[], batchHandler).finally(
          () => {
            inFlight -= jobs.length;
          },
        );
      }
      // A batch's feed events go out in one NOTIFY round trip per phase instead of one per job.
      const events = jobs.length > 1 ? new EventBatch(opts.db) : null;
      try {
        const running = jobs.map((job) =>
          runJob(opts, queue, name, job as JobWithMetadata<JobEnvelope>, events).then((r) =>
            jobs.length > 1 ? completeNow(opts.boss, name, job as JobWithMetadata<JobEnvelope>, r) : r,
          ),
        );
        await events?.flushStarted();
        const results = await Promise.all(running);
        await events?.flush();
        return results;
      } finally {
        inFlight -= jobs.length;
      }
    };
    // Batches of 2 with burst drain a backlog without the NOTIFY-era 30 s backstop poll, while a slow
    // job delays the settling of at most one neighbour. Several loops give concurrency.
    const batchSize = 2;
    const loops = Math.max(1, Math.ceil(opts.concurrency / batchSize));
    const common = {
      includeMetadata: true,
      perJobResults: true,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 2,
      notifyPollingIntervalSeconds: 5,
    } as const;
    if (jobCatalog[name].policy.priority > URGENT_PRIORITY_MAX) {
      await opts.boss.work(name, { ...common, batchSize, localConcurrency: loops }, handle);
      continue;
    }
    // Priority lanes. pg-boss orders by priority only within a fetch, so loops shared by urgent and
    // bulk jobs would make an urgent job wait for a loop busy with bulk work (a library scan's
    // 10,000 priority-8 scan-movie jobs). Urgent jobs get loops that never fetch bulk jobs; bulk
    // jobs get their own loops with larger batches (fewer fetch/complete round trips per job).
    const urgentBatch = opts.batchHandlers?.[name]?.urgent === true;
    await opts.boss.work(
      name,
      {
        ...common,
        batchSize: urgentBatch ? URGENT_BATCH_HANDLER_SIZE : batchSize,
        localConcurrency: loops,
        minPriority: toBossPriority(URGENT_PRIORITY_MAX),
      },
      handle,
    );
    await opts.boss.work(
      name,
      {
        ...common,
        batchSize: opts.batchHandlers?.[name] ? BULK_BATCH_HANDLER_SIZE : BULK_BATCH_SIZE,
        localConcurrency: Math.max(1, Math.ceil(loops / 2)),
        maxPriority: toBossPriority(URGENT_PRIORITY_MAX + 1),
      },
      handle,
    );
  }
  return { queue, inFlight: () => inFlight };
}

/**
 * pg-boss settles a batch only when its last job is done. A job whose side effect already happened
 * (a player was told) must not wait for a slow neighbour: a worker killed meanwhile would leave it
 * active, and its retry would repeat the side effect. So a finished job of a batch completes at once,
 * fenced on its attempt; the batch's own completion then finds it settled and does nothing.
 */
async function completeNow(boss: PgBoss, name: string, job: JobWithMetadata<JobEnvelope>, r: JobResult) {
  if (r.status === 'completed') {
    await completeAttempt(boss, name, job, (r.output ?? null) as object | null).catch(() => {});
  }
  return r;
}
