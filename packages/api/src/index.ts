export { buildApp } from './app.ts';
export type { AuthConfig } from './auth.ts';
export { type AppDeps, HTTP_TIMEOUTS, WEBHOOK_BODY_LIMIT } from './deps.ts';
export { createApiMetrics, METRICS_SNAPSHOT_MAX_AGE_MS } from './metrics.ts';
export { type RegisteredRoute, registeredRoutes } from './openapi.ts';
export { createTmdbSource, type TmdbSource } from './tmdbSource.ts';
