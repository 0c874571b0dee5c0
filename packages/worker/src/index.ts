export type * from './context.ts';
export { handlers } from './handlers/index.ts';
export { createJobContext, startWorkerRuntime } from './runtime.ts';
