import { createHash } from 'node:crypto';
import {
  AppError,
  type ClientFactory,
  completeAttempt,
  createJobQueue,
  createJobReader,
  type Db,
  errorCode,
  errorMessage,
  type Fence,
  failAndReschedule,
  fromBossPriority,
  type JobEnvelope,
  type JobEvent,
  type JobFailureOutput,
  type JobName,
  type JobQueue,
  jobCatalog,
  jobNames,
  LEASE_LOST,
  type Logger,
  leaseHeld,
  leasesHeld,
  publishJobEvent,
  publishJobEvents,
  toBossPriority,
} from '@metarr/core';
import type { JobResult, JobWithMetadata, PgBoss } from 'pg-boss';
import type {
  BatchHandlerMap,
  BatchJobHandler,
  BatchJobOutcome,
  HandlerDeps,
  HandlerMap,
  JobContext,
  JobOutput,
} from './context.ts';

/**
 * Jobs at this seed priority or more urgent (webhook 1 … the pipeline's 5) have loops per queue that
 * bulk work never takes. Bulk work stays bulk down its chain: a follow-up inherits its
 * parent's priority when that is less urgent than its own (see `enqueue` in createJobContext).
 */
export const URGENT_PRIORITY_MAX = 5;
/** Jobs per fetch on a bulk lane. */
export const BULK_BATCH_SIZE = 8;
/** Jobs per fetch on the bulk lane of a queue with a batch handler (one transaction per fetch). */
export const BULK_BATCH_HANDLER_SIZE = 128;

