import type {
  ClientFactory,
  Db,
  EnqueuedJob,
  EnqueueOptions,
  Fence,
  JobName,
  JobOutput,
  JobPayload,
  Logger,
  MetarrConfig,
  PlayerLibraryFactory,
  PublishFs,
} from '@metarr/core';

/** What a handler gets for one job: its typed payload, lineage, a job-scoped logger and enqueue. */
export interface JobContext<N extends JobName> {
  id: string;
  type: N;
  payload: JobPayload<N>;
  parentId: string | null;
  retryCount: number;
  signal: AbortSignal;
  /** Child logger carrying jobId and jobType. */
  log: Logger;
  /** Enqueue a follow-up job; its parentId is this job. */
  enqueue<M extends JobName>(
    name: M,
    payload: JobPayload<M>,
    opts?: Omit<EnqueueOptions, 'parentId' | 'trx'>,
  ): Promise<EnqueuedJob | null>;
  /**
   * Several follow-ups by `enqueue`'s rules, committed in one transaction: a worker sees them all at
   * once (one fetch can take them together) instead of one by one.
   */
  enqueueTogether<M extends JobName>(
    name: M,
    items: { payload: JobPayload<M>; opts?: Omit<EnqueueOptions, 'parentId' | 'trx'> }[],
  ): Promise<(EnqueuedJob | null)[]>;
  /**
   * Bulk follow-ups (one insert per 1,000); each job's parentId is this job and its id the follow-up
   * id of ctx.enqueue, so a retried attempt's fan-out folds into the earlier one: only the jobs
   * actually created are returned. `priority` is a floor: a follow-up is never more urgent than
   * this job (a priority-9 scheduled scan's children stay at 9 when the handler asks for 8).
   */
  enqueueMany<M extends JobName>(
    name: M,
    payloads: JobPayload<M>[],
    opts?: { priority?: number },
  ): Promise<EnqueuedJob[]>;
  /** For long handlers: publishes `job:progress` (0–100) and logs `Job progress`. */
  reportProgress(progress: number, detail: string): Promise<void>;
  /**
   * Rejects (LEASE_LOST) when this attempt no longer holds the job: a newer attempt owns it. Call it
   * right before a write the runtime cannot see (files); enqueue and player calls check it already.
   */
  assertLease(): Promise<void>;
  /**
   * The write fence for a transaction on another handle (batch handlers): called first inside a
   * write transaction, it locks this job's row for the transaction and rejects (LEASE_LOST) when a
   * newer attempt owns it. Writes through `db` (and the handler's `deps.db`) do this already.
   */
  fence: Fence;
  /** The database, every write fenced on this attempt's lease. */
  db: Db;
  /** Files, every rename and removal of a published file fenced on this attempt's lease. */
  fs: PublishFs;
}

/** The real clients a handler may use; built once in the composition root (main.ts). */
export interface HandlerDeps {
  db: Db;
  log: Logger;
  clientFor: ClientFactory;
  /**
   * A player's movie library as the audit reads it (`audit-player`); left out, the real one
   * (`createPlayerLibrary` with `config.playerTimeoutSeconds`).
   */
  playerLibraryFor?: PlayerLibraryFactory;
  clock: () => Date;
  /** Validated environment (provider keys and base URLs, …). */
  config: MetarrConfig;
}

export type { JobOutput } from '@metarr/core';

export type JobHandler<N extends JobName> = (ctx: JobContext<N>, deps: HandlerDeps) => Promise<JobOutput>;

/** One handler per catalog entry: a job type without a handler does not compile. */
export type HandlerMap = { [N in JobName]: JobHandler<N> };

/** One job's outcome in a batch handler's result (same order as the batch). */
export type BatchJobOutcome =
  | { status: 'completed'; output: JobOutput }
  /** Fails this job alone, exactly as a single handler's throw would (retry or dead-letter). */
  | { status: 'failed'; error: unknown }
  /** This attempt no longer held its lease when the batch wrote (see `BatchContext.fence`): nothing was written. */
  | { status: 'superseded' };

/** What a batch handler gets besides each job's own context. */
export interface BatchContext<N extends JobName> {
  /** The batch's jobs with valid payloads (invalid ones were dead-lettered by the runtime). */
  jobs: JobContext<N>[];
  /**
   * Locks the batch's job rows (`for share`) inside `trx` and resolves with the ids whose attempt
   * still holds its lease (`active` at the fetched retryCount, or completed by this attempt through
   * `completeNow`). Call it in the transaction that
   * writes, before writing: a job left out must get nothing written and return `superseded`.
   */
  fence(trx: Db): Promise<ReadonlySet<string>>;
  /**
   * The batch's job ids whose attempt still holds its lease, one query for all. A handler that calls
   * players (`players: true`) calls this right before its calls and calls only for these jobs: it is
   * the batch's form of the lease check single jobs make before every player call.
   */
  held(): Promise<ReadonlySet<string>>;
  /**
   * Settles this job as completed now, fenced on its attempt, with the output its outcome will carry
   * (the handler still returns `completed` for it). For a job whose side effect already happened (a
   * player was told): it must not wait for a slow neighbour of the batch, since a worker killed or
   * stopped meanwhile would leave it active and its retry would repeat the side effect.
   */
  completeNow(job: JobContext<N>, output: JobOutput): Promise<void>;
  /**
   * Follow-ups of many jobs in one insert: each item's id is derived from (parent, type, payload) as
   * `ctx.enqueue` does, and its priority is inherited the same way. Items of a coalesced type (or
   * with `opts`) keep `enqueue`'s rules and all commit in one transaction (`JobQueue.enqueueAll`).
   * A retried attempt's item goes through that job's `ctx.enqueue` (its folding rules). Resolves per
   * item: the job, or null when it already existed or was folded.
   */
  enqueueFollowUps<M extends JobName>(
    name: M,
    items: {
      parent: JobContext<N>;
      payload: JobPayload<M>;
      opts?: Omit<EnqueueOptions, 'parentId' | 'trx'>;
    }[],
  ): Promise<(EnqueuedJob | null)[]>;
}

/**
 * Optional: runs a fetched batch of more than one job of a type at once (a library scan's bulk
 * `scan-movie` jobs), sharing lookups, one transaction and one completion. Each job still gets its
 * own `Job started/completed/failed` lines, feed events and output.
 */
export interface BatchJobHandler<N extends JobName> {
  (batch: BatchContext<N>, deps: HandlerDeps): Promise<BatchJobOutcome[]>;
  /**
   * Also run the urgent lanes' fetches (of more than one job) through this handler, in fetches of
   * URGENT_BATCH_HANDLER_SIZE; by default only bulk-lane batches are (scan-movie).
   */
  urgent?: boolean;
  /**
   * The handler calls players: `deps.clientFor` is the real factory (else every call fails with
   * BATCH_PLAYER_CALL), and the handler checks `batch.held()` before its calls.
   */
  players?: boolean;
}

export type BatchHandlerMap = { [N in JobName]?: BatchJobHandler<N> };
