import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, createLibrary, createPlayer, freePort, insertPlayerGroup } from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { cli } from './support/cli.ts';
import { TEST_SECRET_KEY } from './support/stack.ts';

t.test('doctor checks Node, the database, libraries, players and TMDB and says what to fix', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = { DATABASE_URL: database.url, METARR_SECRET_KEY: TEST_SECRET_KEY, TMDB_API_KEY: '' };

  const clean = await cli(env, 'doctor', '--json');
  t.equal(clean.code, 0, `nothing fails on an empty setup: ${clean.stderr}`);
  t.match(JSON.parse(clean.stdout), [
    { check: 'node', level: 'ok' },
    { check: 'database', level: 'ok' },
    { check: 'tmdb', level: 'warn', fix: 'set TMDB_API_KEY to fetch metadata' },
  ]);

  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-doctor-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const dbh = createDb(database.url, { max: 1 });
  t.teardown(() => dbh.close());
  await createLibrary(dbh.db, { name: 'Movies', type: 'movie', path: root });
  await createLibrary(dbh.db, { name: 'Gone', type: 'movie', path: path.join(root, 'unmounted') });
  const groupId = await insertPlayerGroup(dbh.db, { name: 'Living room', type: 'kodi' });
  const deadPort = await freePort();
  await createPlayer(dbh.db, { groupId, name: 'Kodi', type: 'kodi', host: '127.0.0.1', port: deadPort });

  const r = await cli(env, 'doctor');
  t.equal(r.code, 1, 'a failed check exits 1');
  t.match(r.stdout, /^\s+CHECK\s+RESULT$/m, 'a table');
  t.match(r.stdout, /^OK\s+library 1 "Movies"\s+\S+ writable, [\d.]+ GiB free$/m);
  t.match(r.stdout, /^FAIL\s+library 2 "Gone"\s+\S+unmounted does not exist$/m);
  t.match(r.stdout, /^FAIL\s+player 1 "Kodi"\s+unreachable$/m);
  t.match(r.stdout, '\nTo fix:\n');
  t.match(r.stdout, 'library 2 "Gone": mount the folder or correct the library path');
  t.match(
    r.stdout,
    new RegExp(`player 1 "Kodi": .*127\\.0\\.0\\.1:${deadPort}`),
    'the player sentence names it',
  );

  const down = await cli({ DATABASE_URL: `postgres://postgres@127.0.0.1:${deadPort}/x` }, 'doctor');
  t.equal(down.code, 1);
  t.match(down.stdout, /^FAIL\s+database\s+database at 127\.0\.0\.1:\d+ is not reachable$/m);
  t.match(down.stdout, 'database: start PostgreSQL or correct DATABASE_URL');
});