export interface WorkerRuntimeOptions {
  boss: PgBoss;
  db: Db;
  log: Logger;
  handlers: HandlerMap;
  /** Optional batch handlers, used for a fetched batch of more than one job (see runBatch). */
  batchHandlers?: BatchHandlerMap;
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
    const handle = async (jobs: unknown[]) => {
      inFlight += jobs.length;
      // Bulk-lane batches only: an urgent lane's jobs keep the per-job path (each settles at once).
      const batchHandler = opts.batchHandlers?.[name] as BatchJobHandler<JobName> | undefined;
      const bulk = (jobs as JobWithMetadata<JobEnvelope>[]).every(
        (j) => fromBossPriority(j.priority) > URGENT_PRIORITY_MAX,
      );
      if (batchHandler && jobs.length > 1 && bulk) {
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
    await opts.boss.work(
      name,
      { ...common, batchSize, localConcurrency: loops, minPriority: toBossPriority(URGENT_PRIORITY_MAX) },
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

/** Collects a batch's lifecycle events and publishes each phase with one query. */
class EventBatch {
  readonly db: Db;
  started: JobEvent[] = [];
  rest: JobEvent[] = [];
  /** Handlers wait for this, so no job's progress event overtakes its `job:started`. */
  readonly ready: Promise<void>;
  private open: () => void = () => {};
  constructor(db: Db) {
    this.db = db;
    this.ready = new Promise((r) => {
      this.open = r;
    });
  }
  async flushStarted() {
    await publishMany(this.db, this.started.splice(0));
    this.open();
  }
  async flush() {
    await publishMany(this.db, [...this.started.splice(0), ...this.rest.splice(0)]);
  }
}

async function publishMany(db: Db, events: JobEvent[]) {
  await publishJobEvents(db, events).catch(() => {});
}

/**
 * One attempt of one job: its identity, logger, lease and the `Job started` line every job writes
 * (runJob and runBatch share this and the settle helpers below, so both paths log and announce alike).
 */
function beginAttempt(opts: WorkerRuntimeOptions, name: JobName, job: JobWithMetadata<JobEnvelope>) {
  const started = Date.now();
  const priority = fromBossPriority(job.priority);
  const log = opts.log.child({ service: 'JobRunner', jobId: job.id, jobType: name });
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
type Attempt = ReturnType<typeof beginAttempt>;

/** Null when the payload matches the catalog's schema; else the permanent error that dead-letters it. */
function payloadError(name: JobName, payload: unknown): AppError | null {
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

/** The context a handler sees for this attempt (its enqueues, player calls and writes fenced). */
function attemptContext(queue: JobQueue, opts: WorkerRuntimeOptions, a: Attempt) {
  return createJobContext(
    { queue, db: opts.db, log: opts.log, lease: a.lease.check, fence: a.lease.fence },
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

async function attemptCompleted(
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
function attemptSuperseded(a: Attempt, err?: unknown): JobResult {
  a.log.warn(
    { ...a.base, retryCount: a.job.retryCount, ...(err !== undefined && { error: errorMessage(err) }) },
    'Job attempt superseded: its lease was lost, its result is discarded',
  );
  return { id: a.job.id, status: 'failed', output: { error: 'attempt superseded', code: LEASE_LOST } };
}

/** The retry decision: a permanent error dead-letters at once instead of burning retries. */
async function attemptFailed(
  opts: WorkerRuntimeOptions,
  a: Attempt,
  err: unknown,
  publish: (e: JobEvent) => unknown,
): Promise<JobResult> {
  const { job } = a;
  const retryable = !(err instanceof AppError) || err.retryable;
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
  a.log.error(
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
  return { id: job.id, status: retryable ? 'failed' : 'deadletter', output };
}

async function runJob(
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
    const output = await handler(ctx, {
      ...opts.deps,
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
    return attemptFailed(opts, a, err, (e) => publishJobEvent(opts.db, e).catch(() => {}));
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

/**
 * The context a handler sees for one job. Exported so handler-coordination tests can run a
 * handler against a real queue exactly as the runtime does.
 */
export function createJobContext<N extends JobName>(
  deps: {
    queue: JobQueue;
    db: Db;
    log: Logger;
    /** Rejects when this attempt no longer holds the job (see attemptLease); checked before every enqueue. */
    lease?: () => Promise<void>;
    /** The in-transaction form of `lease` for services' writes (see attemptLease). */
    fence?: Fence;
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
  return {
    id: job.id,
    type: job.type,
    payload: job.payload,
    parentId: job.parentId,
    retryCount: job.retryCount,
    signal: job.signal,
    log,
    enqueue: async (child, payload, o) => {
      await deps.lease?.();
      const opts = {
        ...o,
        priority: o?.priority ?? Math.max(jobCatalog[child].policy.priority, job.priority),
        parentId: job.id,
        source: job.type,
      };
      // Same parent, type and payload → same id: a retried attempt's follow-up folds into the one
      // an earlier (killed, expired) attempt already enqueued instead of doubling the chain.
      const id = o?.id ?? followUpId(job.id, child, payload);
      const sent = await deps.queue.enqueue(child, payload, { ...opts, id });
      if (sent || o?.id || job.retryCount === 0) return sent;
      // Folded into an earlier attempt's follow-up. If that one already started, it worked from the
      // state before this attempt's writes (a re-scan may have reset what it derived): run it again.
      const state = await createJobReader(deps.db).state(child, id);
      if (state === undefined || state === 'created' || state === 'retry') return null;
      return deps.queue.enqueue(child, payload, opts);
    },
    enqueueMany: async (child, payloads, o) => {
      await deps.lease?.();
      return deps.queue.enqueueMany(child, payloads, { ...o, parentId: job.id, source: job.type });
    },
    assertLease: async () => {
      await deps.lease?.();
    },
    fence: deps.fence ?? (async () => {}),
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
 * The fence of one attempt. pg-boss delivers at least once: a worker paused past its heartbeat (or cut
 * off from the database) keeps running its handler while the supervisor fails the job and another
 * worker retries it. Such a stale attempt must not write: before every side effect (follow-up jobs,
 * player calls) and before announcing completion it checks that the job is still `active` at the
 * retryCount it was fetched with. Once lost, it stays lost.
 */
export function attemptLease(db: Db, name: string, id: string, retryCount: number) {
  let lost = false;
  const leaseLost = () =>
    new AppError(LEASE_LOST, `job ${id} attempt ${retryCount} no longer holds its lease`, {
      retryable: true,
    });
  const holds = async (): Promise<boolean> => {
    if (!lost) lost = !(await leaseHeld(db, name, { id, retryCount }));
    return !lost;
  };
  return {
    lost: () => lost,
    holds,
    check: async (): Promise<void> => {
      if (!(await holds())) throw leaseLost();
    },
    /**
     * Inside a service's write transaction: `for share` keeps the supervisor (expiry, heartbeat) from
     * handing the job to a newer attempt until this transaction ends, so the writes land only while
     * the lease holds — no window between the check and the commit.
     */
    fence: async (trx: Db): Promise<void> => {
      if (!lost) lost = !(await leaseHeld(trx, name, { id, retryCount }, { lock: true }));
      if (lost) throw leaseLost();
    },
  };
}

/** Player clients whose every call first checks the attempt's lease. */
function fencedClients(clientFor: ClientFactory, lease: () => Promise<void>): ClientFactory {
  return (player) => {
    const c = clientFor(player);
    const { isPlaying } = c;
    return {
      refreshFolder: async (folder, o) => {
        await lease();
        return c.refreshFolder(folder, o);
      },
      test: async (signal) => {
        await lease();
        return c.test(signal);
      },
      ...(isPlaying && {
        isPlaying: async (signal?: AbortSignal) => {
          await lease();
          return isPlaying.call(c, signal);
        },
      }),
    };
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

/**
 * A fetched batch of more than one job run by the queue's batch handler (a library scan's bulk
 * `scan-movie` jobs): one handler call, one write transaction fenced per job (`fence`), follow-ups
 * in one insert, and the jobs settled by pg-boss in one statement per outcome (perJobResults).
 * Each job keeps its own lifecycle: `Job started` / `Job completed` / `Job failed` (or
 * `Job attempt superseded`) lines with its jobId, its own feed events (one NOTIFY per phase), its
 * own output; an invalid payload dead-letters that job alone, as in runJob.
 */
async function runBatch(
  opts: WorkerRuntimeOptions,
  queue: JobQueue,
  name: JobName,
  jobs: JobWithMetadata<JobEnvelope>[],
  handler: BatchJobHandler<JobName>,
): Promise<JobResult[]> {
  const events = new EventBatch(opts.db);
  const entries = jobs.map((job) => beginAttempt(opts, name, job));
  events.started.push(...entries.map((e) => e.startedEvent));
  await events.flushStarted();
  type Entry = Attempt;

  const results: JobResult[] = new Array(jobs.length);
  const superseded = (i: number, err?: unknown) => {
    results[i] = attemptSuperseded(entries[i] as Entry, err);
  };
  const failed = async (i: number, err: unknown) => {
    results[i] = await attemptFailed(opts, entries[i] as Entry, err, (e) => events.rest.push(e));
  };

  // Which of these jobs' attempts still hold their lease (`active` at the fetched retryCount).
  const holding = async (db: Db, idx: number[], lock: boolean): Promise<Set<string>> => {
    if (!idx.length) return new Set();
    return leasesHeld(
      db,
      name,
      idx.map((i) => (entries[i] as Entry).job),
      { lock },
    );
  };

  const valid: number[] = [];
  for (const [i, e] of entries.entries()) {
    const invalid = payloadError(name, e.envelope.payload);
    if (!invalid) {
      valid.push(i);
      continue;
    }
    if (await e.lease.holds().catch(() => true)) await failed(i, invalid);
    else superseded(i, invalid);
  }

  if (valid.length) {
    const ctxs = valid.map((i) => attemptContext(queue, opts, entries[i] as Entry));
    const indexOf = new Map(valid.map((i) => [(entries[i] as Entry).job.id, i]));
    let outcomes: BatchJobOutcome[];
    try {
      outcomes = await handler(
        {
          jobs: ctxs,
          fence: (trx) => holding(trx, valid, true),
          enqueueFollowUps: async (child, items) => {
            const out: (Awaited<ReturnType<JobQueue['enqueue']>> | null)[] = items.map(() => null);
            const childDef = jobCatalog[child] as { coalesce?: (p: unknown) => unknown };
            const bulk: number[] = [];
            for (const [k, it] of items.entries()) {
              // Retried attempts and coalesced types keep ctx.enqueue's folding rules.
              if (it.parent.retryCount > 0 || childDef.coalesce?.(it.payload)) {
                out[k] = await it.parent.enqueue(child, it.payload);
              } else {
                bulk.push(k);
              }
            }
            // A stale attempt enqueues nothing (as ctx.enqueue's lease check), one query for all.
            const parents = [
              ...new Set(bulk.map((k) => indexOf.get(items[k]?.parent.id as string) as number)),
            ];
            const live = await holding(opts.db, parents, false);
            const rows: { k: number; id: string; priority: number; parentId: string }[] = [];
            const seen = new Set<string>();
            for (const k of bulk) {
              const it = items[k] as (typeof items)[number];
              if (!live.has(it.parent.id)) continue;
              const id = followUpId(it.parent.id, child, it.payload);
              if (seen.has(id)) continue;
              seen.add(id);
              const parentPriority = (entries[indexOf.get(it.parent.id) as number] as Entry).priority;
              const priority = Math.max(jobCatalog[child].policy.priority, parentPriority);
              rows.push({ k, id, priority, parentId: it.parent.id });
            }
            if (!rows.length) return out;
            const created = new Map(
              (
                await queue.insertMany(
                  child,
                  rows.map((r) => ({
                    id: r.id,
                    payload: items[r.k]?.payload as never,
                    parentId: r.parentId,
                    priority: r.priority,
                  })),
                  { source: name },
                )
              ).map((j) => [j.id, j]),
            );
            for (const r of rows) out[r.k] = created.get(r.id) ?? null;
            return out;
          },
        },
        { ...opts.deps, clientFor: noPlayerCalls },
      );
      if (outcomes.length !== valid.length) {
        throw new Error(`batch handler returned ${outcomes.length} outcomes for ${valid.length} jobs`);
      }
    } catch (err) {
      outcomes = valid.map(() => ({ status: 'failed', error: err }));
    }

    // Completion is announced only by attempts that still hold their lease (one query for all);
    // pg-boss fences the settling statements on id + retryCount as well.
    const live = await holding(opts.db, valid, false).catch(() => null);
    for (const [k, i] of valid.entries()) {
      const o = outcomes[k] as BatchJobOutcome;
      const e = entries[i] as Entry;
      const lost = live !== null && !live.has(e.job.id);
      if (o.status === 'superseded' || (lost && o.status !== 'failed')) {
        superseded(i);
      } else if (o.status === 'failed') {
        if (lost) superseded(i, o.error);
        else await failed(i, o.error);
      } else {
        results[i] = await attemptCompleted(e, o.output, (evt) => events.rest.push(evt));
      }
    }
  }
  await events.flush();
  return results;
}

/** Batch handlers make no player calls (those need one job's fence): they enqueue notify-players. */
const noPlayerCalls: ClientFactory = () => {
  throw new AppError('BATCH_PLAYER_CALL', 'a batch handler cannot call players; enqueue notify-players', {
    retryable: false,
  });
};
