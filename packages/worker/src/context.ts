import type {
  ClientFactory,
  Db,
  EnqueuedJob,
  EnqueueOptions,
  JobName,
  JobPayload,
  Logger,
  MetarrConfig,
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
  /** Bulk follow-ups (one insert per 1,000); each job's parentId is this job. */
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
}

/** The real clients a handler may use; built once in the composition root (main.ts). */
export interface HandlerDeps {
  db: Db;
  log: Logger;
  clientFor: ClientFactory;
  clock: () => Date;
  /** Validated environment (provider keys and base URLs, …). */
  config: MetarrConfig;
}

/** A handler's result is stored as the job's output: what it did, or why it skipped. */
export type JobOutput = Record<string, unknown>;

export type JobHandler<N extends JobName> = (ctx: JobContext<N>, deps: HandlerDeps) => Promise<JobOutput>;

/** One handler per catalog entry: a job type without a handler does not compile. */
export type HandlerMap = { [N in JobName]: JobHandler<N> };
