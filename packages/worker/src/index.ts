export type * from './context.ts';
export { batchHandlers, handlers } from './handlers/index.ts';
export {
  attemptLease,
  BULK_BATCH_HANDLER_SIZE,
  BULK_BATCH_SIZE,
  createJobContext,
  followUpId,
  startWorkerRuntime,
  URGENT_PRIORITY_MAX,
  unfenced,
} from './runtime.ts';
