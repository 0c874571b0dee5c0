import { type Logger, pino } from 'pino';
import { prettyDestination } from './logPretty.ts';

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

export type LogFormat = 'json' | 'pretty';

/**
 * JSON for log collectors; readable text for a person at a terminal. Unset, the format follows whether
 * stdout is a TTY, so `pnpm start` in a shell is readable and containers stay JSON.
 */
export function resolveLogFormat(
  format: LogFormat | undefined,
  isTTY = process.stdout.isTTY === true,
): LogFormat {
  return format ?? (isTTY ? 'pretty' : 'json');
}

export function createLogger(opts: {
  level?: string;
  name: string;
  destination?: pino.DestinationStream;
  format?: LogFormat;
}) {
  // A caller-supplied destination (tests capturing lines) gets JSON unless pretty is asked for.
  const format = opts.destination ? (opts.format ?? 'json') : resolveLogFormat(opts.format);
  const destination =
    format === 'pretty' ? prettyDestination(opts.destination ?? process.stdout) : opts.destination;
  return pino(
    {
      level: opts.level ?? 'info',
      base: { process: opts.name, pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that names its service on every line, as the architecture requires. */
export function serviceLogger(log: Logger, service: string, fields: Record<string, unknown> = {}): Logger {
  return log.child({ service, ...fields });
}

/** Tests and callers that do not care about logs. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Logs one error message at most once per `windowMs`, then says how many repeats it folded. During
 * a database outage every pg-boss loop fails each poll with the same message: without this a worker
 * writes hundreds of identical lines a minute and buries what matters.
 */
export function throttledErrorLog(
  log: Logger,
  msg: string,
  opts: { windowMs?: number; now?: () => number } = {},
): (err: { message: string }) => void {
  const windowMs = opts.windowMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const seen = new Map<string, { at: number; repeats: number }>();
  return (err) => {
    const t = now();
    const s = seen.get(err.message);
    if (s && t - s.at < windowMs) {
      s.repeats++;
      return;
    }
    log.error({ err: { message: err.message }, ...(s?.repeats && { repeatsSinceLast: s.repeats }) }, msg);
    // Bounded: messages that embed ids or times must not grow the map forever.
    if (!s && seen.size >= 100) seen.clear();
    seen.set(err.message, { at: t, repeats: 0 });
  };
}
