/**
 * Human-readable log lines for a terminal. pino writes JSON; this destination turns each line into
 * `time LEVEL process service: message key=value …`. A small formatter instead of pino-pretty: it runs
 * in-process (no worker thread per process) and adds no dependency for a few dozen lines.
 */

interface Out {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

const COLORS: Record<string, string> = {
  fatal: '\x1b[35m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  trace: '\x1b[90m',
};
const RESET = '\x1b[0m';
/** Fields shown in the line's head, or not at all, rather than as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'process', 'service', 'hostname']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One JSON log line as text; a line that is not JSON is returned unchanged. */
export function formatLogLine(line: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = String(o.level ?? 'info');
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const tag = level.toUpperCase().padEnd(5);
  const head = [
    time,
    color && COLORS[level] ? `${COLORS[level]}${tag}${RESET}` : tag,
    o.process ? `[${o.process}]` : undefined,
    o.service ? `${o.service}:` : undefined,
    typeof o.msg === 'string' ? o.msg : undefined,
  ].filter((p) => p !== undefined);
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [k, v] of Object.entries(o)) {
    if (HEAD.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as Record<string, unknown>;
      fields.push(`err=${value(e.message ?? e)}`);
      if (e.code !== undefined) fields.push(`code=${value(e.code)}`);
      // Stacks only when debugging: at info a failed attempt stays one line.
      if (typeof e.stack === 'string' && (level === 'debug' || level === 'trace')) stack = e.stack;
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const text = [...head, ...fields].join(' ');
  return stack ? `${text}\n    ${stack.split('\n').join('\n    ')}\n` : `${text}\n`;
}

/** A pino destination that writes each JSON line to `out` in the readable form. */
export function prettyDestination(out: Out): { write(chunk: string): void } {
  const color = out.isTTY === true;
  let pending = '';
  return {
    write(chunk: string) {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line) out.write(formatLogLine(line, color));
        nl = pending.indexOf('\n');
      }
    },
  };
}
