/**
 * The CLI talks to the database directly (no API needed): `DATABASE_URL`, or the embedded
 * PostgreSQL under `METARR_DATA_DIR` exactly as `pnpm start` finds or starts it.
 */
import {
  createBoss,
  createDb,
  createJobReader,
  createLogger,
  type DbHandle,
  databaseTarget,
  ensureQueues,
  isTransientDbError,
  type JobReader,
  type Logger,
  loadConfig,
  type MetarrConfig,
  migrateToLatest,
  resolveDatabase,
} from '@metarr/core';
import type { PgBoss } from 'pg-boss';
import { CliError } from './io.ts';

export interface CliContext {
  config: MetarrConfig;
  dbh: DbHandle;
  reader: JobReader;
  /** pg-boss, started (it owns the job tables). */
  boss: PgBoss;
}

export function cliConfig(): MetarrConfig {
  try {
    return loadConfig();
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message.split('\n').join('; ') : String(err));
  }
}

export const cliLog = (): Logger => createLogger({ name: 'cli', level: 'warn' });

/** Opens the database (failing fast, unlike the services' start-up) and runs `fn`. */
export async function withDatabase<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const log = cliLog();
  const database = await resolveDatabase(config, log);
  const dbh = createDb(database.url, { max: 2, applicationName: 'metarr-cli' });
  let boss: PgBoss | undefined;
  try {
    try {
      await migrateToLatest(dbh.db, log);
    } catch (err) {
      if (isTransientDbError(err))
        throw new CliError(`database at ${databaseTarget(database.url)} is not reachable`);
      throw err;
    }
    boss = createBoss({
      connectionString: database.url,
      instanceName: 'cli',
      max: 2,
      supervise: false,
      schedule: false,
    });
    boss.on('error', () => {});
    await boss.start();
    await ensureQueues(boss);
    return await fn({ config, dbh, reader: createJobReader(dbh.db), boss });
  } finally {
    await boss?.stop({ graceful: false }).catch(() => {});
    await dbh.close().catch(() => {});
    await database.stop();
  }
}
