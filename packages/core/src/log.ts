import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths pino masks wherever they appear in a log object. Secrets never reach a log line:
 * API keys, player passwords, provider keys and Authorization headers.
 */
const REDACT = [
  'apiKey',
  'password',
  'token',
  'authorization',
  '*.apiKey',
  '*.password',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'config.apiKey',
  'config.webhookPassword',
  'config.tmdbApiKey',
  'config.fanartApiKey',
];

export function createLogger(opts: { level?: string; name: string; destination?: pino.DestinationStream }) {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { process: opts.name, pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination,
  );
}

/** A logger that names its service on every line, as the architecture requires. */
export function serviceLogger(log: Logger, service: string, fields: Record<string, unknown> = {}): Logger {
  return log.child({ service, ...fields });
}

/** Tests and callers that do not care about logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
