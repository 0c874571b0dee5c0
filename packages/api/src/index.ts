export type { AppDeps } from './app.ts';
export { buildApp, HTTP_TIMEOUTS, WEBHOOK_BODY_LIMIT } from './app.ts';
export { type RegisteredRoute, registeredRoutes } from './routes/openapi.ts';
