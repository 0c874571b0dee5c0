import { randomUUID } from 'node:crypto';
import {
  createJobInspector,
  createJobQueue,
  createLogger,
  createMediaServerClient,
  createPlayerLibrary,
  type Db,
  fromBossPriority,
  type JobName,
  type JobPayload,
  type Logger,
  loadConfig,
  type Runtime,
  silentLogger,
  startRuntime,
} from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import type { HandlerDeps } from '../../src/context.ts';
import { createJobContext, unfenced } from '../../src/runtime.ts';

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
    playerLibraryFor: (p) => createPlayerLibrary(p),
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

/**
 * One handler at a time, against a real queue and database: a job context as the runtime builds it
 * (unfenced: no pg-boss lease behind it) and a reader of the jobs a handler created, so a test can
 * assert the follow-ups without running them.
 */
export async function startHandlerHarness(
  t: { teardown(fn: () => unknown): void },
  opts: { log?: Logger; deps?: (db: Db, log: Logger) => HandlerDeps } = {},
) {
  const log = opts.log ?? silentLogger;
  const { rt, db, url } = await startTestRuntime(t, log);
  const queue = createJobQueue({ boss: rt.boss, db, log });
  const deps = (opts.deps ?? handlerDeps)(db, log);
  /** `attempt`: another attempt of an existing job (its id and retry count), as after an expiry. */
  const ctxFor = <N extends JobName>(
    type: N,
    payload: JobPayload<N>,
    priority = 5,
    attempt: { id: string; retryCount: number } = { id: randomUUID(), retryCount: 0 },
  ) =>
    createJobContext(
      { queue, db, log, lease: unfenced(db) },
      {
        id: attempt.id,
        type,
        payload,
        parentId: null,
        retryCount: attempt.retryCount,
        signal: new AbortController().signal,
        priority,
      },
    );
  const jobsOf = async (name: string) => {
    const rows = await createJobInspector(db).rows({ types: [name] });
    return rows.map((r) => ({
      id: r.id,
      /** On Metarr's scale (1 = most urgent), not pg-boss's. */
      priority: fromBossPriority(r.priority),
      data: r.data as { payload: Record<string, unknown>; parentId: string },
    }));
  };
  return { rt, db, url, queue, deps, ctxFor, jobsOf };
}
