import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDb, ensureApiKey, hashApiKey, migrateToLatest, silentLogger } from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { ROOT, request, spawnProcess, startStack } from './support/stack.ts';

const run = promisify(execFile);

t.test(
  'a rotated API key replaces the old one at once on every API replica, and only its hash is stored',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const env = { DATABASE_URL: database.url, METARR_PORT: '0', METARR_HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    const api1 = await spawnProcess(t, 'api', env);
    const api2 = await spawnProcess(t, 'api', env);
    const first = /generated an API key[^\n]*\n\s*\n\s*([0-9a-f]{48})/.exec(api1.output())?.[1];
    t.ok(first, 'the first start printed a generated key');
    const key0 = String(first);
    const get = (base: string | undefined, key: string) =>
      request(String(base), 'GET', '/api/libraries', undefined, { 'x-api-key': key });

    const dbh = createDb(database.url, { max: 1 });
    t.teardown(() => dbh.close());
    const stored = async () =>
      (await dbh.db.selectFrom('settings').select('value').where('key', '=', 'api_key').executeTakeFirst())
        ?.value;
    t.equal(await stored(), hashApiKey(key0), 'the database holds the hash');
    t.notMatch(String(await stored()), key0, 'never the key itself');

    t.equal((await get(api1.address, key0)).status, 200);
    t.equal((await get(api2.address, key0)).status, 200, 'the second replica takes the same key');

    const rotated = await request(String(api1.address), 'POST', '/api/settings/api-key/rotate', undefined, {
      'x-api-key': key0,
    });
    t.equal(rotated.status, 200, rotated.text);
    const key1 = String(rotated.json?.apiKey);
    t.ok(key1.length >= 32 && key1 !== key0, 'a new, long key');
    t.equal(
      (await get(api1.address, key0)).status,
      401,
      'the old key stops working on the replica that rotated',
    );
    t.equal((await get(api2.address, key0)).status, 401, 'and at once on the other replica');
    t.equal((await get(api1.address, key1)).status, 200);
    t.equal((await get(api2.address, key1)).status, 200);
    t.equal(await stored(), hashApiKey(key1));

    // The CLI rotates the same way.
    const cli = await run(
      process.execPath,
      [path.join(ROOT, 'scripts', 'metarr.ts'), 'api-key', '--rotate'],
      {
        env: { ...process.env, DATABASE_URL: database.url, METARR_API_KEY: '' },
      },
    );
    const key2 = cli.stdout.trim();
    t.match(key2, /^[0-9a-f]{48}$/, 'the CLI prints the new key');
    t.equal((await get(api2.address, key1)).status, 401, 'the key before the CLI rotation stops working');
    t.equal((await get(api1.address, key2)).status, 200);
    t.equal((await get(api2.address, key2)).status, 200);
  },
);

t.test('a plaintext key stored by an older version is hashed on start and keeps working', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const dbh = createDb(database.url, { max: 1 });
  t.teardown(() => dbh.close());
  await migrateToLatest(dbh.db, silentLogger);
  const legacy = 'legacy-plaintext-key-0123456789abcdef0123';
  await dbh.db.insertInto('settings').values({ key: 'api_key', value: legacy }).execute();

  const started = await ensureApiKey(dbh.db, undefined);
  t.equal(started.generated, false, 'no new key is generated');
  const row = await dbh.db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'api_key')
    .executeTakeFirst();
  t.equal(row?.value, hashApiKey(legacy), 'the plaintext is replaced by its hash');
});

t.test('rotation is refused with 409 when METARR_API_KEY fixes the key', async (t) => {
  const stack = await startStack(t, { worker: false });
  const r = await stack.api('POST', '/api/settings/api-key/rotate');
  t.equal(r.status, 409, r.text);
  t.match(r.json?.message, /METARR_API_KEY/);
  t.equal((await stack.api('GET', '/api/libraries')).status, 200, 'the fixed key still works');
});
