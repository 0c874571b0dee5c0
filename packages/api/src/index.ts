export type { AppDeps } from './app.ts';
export { buildApp } from './app.ts';
