// The job store: the one owner of pg-boss's tables and API. Everything else goes through it, so a
// pg-boss upgrade touches this folder alone.
export * from './control.ts';
export * from './fencedDb.ts';
export * from './inspect.ts';
export * from './jobTable.ts';
export * from './lease.ts';
export * from './metrics.ts';
export * from './output.ts';
export * from './queue.ts';
export * from './read.ts';
export * from './setup.ts';
export * from './testing.ts';
