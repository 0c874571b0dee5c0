export { buildApp } from './app.ts';
export { type AppDeps, HTTP_TIMEOUTS, WEBHOOK_BODY_LIMIT } from './deps.ts';
export { type RegisteredRoute, registeredRoutes } from './openapi.ts';
