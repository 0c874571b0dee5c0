import fs from 'node:fs/promises';
import path from 'node:path';
import type { PgBoss } from 'pg-boss';
import { backoffDelay } from './async.ts';
import type { MetarrConfig } from './config.ts';
import { createDb, type DbHandle } from './db/connect.ts';
import { PORT_FILE, runningInstallDatabase, startInstallDatabase } from './db/embeddedInstall.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createBoss, ensureQueues } from './jobs/store/setup.ts';
import { type Logger, throttledErrorLog } from './log.ts';
import { loadSecretKey, prepareSecrets, secretKey, useSecretKey } from './secrets.ts';

export interface DatabaseTarget {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * `DATABASE_URL`, or the embedded PostgreSQL under `METARR_DATA_DIR`. A second process on the same
 * data dir (API and worker started separately) finds the running cluster through its port file.
 */
export async function resolveDatabase(config: MetarrConfig, log: Logger): Promise<DatabaseTarget> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const dataDir = path.join(config.dataDir, 'postgres');
  const portFile = path.join(config.dataDir, PORT_FILE);
  const running = await runningInstallDatabase(config.dataDir);
  if (running) {
    log.info(
      { service: 'DatabaseService', port: running.port },
      'Using the embedded PostgreSQL another Metarr process started',
    );
    return { url: running.url, embedded: true, stop: async () => {} };
  }
  log.info({ service: 'DatabaseService', dataDir }, 'Starting embedded PostgreSQL');
  const pg = await startInstallDatabase({ dataDir: config.dataDir, log });
  await fs.writeFile(portFile, `${pg.port}\n`, { mode: 0o600 });
  log.info({ service: 'DatabaseService', port: pg.port }, 'Embedded PostgreSQL is ready');
  return {
    url: pg.url,
    embedded: true,
    stop: async () => {
      await fs.rm(portFile, { force: true });
      await pg.stop();
    },
  };
}

/** Errors of a database that is down, starting, shutting down or unreachable (worth retrying). */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === '57P01' ||
    code === '57P03' ||
    /timeout|ECONN|terminat|shutting down|starting up/i.test(String(err))
  );
}

/**
 * Runs a start-up step, retrying with backoff (up to ~4 min) while the database is unreachable
 * (not up yet, restarting, a dropped connection): a process started next to its database, or one
 * whose database restarts during start-up, waits for it instead of exiting. Other errors throw.
 */
/** `host:port` of a database URL: what a person needs to find the server, never its password. */
export function databaseTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'the configured database';
  }
}

export async function retryWhileDbUnreachable<T>(
  log: Logger,
  step: string,
  fn: () => Promise<T>,
  target?: string,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!isTransientDbError(err) || attempt >= 30) throw err;
      const delay = backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 });
      log.warn(
        {
          service: 'DatabaseService',
          step,
          attempt,
          delayMs: delay,
          code,
          ...(target && { database: target }),
        },
        'Database not reachable yet; retrying',
      );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export interface Runtime {
  dbh: DbHandle;
  boss: PgBoss;
  /** Stops fetching, lets in-flight jobs finish for up to `graceMs`, then closes the pools. */
  close(graceMs?: number): Promise<void>;
}

// Connections kept free for admins, migrations and replication.
const CONNECTION_RESERVE = 10;

/**
 * Warns when this process would push the server past `max_connections` minus a reserve: many API
 * and worker replicas on one Postgres multiply their pools. Counts the Metarr connections already
 * open (application_name `metarr-*`) plus what this process may open.
 */
export async function checkConnectionBudget(
  dbh: DbHandle,
  planned: number,
  log: Logger,
): Promise<{ max: number; inUse: number; planned: number; ok: boolean }> {
  const { rows } = await dbh.pool.query<{ max: number; in_use: number }>(
    `select current_setting('max_connections')::int as max,
            (select count(*)::int from pg_stat_activity where application_name like 'metarr-%') as in_use`,
  );
  const max = rows[0]?.max ?? 100;
  const inUse = rows[0]?.in_use ?? 0;
  const ok = inUse + planned <= max - CONNECTION_RESERVE;
  if (!ok) {
    log.warn(
      {
        service: 'DatabaseService',
        maxConnections: max,
        metarrConnections: inUse,
        planned,
        reserve: CONNECTION_RESERVE,
      },
      'Too many connections planned: lower METARR_DB_POOL_MAX per process or raise max_connections on the server',
    );
  }
  return { max, inUse, planned, ok };
}

