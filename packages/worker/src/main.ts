import {
  createLogger,
  createMediaServerClient,
  createPlayerLibrary,
  loadConfigOrExit,
  resolveDatabase,
  retryWhileDbUnreachable,
  startRuntime,
  syncSchedules,
  tolerateConnectionLossWhileStopping,
} from '@metarr/core';
import { batchHandlers, handlers } from './handlers/index.ts';
import { startWorkerRuntime } from './runtime.ts';

/** Composition root of a worker process: the only place its real clients are built. */
async function main() {
  const config = loadConfigOrExit();
  const log = createLogger({ name: 'worker', level: config.logLevel, format: config.logFormat });
  const database = await resolveDatabase(config, log);
  const runtime = await startRuntime({
    url: database.url,
    log,
    instanceName: 'worker',
    secrets: { secretKey: config.secretKey, dataDir: config.dataDir },
    asyncCommit: true,
    poolMax: config.dbPoolMax,
    supervise: true,
    jobRetentionDays: config.jobRetentionDays,
  });
  const db = runtime.dbh.db;
  await startWorkerRuntime({
    boss: runtime.boss,
    db,
    log,
    handlers,
    batchHandlers,
    concurrency: config.workerConcurrency,
    deps: {
      db,
      log,
      clientFor: (player) =>
        createMediaServerClient(player, { timeoutMs: config.playerTimeoutSeconds * 1000 }),
      playerLibraryFor: (player) =>
        createPlayerLibrary(player, { timeoutMs: config.playerTimeoutSeconds * 1000 }),
      clock: () => new Date(),
      // The environment only: handlers read the provider keys in force per job (providerSettingsFor),
      // so keys set or removed through the API apply without a restart.
      config,
    },
  });
  // Default schedules for libraries added while no API ran; every worker converges on the same rows.
  await retryWhileDbUnreachable(log, 'sync-schedules', () => syncSchedules({ db, boss: runtime.boss, log }));
  log.info({ service: 'Worker', concurrency: config.workerConcurrency }, 'Metarr worker running');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    tolerateConnectionLossWhileStopping(log);
    log.info(
      { service: 'Worker', signal, graceSeconds: config.shutdownGraceSeconds },
      'Stopping worker: finishing in-flight jobs',
    );
    await runtime.close(config.shutdownGraceSeconds * 1000);
    await database.stop().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Ready only once the signal handlers are in place, so a supervisor may stop us right away.
  if (process.send) process.send({ type: 'ready' });
}

main().catch((err) => {
  process.stderr.write(
    `Metarr worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
