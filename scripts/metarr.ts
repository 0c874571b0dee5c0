/** `pnpm metarr api-key` — prints the API key the API generated and stored on first start. */
import { createDb, createLogger, loadConfig, readStoredApiKey, resolveDatabase } from '@metarr/core';

const [command] = process.argv.slice(2);
if (command !== 'api-key') {
  process.stderr.write('usage: pnpm metarr api-key\n');
  process.exit(2);
}
const config = loadConfig();
if (config.apiKey) {
  process.stdout.write('METARR_API_KEY is set in the environment; that is the key.\n');
  process.exit(0);
}
const log = createLogger({ name: 'cli', level: 'warn' });
const database = await resolveDatabase(config, log);
const dbh = createDb(database.url, { max: 1 });
try {
  const key = await readStoredApiKey(dbh.db).catch(() => null);
  if (!key) {
    process.stderr.write('No API key stored yet: start Metarr once (pnpm start) to generate one.\n');
    process.exitCode = 1;
  } else {
    process.stdout.write(`${key}\n`);
  }
} finally {
  await dbh.close();
  await database.stop();
}
