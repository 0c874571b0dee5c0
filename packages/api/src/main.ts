import {
  createJobQueue,
  createLogger,
  ensureApiKey,
  loadConfigOrExit,
  resolveDatabase,
  retryWhileDbUnreachable,
  startRuntime,
  tolerateConnectionLossWhileStopping,
} from '@metarr/core';
import { buildApp } from './app.ts';
import { startUrls } from './startUrls.ts';
import { createTmdbSource } from './tmdbSource.ts';

/** Composition root of the API process: the only place its real clients are built. */
async function main() {
  const config = loadConfigOrExit();
  const log = createLogger({ name: 'api', level: config.logLevel, format: config.logFormat });
  const database = await resolveDatabase(config, log);
  const runtime = await startRuntime({
    url: database.url,
    log,
    instanceName: 'api',
    secrets: { secretKey: config.secretKey, dataDir: config.dataDir },
    poolMax: config.dbPoolMax,
    supervise: false,
    queryTimeoutMillis: 4000,
    jobRetentionDays: config.jobRetentionDays,
  });
  const { apiKey, generated } = await retryWhileDbUnreachable(log, 'api-key', () =>
    ensureApiKey(runtime.dbh.db, config.apiKey),
  );
  if (generated) {
    // Printed once, to the terminal only — never into the structured log.
    process.stderr.write(
      `\n  Metarr generated an API key (only its hash is stored, so it is shown this once):\n\n    ${apiKey}\n\n  Issue a new one any time with: pnpm metarr api-key --rotate\n\n`,
    );
  }
  const queue = createJobQueue({ boss: runtime.boss, db: runtime.dbh.db, log });
  const app = await buildApp({
    db: runtime.dbh.db,
    boss: runtime.boss,
    queue,
    log,
    auth: {
      apiKey: config.apiKey,
      webhookUsername: config.webhookUsername,
      webhookPassword: config.webhookPassword,
    },
    config,
    feed: { databaseUrl: database.url },
    tmdb: createTmdbSource(runtime.dbh.db, config),
  });
  const address = await app.listen({ host: config.host, port: config.port }).catch((err) => {
    // The usual cause is a second Metarr or another service on the port: name the setting that moves it.
    if ((err as { code?: string }).code === 'EADDRINUSE')
      throw new Error(
        `port ${config.port} on ${config.host} is already in use (METARR_PORT=${config.port}); stop what uses it or set METARR_PORT to a free port`,
      );
    throw err;
  });
  log.info({ service: 'Api', address, basePath: config.basePath || '/' }, 'Metarr API listening');
  const urls = startUrls(address, config.basePath);
  log.info({ service: 'Api', url: urls.jobsPage }, 'Jobs page');
  log.info({ service: 'Api', url: urls.apiDocs }, 'API docs');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    tolerateConnectionLossWhileStopping(log);
    log.info({ service: 'Api', signal }, 'Stopping API');
    await app.close().catch(() => {});
    await runtime.close();
    await database.stop().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Ready only once the signal handlers are in place, so a supervisor may stop us right away.
  if (process.send) process.send({ type: 'ready', address });
}

main().catch((err) => {
  process.stderr.write(`Metarr API failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
