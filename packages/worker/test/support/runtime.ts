import { createLogger, createMediaServerClient, type Db, type Logger, loadConfig } from '@metarr/core';
import type { HandlerDeps } from '../../src/context.ts';

/** A logger whose lines the test reads back, parsed. */
export function captureLog(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    name: 'test',
    level,
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  return { log, lines };
}

/** What the worker's composition root hands the handlers, with real player clients. */
export function handlerDeps(db: Db, log: Logger): HandlerDeps {
  return {
    db,
    log,
    clientFor: (p) => createMediaServerClient(p),
    clock: () => new Date(),
    config: loadConfig({ METARR_DATA_DIR: '.tmp/unused' }),
  };
}
