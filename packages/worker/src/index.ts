export type * from './context.ts';
export { handlers } from './handlers/index.ts';
export { BULK_BATCH_SIZE, createJobContext, startWorkerRuntime, URGENT_PRIORITY_MAX } from './runtime.ts';
