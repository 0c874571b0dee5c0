/**
 * `pnpm metarr api-key [--rotate]` — the API key is stored only as a hash, so it cannot be shown
 * again; `--rotate` issues a new one (printed once) and the old one stops working at once.
 */
import {
  createDb,
  createLogger,
  loadConfigOrExit,
  readApiKeyHash,
  resolveDatabase,
  rotateApiKey,
} from '@metarr/core';

const [command, ...flags] = process.argv.slice(2);
const rotate = flags.includes('--rotate');
if (command !== 'api-key' || flags.some((f) => f !== '--rotate')) {
  process.stderr.write('usage: pnpm metarr api-key [--rotate]\n');
  process.exit(2);
}
const config = loadConfigOrExit();
if (config.apiKey) {
  process.stdout.write(
    rotate
      ? 'METARR_API_KEY is set in the environment: change it there and restart to rotate the key.\n'
      : 'METARR_API_KEY is set in the environment; that is the key.\n',
  );
  process.exit(rotate ? 1 : 0);
}
const log = createLogger({ name: 'cli', level: 'warn' });
const database = await resolveDatabase(config, log);
const dbh = createDb(database.url, { max: 1 });
try {
  if (rotate) {
    const key = await rotateApiKey(dbh.db);
    process.stdout.write(`${key}\n`);
    process.stderr.write('New API key issued; the previous key no longer works.\n');
  } else {
    const hash = await readApiKeyHash(dbh.db).catch(() => null);
    process.stderr.write(
      hash
        ? 'The API key is stored only as a hash and cannot be shown. Issue a new one with: pnpm metarr api-key --rotate\n'
        : 'No API key stored yet: start Metarr once (pnpm start) to generate one.\n',
    );
    process.exitCode = 1;
  }
} finally {
  await dbh.close();
  await database.stop();
}
