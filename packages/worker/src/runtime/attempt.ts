import {
  AppError,
  errorCode,
  errorMessage,
  failAndReschedule,
  fromBossPriority,
  isRetryable,
  type JobEnvelope,
  type JobEvent,
  type JobFailureOutput,
  type JobName,
  type JobOutput,
  type JobQueue,
  jobCatalog,
  LEASE_LOST,
  type Logger,
  publishJobEvent,
} from '@metarr/core';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import type { HandlerDeps } from '../context.ts';
import { raiseDeadLetterAlert } from './alerts.ts';
import { createJobContext } from './context.ts';
import type { EventBatch } from './events.ts';
import { type AttemptLease, attemptLease, fencedClients } from './lease.ts';
import type { WorkerRuntimeOptions } from './options.ts';

/**
 * One attempt of one job: its identity, logger, lease and the `Job started` line every job writes
 * (runJob and runBatch share this and the settle helpers below, so both paths log and announce alike).
 */
export interface Attempt {
  job: JobWithMetadata<JobEnvelope>;
  name: JobName;
  log: Logger;
  base: { jobId: string; type: JobName; priority: number };
  envelope: JobEnvelope;
  parentId: string | null;
  priority: number;
  lease: AttemptLease;
  started: number;
  startedEvent: JobEvent;
}

export function beginAttempt(
  opts: WorkerRuntimeOptions,
  name: JobName,
  job: JobWithMetadata<JobEnvelope>,
): Attempt {
  const started = Date.now();
  const priority = fromBossPriority(job.priority);
  // jobId comes with every line's own fields (base); binding it here too would write the key twice.
  const log = opts.log.child({ service: 'JobRunner', jobType: name });
  const readyAt = Math.max(new Date(job.createdOn).getTime(), new Date(job.startAfter).getTime());
  const waitMs = Math.max(0, new Date(job.startedOn ?? started).getTime() - readyAt);
  const envelope = job.data ?? ({} as JobEnvelope);
  const parentId = envelope.parentId ?? null;
  const base = { jobId: job.id, type: name, priority };
  log.info(
    { ...base, parentId, waitMs, waitTime: `${(waitMs / 1000).toFixed(3)}s`, retryCount: job.retryCount },
    'Job started',
  );
  const startedEvent: JobEvent = { event: 'job:started', data: { ...base, parentId, waitMs } };
  const lease = attemptLease(opts.db, name, job.id, job.retryCount);
  return { job, name, log, base, envelope, parentId, priority, lease, started, startedEvent };
}

/** Null when the payload matches the catalog's schema; else the permanent error that dead-letters it. */
export function payloadError(name: JobName, payload: unknown): AppError | null {
  const def = jobCatalog[name];
  if (def.validator.check(payload)) return null;
  const issue = def.validator.errors(payload)[0];
  return new AppError(
    'INVALID_JOB_PAYLOAD',
    `payload${issue?.path ?? ''} ${issue?.message ?? 'is invalid'}`,
    {
      retryable: false,
    },
  );
}

export async function attemptCompleted(
  a: Attempt,
  output: JobOutput,
  publish: (e: JobEvent) => unknown,
): Promise<JobResult> {
  const durationMs = Date.now() - a.started;
  a.log.info(
    { ...a.base, durationMs, duration: `${(durationMs / 1000).toFixed(3)}s`, result: output },
    'Job completed',
  );
  await publish({ event: 'job:completed', data: { ...a.base, durationMs } });
  return { id: a.job.id, status: 'completed', output };
}

/** A newer attempt owns the job; whatever this one hit, its result must not land anywhere. */
export function attemptSuperseded(a: Attempt, err?: unknown): JobResult {
  a.log.warn(
    { ...a.base, retryCount: a.job.retryCount, ...(err !== undefined && { error: errorMessage(err) }) },
    'Job attempt superseded: its lease was lost, its result is discarded',
  );
  return { id: a.job.id, status: 'failed', output: { error: 'attempt superseded', code: LEASE_LOST } };
}

