export type * from './context.ts';
export { handlers } from './handlers/index.ts';
export { startWorkerRuntime } from './runtime.ts';
