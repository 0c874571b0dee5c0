/**
 * The worker container's health check: `node packages/worker/src/health.ts` exits 0 when the worker
 * in this container (pid 1, this host name; a pid argument overrides it) holds a live
 * instance in the job queue's registry, so it is connected and heartbeating; 1 otherwise.
 */
import os from 'node:os';
import { createDb, instanceLive, loadConfig } from '@metarr/core';

const pid = Number(process.argv[2] ?? 1);
const url = loadConfig().databaseUrl;
let live = false;
if (url) {
  const dbh = createDb(url, { max: 1, applicationName: 'metarr-health' });
  live = await instanceLive(dbh.db, 'worker', os.hostname(), pid).catch(() => false);
  await dbh.close().catch(() => {});
}
process.stdout.write(live ? 'worker live\n' : 'worker not live\n');
process.exitCode = live ? 0 : 1;