/** The retry decision: a permanent error dead-letters at once instead of burning retries. */
export async function attemptFailed(
  opts: WorkerRuntimeOptions,
  a: Attempt,
  err: unknown,
  publish: (e: JobEvent) => unknown,
  queue?: JobQueue,
): Promise<JobResult> {
  const { job } = a;
  const retryable = isRetryable(err);
  // An error that waits on the user (a full disk) gets this attempt back while its patience lasts.
  const patience = retryable && err instanceof AppError ? err.patienceSeconds : undefined;
  const freeAttempt =
    patience !== undefined && Date.now() - new Date(job.createdOn).getTime() < patience * 1000;
  const retryLimit = job.retryLimit + (freeAttempt ? 1 : 0);
  const willRetry = retryable && job.retryCount < retryLimit;
  const error = errorMessage(err);
  const code = errorCode(err);
  const retryAfterSeconds = willRetry && err instanceof AppError ? err.retryAfterSeconds : undefined;
  const counts = { retryCount: job.retryCount, maxRetries: retryLimit, willRetry };
  // An attempt that will be retried is a warning; only the final failure (dead letter) is an error.
  a.log[willRetry ? 'warn' : 'error'](
    {
      ...a.base,
      error,
      code,
      ...counts,
      ...(retryAfterSeconds && { retryAfterSeconds }),
      ...(freeAttempt && { attemptNotCounted: true }),
    },
    'Job failed',
  );
  await publish({ event: 'job:failed', data: { ...a.base, error, ...counts } });
  const output: JobFailureOutput = { error, code, retryable };
  if (retryAfterSeconds || freeAttempt)
    await rescheduleFailed(opts, a, output, { retryAfterSeconds, freeAttempt });
  // The final failure: the job goes to the dead-letter queue. Alert deliveries that die are left out
  // (an unreachable receiver would otherwise alert about itself for ever).
  if (!willRetry && queue && a.name !== 'send-alerts')
    await raiseDeadLetterAlert(
      {
        db: opts.db,
        log: opts.log,
        queue,
        retryDelaySeconds: opts.deps.config.alertRetryDelaySeconds,
      },
      { id: job.id, type: a.name },
      {
        type: 'job-dead-lettered',
        message:
          `Job ${a.name} ${job.id} dead-lettered after ${job.retryCount + 1} attempt${job.retryCount ? 's' : ''}: ${code} ${error}`.slice(
            0,
            1000,
          ),
        details: { jobId: job.id, jobType: a.name, code, attempts: job.retryCount + 1 },
      },
    );
  return { id: job.id, status: retryable ? 'failed' : 'deadletter', output };
}

export async function runJob(
  opts: WorkerRuntimeOptions,
  queue: JobQueue,
  name: JobName,
  job: JobWithMetadata<JobEnvelope>,
  batch: EventBatch | null = null,
): Promise<JobResult> {
  const publish = async (evt: JobEvent) => {
    if (!batch) return publishJobEvent(opts.db, evt).catch(() => {});
    (evt.event === 'job:started' ? batch.started : batch.rest).push(evt);
  };
  const a = beginAttempt(opts, name, job);
  await publish(a.startedEvent);
  await batch?.ready;

  try {
    const invalid = payloadError(name, a.envelope.payload);
    if (invalid) throw invalid;
    const ctx = attemptContext(queue, opts, a);
    const handler = opts.handlers[name] as (
      c: typeof ctx,
      d: HandlerDeps,
    ) => Promise<Record<string, unknown>>;
    // Every write the handler can make is fenced: the database, the files, the player calls.
    const output = await handler(ctx, {
      ...opts.deps,
      db: a.lease.db,
      clientFor: fencedClients(opts.deps.clientFor, a.lease.check),
    });
    // pg-boss fences the completion itself (id + retryCount); this keeps a stale attempt from also
    // logging and announcing a completion that does not land.
    await a.lease.check();
    return await attemptCompleted(a, output, publish);
  } catch (err) {
    // An aborted or failing stale attempt is told apart by asking (a DB error here: not superseded).
    if (a.lease.lost() || !(await a.lease.holds().catch(() => true))) return attemptSuperseded(a, err);
    // A failure's event goes out at once, batch or not: the feed shows it before the batch settles.
    return attemptFailed(opts, a, err, (e) => publishJobEvent(opts.db, e).catch(() => {}), queue);
  }
}

/**
 * Settles a failed attempt itself when the error asks for more than the catalog's retry policy:
 * - `retryAfterSeconds`: the least delay before the retry (a full disk does not empty in seconds);
 * - a free attempt (the error's patience still lasts): the job's retry limit is raised by one first,
 *   so this attempt does not use up a retry.
 * One transaction, so nobody sees the job waiting with the catalog's short delay, and everything is
 * fenced on id + retryCount (this attempt); pg-boss's own settlement then finds the attempt settled
 * and does nothing. If this fails, the catalog's policy applies.
 */
async function rescheduleFailed(
  opts: WorkerRuntimeOptions,
  a: Attempt,
  output: JobFailureOutput,
  how: { retryAfterSeconds: number | undefined; freeAttempt: boolean },
): Promise<void> {
  const { name, job } = a;
  try {
    await failAndReschedule({ db: opts.db, boss: opts.boss }, name, job, output, how);
  } catch (err) {
    a.log.warn(
      { jobId: job.id, error: errorMessage(err) },
      'Could not reschedule the retry; the default retry policy applies',
    );
  }
}

/** The context a handler sees for this attempt (its enqueues, player calls and writes fenced). */
export function attemptContext(queue: JobQueue, opts: WorkerRuntimeOptions, a: Attempt) {
  return createJobContext(
    { queue, db: opts.db, log: opts.log, lease: a.lease },
    {
      id: a.job.id,
      type: a.name,
      payload: a.envelope.payload as never,
      parentId: a.parentId,
      retryCount: a.job.retryCount,
      signal: a.job.signal,
      priority: a.priority,
    },
  );
}
