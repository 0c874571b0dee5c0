import { createProviderSettingsReader, loadConfig, PROVIDER_SETTINGS_TTL_MS } from '@metarr/core';
import t from 'tap';
import { providerSettingsFor, providersFor } from '../src/handlers/providers.ts';
import { startTestRuntime } from './support/runtime.ts';

const { db } = await startTestRuntime(t);

async function store(key: string, value: string | null) {
  if (value === null) await db.deleteFrom('settings').where('key', '=', key).execute();
  else
    await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
}

t.beforeEach(async () => {
  await store('tmdb_api_key', null);
  await store('fanart_api_key', null);
});

t.test('the reader serves its last read for the TTL, then reads again', async (t) => {
  let now = 1_000;
  const read = createProviderSettingsReader({ db, now: () => now }, {});
  const empty = await read();
  t.same(empty, { tmdbApiKey: undefined, fanartApiKey: undefined, fanartClientKey: undefined });
  await store('tmdb_api_key', 'stored-tmdb-key');
  now += PROVIDER_SETTINGS_TTL_MS - 1;
  t.equal(await read(), empty, 'within the TTL: the cached read');
  now += 1;
  const fresh = await read();
  t.equal(fresh.tmdbApiKey, 'stored-tmdb-key', 'after the TTL: what is stored now');
  now += PROVIDER_SETTINGS_TTL_MS;
  t.equal(await read(), fresh, 'unchanged settings keep their object');
  now += PROVIDER_SETTINGS_TTL_MS;
  const [a, b] = await Promise.all([read(), read()]);
  t.equal(a, b, 'concurrent callers share one read');
});

t.test('the environment wins over stored keys; the client key comes from the environment', async (t) => {
  await store('tmdb_api_key', 'stored-tmdb-key');
  await store('fanart_api_key', 'stored-fanart-key');
  const read = createProviderSettingsReader({ db }, { tmdbApiKey: 'env-tmdb-key', fanartClientKey: 'ck' });
  t.same(await read(), {
    tmdbApiKey: 'env-tmdb-key',
    fanartApiKey: 'stored-fanart-key',
    fanartClientKey: 'ck',
  });
});

t.test('providersFor rebuilds clients only when the effective settings change', async (t) => {
  const config = loadConfig({ METARR_DATA_DIR: '.tmp/unused', TMDB_API_KEY: '', FANART_API_KEY: '' });
  let now = Date.now();
  const deps = { db, config, clock: () => new Date(now) };
  const none = await providersFor(deps);
  t.equal(none.tmdb, null, 'no key: no TMDB client');
  t.equal(await providersFor(deps), none, 'same settings: same clients');

  await store('tmdb_api_key', 'stored-tmdb-key');
  now += PROVIDER_SETTINGS_TTL_MS;
  const keyed = await providersFor(deps);
  t.not(keyed, none, 'a stored key: new clients');
  t.ok(keyed.tmdb, 'with a TMDB client');
  t.equal(keyed.fanart, null);
  t.equal((await providerSettingsFor(deps)).tmdbApiKey, 'stored-tmdb-key');

  now += PROVIDER_SETTINGS_TTL_MS;
  t.equal(await providersFor(deps), keyed, 'read again, unchanged: the same clients');

  await store('tmdb_api_key', null);
  now += PROVIDER_SETTINGS_TTL_MS;
  t.equal((await providersFor(deps)).tmdb, null, 'key removed: no TMDB client');
});
