// The worker runtime, by role: lanes (subscriptions) → attempt (one job's lifecycle) or batch (a
// fetched batch's), each with its context (what a handler sees) and lease (the attempt's fence).

export { createJobContext, followUpId } from './runtime/context.ts';
export { startWorkerRuntime } from './runtime/lanes.ts';
export { attemptLease, unfenced } from './runtime/lease.ts';
export {
  BULK_BATCH_HANDLER_SIZE,
  BULK_BATCH_SIZE,
  URGENT_PRIORITY_MAX,
  type WorkerRuntimeOptions,
} from './runtime/options.ts';
