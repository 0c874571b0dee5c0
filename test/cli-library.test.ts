import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, createLibrary } from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import { sql } from 'kysely';
import t from 'tap';
import { cli, oneLine } from './support/cli.ts';

t.test('scan queues a library-scan job by library id or path; explain prints every step', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = { DATABASE_URL: database.url };
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-cli-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'Heat (1995)'));

  const none = await cli(env, 'scan', '1');
  t.equal(none.code, 1, 'an unknown library fails');
  t.match(none.stderr, 'no library 1; libraries: none configured');
  oneLine(t, none.stderr);

  const dbh = createDb(database.url, { max: 1 });
  t.teardown(() => dbh.close());
  const lib = await createLibrary(dbh.db, { name: 'Movies', type: 'movie', path: root });

  const byId = await cli(env, 'scan', String(lib.id), '--json');
  t.equal(byId.code, 0, byId.stderr);
  const { jobId } = JSON.parse(byId.stdout);
  const job = (
    await sql<{ name: string; payload: unknown }>`select name, data->'payload' as payload
      from pgboss.job where id = ${jobId}`.execute(dbh.db)
  ).rows[0];
  t.same(job, { name: 'library-scan', payload: { libraryId: lib.id } }, 'a library-scan job for it');

  const byPath = await cli(env, 'scan', `${root}/`);
  t.equal(byPath.code, 0, byPath.stderr);
  t.match(byPath.stdout, new RegExp(`library ${lib.id} "Movies"`), 'found by its path too');

  const known = await cli(env, 'scan', '999');
  t.equal(known.code, 1);
  t.match(known.stderr, `libraries: ${lib.id} (${root})`, 'the error lists the libraries there are');

  const inside = await cli(env, 'explain', 'radarr', path.join(root, 'Heat (1995)'));
  t.match(inside.stdout, /^1\. radarr sent /m, 'numbered steps');
  t.match(inside.stdout, `library #${lib.id} "Movies" (movie)`);
  t.match(inside.stdout, 'the folder exists on disk');
  t.match(inside.stdout, 'stops here: library "Movies" is linked to no player group');
  t.equal(inside.code, 1, 'a path that reaches no player is a failure');

  const outside = await cli(env, 'explain', 'radarr', '/nowhere/Film (2000)', '--json');
  t.equal(outside.code, 1);
  t.match(JSON.parse(outside.stdout), { ok: false, library: null, metarrPath: '/nowhere/Film (2000)' });

  const badManager = await cli(env, 'explain', 'plex', '/x');
  t.equal(badManager.code, 2);
  t.match(badManager.stderr, 'manager must be one of radarr, sonarr, lidarr');
});
