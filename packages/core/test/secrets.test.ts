import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { createDb } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { silentLogger } from '../src/log.ts';
import { insertPlayerGroup } from '../src/records/playerGroups.ts';
import { createPlayer, getPlayer } from '../src/records/players.ts';
import {
  deriveSecretKey,
  loadSecretKey,
  openSealed,
  prepareSecrets,
  SECRET_KEY_FILE,
  seal,
  useSecretKey,
} from '../src/secrets.ts';
import { readProviderSettings, writeProviderKeys } from '../src/services/settings.ts';

const key = deriveSecretKey(randomBytes(32).toString('base64'));
const otherKey = deriveSecretKey('another key of at least thirty-two characters');

t.test('seal and open: AES-256-GCM with the enc:v1: prefix, a fresh IV each time', async (t) => {
  const a = seal('hunter2-player-password', key);
  const b = seal('hunter2-player-password', key);
  t.match(a, /^enc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
  t.not(a, b, 'a fresh IV per seal');
  t.notOk(a.includes('hunter2'), 'no plaintext in the sealed value');
  t.equal(openSealed(a, key), 'hunter2-player-password');
  t.equal(openSealed('legacy-plaintext', key), 'legacy-plaintext', 'a value from before passes through');
  t.throws(() => openSealed(a, otherKey), { code: 'SECRET_KEY_MISMATCH', retryable: false });
  // Flip one bit of the auth tag's bytes (editing its last base64url character may only touch
  // padding bits and leave the bytes as they were).
  const parts = a.split(':');
  const tag = Buffer.from(parts[4]!, 'base64url');
  tag[0] = tag[0]! ^ 1;
  const tampered = [...parts.slice(0, 4), tag.toString('base64url')].join(':');
  t.throws(() => openSealed(tampered, key), { code: 'SECRET_KEY_MISMATCH' }, 'tampering is detected');
});

t.test('secret.key: generated 0600 on first use, the same for concurrent starts, reused after', async (t) => {
  const dataDir = path.join(t.testdir({}), 'data');
  const keys = await Promise.all(Array.from({ length: 8 }, () => loadSecretKey({ dataDir })));
  t.ok(
    keys.every((k) => k.equals(keys[0] as Buffer)),
    'every concurrent caller got the same key',
  );
  t.equal((await fs.stat(path.join(dataDir, SECRET_KEY_FILE))).mode & 0o777, 0o600);
  t.same(await fs.readdir(dataDir), [SECRET_KEY_FILE], 'no temp file left');
  t.ok((await loadSecretKey({ dataDir })).equals(keys[0] as Buffer), 'read back on the next start');
  t.ok(
    (await loadSecretKey({ dataDir, secretKey: 'x'.repeat(40) })).equals(deriveSecretKey('x'.repeat(40))),
    'METARR_SECRET_KEY wins over the file',
  );
});

t.test(
  'records store player secrets and provider keys sealed; start-up seals old plaintext and checks the key',
  async (t) => {
    const database = await createTestDatabase();
    const { db, close } = createDb(database.url);
    t.teardown(async () => {
      await close();
      await database.drop();
    });
    await migrateToLatest(db, silentLogger);
    useSecretKey(key);
    await prepareSecrets(db, key);

    const groupId = await insertPlayerGroup(db, { name: 'k', type: 'kodi' });
    const p = await createPlayer(db, {
      groupId,
      name: 'kodi',
      type: 'kodi',
      host: '127.0.0.1',
      port: 8080,
      username: 'kodi',
      password: 'player-password-1',
      apiKey: 'player-token-1',
    });
    t.equal(p.password, 'player-password-1', 'the record carries the plaintext');
    await writeProviderKeys(db, { tmdbApiKey: 'tmdb-key-plain-1' });
    const raw = JSON.stringify([
      await db.selectFrom('players').selectAll().execute(),
      await db.selectFrom('settings').selectAll().execute(),
    ]);
    for (const s of ['player-password-1', 'player-token-1', 'tmdb-key-plain-1'])
      t.notOk(raw.includes(s), `${s} is not in the raw rows`);
    t.equal((await getPlayer(db, p.id))?.apiKey, 'player-token-1');
    t.equal((await readProviderSettings(db, {})).tmdbApiKey, 'tmdb-key-plain-1');

    // Rows written in plaintext by an earlier version are sealed on the next start.
    await db.updateTable('players').set({ password: 'old-plain-password' }).where('id', '=', p.id).execute();
    await db
      .updateTable('settings')
      .set({ value: 'old-plain-tmdb' })
      .where('key', '=', 'tmdb_api_key')
      .execute();
    t.same(await prepareSecrets(db, key), { sealed: 2 });
    const after = JSON.stringify([
      await db.selectFrom('players').selectAll().execute(),
      await db.selectFrom('settings').selectAll().execute(),
    ]);
    t.notOk(after.includes('old-plain'), 'no plaintext left');
    t.equal((await getPlayer(db, p.id))?.password, 'old-plain-password');

    await t.rejects(prepareSecrets(db, otherKey), { code: 'SECRET_KEY_MISMATCH' }, 'a wrong key is refused');
  },
);