/**
 * Connects, migrates (serialised by an advisory lock) and starts pg-boss with the catalog's
 * queues. A database that is not up yet is retried with backoff instead of crash-looping.
 */
export async function startRuntime(opts: {
  url: string;
  log: Logger;
  instanceName: string;
  poolMax: number;
  supervise: boolean;
  queryTimeoutMillis?: number;
  /** METARR_JOB_RETENTION_DAYS; unset keeps the catalog's default. */
  jobRetentionDays?: number;
  /**
   * Workers only: commit without waiting for the WAL flush. A crash of PostgreSQL itself can then
   * lose the last moments of worker commits — whole transactions, in order — which at-least-once
   * jobs recover by running again (their writes are idempotent). Never for the API: its 200 promises
   * the delivery is on disk.
   */
  asyncCommit?: boolean;
  /**
   * Where the key for secrets at rest comes from (METARR_SECRET_KEY, the data dir). Unset: the
   * environment's, as secrets.ts resolves it.
   */
  secrets?: { secretKey?: string | undefined; dataDir: string };
}): Promise<Runtime> {
  const sessionOptions = opts.asyncCommit ? '-c synchronous_commit=off' : undefined;
  const dbh = createDb(opts.url, {
    max: opts.poolMax,
    applicationName: `metarr-${opts.instanceName}`,
    ...(opts.queryTimeoutMillis !== undefined && { queryTimeoutMillis: opts.queryTimeoutMillis }),
    ...(sessionOptions && { options: sessionOptions }),
  });
  await retryWhileDbUnreachable(
    opts.log,
    'migrate',
    () => migrateToLatest(dbh.db, opts.log),
    databaseTarget(opts.url),
  );
  const key = opts.secrets ? await loadSecretKey(opts.secrets) : await secretKey();
  useSecretKey(key);
  const { sealed } = await prepareSecrets(dbh.db, key).catch(async (err) => {
    await dbh.close().catch(() => {});
    throw err;
  });
  if (sealed)
    opts.log.info({ service: 'SecretsService', sealed }, 'Secrets stored in plaintext were encrypted');
  const startBoss = async () => {
    const boss = createBoss({
      connectionString: opts.url,
      instanceName: opts.instanceName,
      max: Math.max(2, Math.ceil(opts.poolMax / 2)),
      supervise: opts.supervise,
      schedule: opts.supervise,
      ...(sessionOptions && { options: sessionOptions }),
    });
    boss.on('error', throttledErrorLog(opts.log.child({ service: 'JobQueue' }), 'pg-boss error'));
    try {
      await boss.start({ attempts: 10 });
      await ensureQueues(
        boss,
        opts.jobRetentionDays !== undefined ? { retentionDays: opts.jobRetentionDays } : {},
      );
      return boss;
    } catch (err) {
      await boss.stop({ graceful: false }).catch(() => {});
      throw err;
    }
  };
  // The database can also go away after the migrations (a Postgres restart while a worker starts):
  // that is retried like a database that is not up yet, instead of exiting.
  const boss = await retryWhileDbUnreachable(
    opts.log,
    'start-job-queue',
    startBoss,
    databaseTarget(opts.url),
  );
  // Pool + pg-boss pool + its LISTEN connection + the API's feed listener.
  await checkConnectionBudget(
    dbh,
    opts.poolMax + Math.max(2, Math.ceil(opts.poolMax / 2)) + 2,
    opts.log,
  ).catch(() => {});
  return {
    dbh,
    boss,
    close: async (graceMs = 10_000) => {
      // Resolves after in-flight jobs finish, or fails the rest (an attempt) when the grace runs out.
      await boss.stop({ graceful: true, timeout: graceMs }).catch(() => {});
      await dbh.close().catch(() => {});
    },
  };
}

const CONNECTION_LOSS = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/**
 * While a process shuts down, Postgres may be going down too (Ctrl-C reaches the embedded server
 * in the same terminal, or compose stops everything at once). pg emits such connection losses on
 * clients its pools have already let go of; crashing with a stack trace then helps nobody.
 */
export function tolerateConnectionLossWhileStopping(log: Logger): void {
  process.on('uncaughtException', (err) => {
    const code = (err as { code?: string }).code;
    if (code && CONNECTION_LOSS.has(code)) {
      log.warn({ service: 'Shutdown', code }, 'Database connection lost while stopping');
      return;
    }
    log.fatal(
      { service: 'Shutdown', err: { message: err.message, stack: err.stack } },
      'Uncaught exception while stopping',
    );
    process.exit(1);
  });
}
