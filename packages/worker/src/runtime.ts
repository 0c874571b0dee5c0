import {
  AppError,
  createJobQueue,
  type Db,
  errorCode,
  errorMessage,
  fromBossPriority,
  type JobEnvelope,
  type JobName,
  type JobQueue,
  jobCatalog,
  jobNames,
  type Logger,
  publishJobEvent,
} from '@metarr/core';
import type { JobResult, JobWithMetadata, PgBoss } from 'pg-boss';
import type { HandlerDeps, HandlerMap, JobContext } from './context.ts';

export interface WorkerRuntimeOptions {
  boss: PgBoss;
  db: Db;
  log: Logger;
  handlers: HandlerMap;
  deps: HandlerDeps;
  /** Jobs of one type this process runs at once. */
  concurrency: number;
  /** Only these queues (default: every catalog queue). */
  queues?: JobName[];
}

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
    // Batches of 2 with burst drain a backlog without the NOTIFY-era 30 s backstop poll, while a slow
    // job delays the settling of at most one neighbour. Several loops give concurrency.
    const batchSize = 2;
    const loops = Math.max(1, Math.ceil(opts.concurrency / batchSize));
    await opts.boss.work(
      name,
      {
        batchSize,
        localConcurrency: loops,
        includeMetadata: true,
        perJobResults: true,
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 2,
        notifyPollingIntervalSeconds: 5,
      },
      async (jobs) => {
        inFlight += jobs.length;
        try {
          return await Promise.all(
            jobs.map((job) => runJob(opts, queue, name, job as JobWithMetadata<JobEnvelope>)),
          );
        } finally {
          inFlight -= jobs.length;
        }
      },
    );
  }
  return { queue, inFlight: () => inFlight };
}

async function runJob(
  opts: WorkerRuntimeOptions,
  queue: JobQueue,
  name: JobName,
  job: JobWithMetadata<JobEnvelope>,
): Promise<JobResult> {
  const def = jobCatalog[name];
  const priority = fromBossPriority(job.priority);
  const log = opts.log.child({ service: 'JobRunner', jobId: job.id, jobType: name });
  const started = Date.now();
  const readyAt = Math.max(new Date(job.createdOn).getTime(), new Date(job.startAfter).getTime());
  const waitMs = Math.max(0, new Date(job.startedOn ?? started).getTime() - readyAt);
  const envelope = job.data ?? ({} as JobEnvelope);
  const parentId = envelope.parentId ?? null;
  const base = { jobId: job.id, type: name, priority };

  log.info(
    { ...base, parentId, waitMs, waitTime: `${(waitMs / 1000).toFixed(3)}s`, retryCount: job.retryCount },
    'Job started',
  );
  await publishJobEvent(opts.db, { event: 'job:started', data: { ...base, parentId, waitMs } }).catch(
    () => {},
  );

  try {
    if (!def.validator.check(envelope.payload)) {
      const issue = def.validator.errors(envelope.payload)[0];
      throw new AppError(
        'INVALID_JOB_PAYLOAD',
        `payload${issue?.path ?? ''} ${issue?.message ?? 'is invalid'}`,
        {
          retryable: false,
        },
      );
    }
    const ctx = createJobContext(
      { queue, db: opts.db, log: opts.log },
      {
        id: job.id,
        type: name,
        payload: envelope.payload as never,
        parentId,
        retryCount: job.retryCount,
        signal: job.signal,
        priority,
      },
    );
    const handler = opts.handlers[name] as (
      c: typeof ctx,
      d: HandlerDeps,
    ) => Promise<Record<string, unknown>>;
    const output = await handler(ctx, opts.deps);
    const durationMs = Date.now() - started;
    log.info(
      { ...base, durationMs, duration: `${(durationMs / 1000).toFixed(3)}s`, result: output },
      'Job completed',
    );
    await publishJobEvent(opts.db, { event: 'job:completed', data: { ...base, durationMs } }).catch(() => {});
    return { id: job.id, status: 'completed', output };
  } catch (err) {
    const retryable = !(err instanceof AppError) || err.retryable;
    const willRetry = retryable && job.retryCount < job.retryLimit;
    const error = errorMessage(err);
    const code = errorCode(err);
    const fields = {
      ...base,
      error,
      code,
      retryCount: job.retryCount,
      maxRetries: job.retryLimit,
      willRetry,
    };
    log.error(fields, 'Job failed');
    await publishJobEvent(opts.db, {
      event: 'job:failed',
      data: { ...base, error, retryCount: job.retryCount, maxRetries: job.retryLimit, willRetry },
    }).catch(() => {});
    return { id: job.id, status: retryable ? 'failed' : 'deadletter', output: { error, code, retryable } };
  }
}

/**
 * The context a handler sees for one job. Exported so handler-coordination tests can run a
 * handler against a real queue exactly as the runtime does.
 */
export function createJobContext<N extends JobName>(
  deps: { queue: JobQueue; db: Db; log: Logger },
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
  return {
    id: job.id,
    type: job.type,
    payload: job.payload,
    parentId: job.parentId,
    retryCount: job.retryCount,
    signal: job.signal,
    log,
    enqueue: (child, payload, o) =>
      deps.queue.enqueue(child, payload, { ...o, parentId: job.id, source: job.type }),
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
