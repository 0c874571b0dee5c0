export type * from './context.ts';
export { handlers } from './handlers/index.ts';
export {
  attemptLease,
  BULK_BATCH_SIZE,
  createJobContext,
  followUpId,
  startWorkerRuntime,
  URGENT_PRIORITY_MAX,
} from './runtime.ts';
