import {
  createLogger,
  createMediaServerClient,
  type Db,
  type Logger,
  loadConfig,
  type Runtime,
  silentLogger,
  startRuntime,
} from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
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

/**
 * A throwaway database (migrated, pg-boss installed, queues created) and its runtime for one test
 * file, both removed when the file's tests end. No supervisor: a test drives expiry itself.
 */
export async function startTestRuntime(
  t: { teardown(fn: () => unknown): void },
  log: Logger = silentLogger,
): Promise<{ rt: Runtime; db: Db; url: string }> {
  const database = await createTestDatabase();
  const rt = await startRuntime({
    url: database.url,
    log,
    instanceName: 'test',
    poolMax: 4,
    supervise: false,
  });
  t.teardown(async () => {
    await rt.close();
    await database.drop();
  });
  return { rt, db: rt.dbh.db, url: database.url };
}
