import type { Db, JobName, Logger } from '@metarr/core';
import type { PgBoss } from 'pg-boss';
import type { BatchHandlerMap, HandlerDeps, HandlerMap } from '../context.ts';

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
/**
 * Jobs per fetch on the urgent lanes of a queue whose batch handler takes them (`urgent`: player
 * notifications). A single event's jobs are a fetch of one to a few; a backlog drains 32 at a time.
 */
export const URGENT_BATCH_HANDLER_SIZE = 32;

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
