/**
 * Secrets at rest under real processes: what a dump of the database shows, the key file, old
 * plaintext rows sealed on start, and a wrong key refused at start with one line.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { query } from './support/chaos.ts';
import { API_KEY, request } from './support/stack.ts';
import { Supervisor } from './support/supervisor.ts';

const PLAYER_PASSWORD = 'canary-player-pw-6d1c0e';
const TMDB_KEY = 'canary-tmdb-key-a93b77';

t.test(
  'a database dump reveals no provider key or player password; a wrong key stops the start',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const dataDir = path.join(t.testdir({}), 'data');
    const sup = new Supervisor(t, {
      DATABASE_URL: database.url,
      METARR_DATA_DIR: dataDir,
      // The key file of the data dir, not the suite's shared key.
      METARR_SECRET_KEY: '',
      METARR_API_KEY: API_KEY,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      METARR_DB_POOL_MAX: '4',
    });
    let api = await sup.start('api', { name: 'api' });
    const call = (method: string, route: string, body?: unknown) =>
      request(String(api.address), method, route, body, { 'x-api-key': API_KEY });

    t.equal((await fs.stat(path.join(dataDir, 'secret.key'))).mode & 0o777, 0o600, 'secret.key is 0600');
    const group = await call('POST', '/api/player-groups', { name: 'Kodi', type: 'kodi' });
    t.equal(group.status, 201, group.text);
    const player = await call('POST', '/api/players', {
      groupId: group.json.id,
      name: 'kodi',
      type: 'kodi',
      host: '127.0.0.1',
      port: 8080,
      username: 'kodi',
      password: PLAYER_PASSWORD,
    });
    t.equal(player.status, 201, player.text);
    t.equal((await call('PUT', '/api/settings/providers', { tmdbApiKey: TMDB_KEY })).status, 200);

    const dump = async () =>
      JSON.stringify([
        await query(database.url, 'select * from players'),
        await query(database.url, 'select * from settings'),
      ]);
    const first = await dump();
    t.notOk(first.includes(PLAYER_PASSWORD), 'the player password is not in the players table');
    t.notOk(first.includes(TMDB_KEY), 'the TMDB key is not in the settings table');
    t.match(first, /enc:v1:/, 'they are stored sealed');
    t.same((await call('GET', '/api/settings/providers')).json.tmdb.configured, true, 'and still usable');

    // Rows an earlier version wrote in plaintext are sealed by the next start.
    await sup.term('api');
    await query(database.url, `update players set password = 'plain-before-${PLAYER_PASSWORD}'`);
    await query(
      database.url,
      `update settings set value = 'plain-before-${TMDB_KEY}' where key = 'tmdb_api_key'`,
    );
    api = await sup.start('api', { name: 'api2' });
    t.notOk((await dump()).includes('plain-before-'), 'old plaintext rows are encrypted on start');
    await sup.term('api2');

    // Another key than the one the secrets were sealed with: a one-line refusal, exit 1.
    const wrong = await sup.start('api', {
      name: 'wrong-key',
      env: { METARR_SECRET_KEY: 'a-different-secret-key-of-enough-length-0123' },
      waitReady: false,
    });
    const { code } = await wrong.exited;
    t.equal(code, 1, 'exits 1');
    const lines = wrong
      .output()
      .split('\n')
      .filter((l) => l.includes('SECRET_KEY_MISMATCH'));
    t.equal(lines.length, 1, `one line names the problem:\n${wrong.output()}`);
    t.notMatch(wrong.output(), /\n\s+at /, 'no stack trace');
  },
);
