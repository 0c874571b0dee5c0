import type { Logger } from '@metarr/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** The path without its query string: `?apikey=` must never reach a log line. */
export function routeOf(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}

/** Whether an error means "the database is unreachable" (→ 503 + Retry-After), not a bug. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: string; message?: string };
  if (e.code && DB_DOWN_CODES.has(e.code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}

/**
 * Fastify's error shape for every error; 4xx keep their message (it names the field), 5xx never
 * carry internals, and an unreachable database is a 503 the *arr will retry, not a 500.
 */
export function makeErrorHandler(log: Logger) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (isDatabaseUnavailable(err)) {
      log.warn(
        { service: 'Api', url: routeOf(req), code: (err as { code?: string }).code },
        'Database unavailable',
      );
      return reply.code(503).header('retry-after', '5').send({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Database unavailable; retry later',
      });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      log.error(
        {
          service: 'Api',
          url: routeOf(req),
          code: err.code,
          err: { message: err.message, stack: err.stack },
        },
        'Request failed',
      );
      return reply
        .code(status)
        .send({ statusCode: status, error: 'Internal Server Error', message: 'Internal server error' });
    }
    const error = STATUS_TEXT[status] ?? 'Bad Request';
    return reply.code(status).send({ statusCode: status, error, message: err.message });
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
};
