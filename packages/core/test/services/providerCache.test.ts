import { startFakeFanart, startFakeTmdb } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { createFanartClient } from '../../src/clients/fanart.ts';
import { createTmdbClient } from '../../src/clients/tmdb.ts';
import { createDb } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { AppError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { providerRequestCounts } from '../../src/records/providerRequests.ts';
import { acquireRateSlot, fetchProviderData } from '../../src/services/providerCache.ts';

const database = await createTestDatabase();
const { db, close } = createDb(database.url);
await migrateToLatest(db, silentLogger);
const tmdbFake = await startFakeTmdb();
const fanartFake = await startFakeFanart();
t.teardown(async () => {
  await tmdbFake.close();
  await fanartFake.close();
  await close();
  await database.drop();
});
const lib = await db
  .insertInto('libraries')
  .values({ name: 'm', type: 'movie', path: '/m' })
  .returning('id')
  .executeTakeFirstOrThrow();
let n = 0;
async function movie(v: { tmdb_id?: number; imdb_id?: string }) {
  const r = await db
    .insertInto('movies')
    .values({ library_id: lib.id, path: `/m/${++n}`, ...v })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}
const sleeps: number[] = [];
const deps = () => ({
  db,
  log: silentLogger,
  tmdb: createTmdbClient({ baseUrl: tmdbFake.apiUrl, apiKey: 'tmdb-test-key' }),
  fanart: createFanartClient({
    baseUrl: fanartFake.apiUrl,
    apiKey: 'fanart-test-key',
    clientKey: 'personal',
  }),
  sleep: async (ms: number) => {
    sleeps.push(ms);
  },
});
const opts = { language: 'en', ttlSeconds: 3600, tmdbRateLimit: 40, tmdbImageBaseUrl: tmdbFake.imageUrl };

t.test('one TMDB and one fanart.tv call cold, none warm; request shapes as the APIs document', async (t) => {
  const id = await movie({ tmdb_id: 603 });
  const before = tmdbFake.calls.length;
  const cold = await fetchProviderData(deps(), id, opts);
  t.same(cold.requests, { tmdb: 1, fanart: 1 });
  t.ok(cold.candidates > 10);
  const call = tmdbFake.calls[before];
  t.equal(call?.path, '/movie/603');
  t.same(call?.query, {
    api_key: 'tmdb-test-key',
    language: 'en',
    append_to_response: 'credits,images,videos,release_dates,external_ids',
    include_image_language: 'en,null',
  });
  t.same(fanartFake.calls.at(-1), {
    path: '/movies/603',
    query: { api_key: 'fanart-test-key', client_key: 'personal' },
  });
  const warm = await fetchProviderData(deps(), id, opts);
  t.same(warm.requests, { tmdb: 0, fanart: 0 });
  t.equal(warm.cacheHits, 2);
  // Another movie row for the same TMDB id (another worker, another library) reuses the cache too.
  const other = await fetchProviderData(deps(), await movie({ tmdb_id: 603 }), opts);
  t.same(other.requests, { tmdb: 0, fanart: 0 });
  // Expired: fetched again.
  await db
    .updateTable('provider_cache')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .execute();
  const expired = await fetchProviderData(deps(), id, opts);
  t.same(expired.requests, { tmdb: 1, fanart: 1 });
});

t.test('a movie known only by IMDb id is found with /find and remembered', async (t) => {
  const id = await movie({ imdb_id: 'tt0133093' });
  const r = await fetchProviderData(deps(), id, opts);
  t.equal(r.tmdbId, 603);
  const find = tmdbFake.calls.find((c) => c.path === '/find/tt0133093');
  t.same(find?.query, { api_key: 'tmdb-test-key', external_source: 'imdb_id' });
  const row = await db.selectFrom('movies').select('tmdb_id').where('id', '=', id).executeTakeFirstOrThrow();
  t.equal(row.tmdb_id, 603);
  const unknown = await fetchProviderData(deps(), await movie({ imdb_id: 'tt9999999' }), opts);
  t.match(unknown.skipped, /no TMDB id/);
});

t.test('a read access token goes in the Authorization header, not the query', async (t) => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.sig';
  const fake = await startFakeTmdb({ apiKey: token });
  t.teardown(() => fake.close());
  await createTmdbClient({ baseUrl: fake.apiUrl, apiKey: token }).movie(603, { language: 'en' });
  t.equal(fake.calls[0]?.authorization, `Bearer ${token}`);
  t.notOk('api_key' in (fake.calls[0]?.query ?? {}));
});

t.test('5xx is retried in the job with jittered backoff; then it succeeds', async (t) => {
  sleeps.length = 0;
  tmdbFake.failNext(2, 503);
  const r = await fetchProviderData(deps(), await movie({ tmdb_id: 1001 }), opts);
  t.equal(r.requests.tmdb, 3);
  t.equal(sleeps.length, 2, 'two backoff sleeps');
  t.ok(sleeps.every((ms) => ms >= 0 && ms <= 2000));
  tmdbFake.failNext(5, 500);
  const e = await fetchProviderData(deps(), await movie({ tmdb_id: 1002 }), opts).catch((err) => err);
  t.ok(e instanceof AppError);
  t.match(e, { code: 'PROVIDER_SERVER_ERROR', retryable: true });
  tmdbFake.failNext(0, 500);
});

t.test('429 is reported with Retry-After and is not retried in the job', async (t) => {
  tmdbFake.rateLimitNext(1, 7);
  const before = tmdbFake.calls.length;
  const e = await fetchProviderData(deps(), await movie({ tmdb_id: 1003 }), opts).catch((err) => err);
  t.match(e, {
    code: 'PROVIDER_RATE_LIMITED',
    retryable: true,
    details: { retryAfterMs: 7000, provider: 'tmdb' },
  });
  t.equal(tmdbFake.calls.length - before, 1);
});

t.test('malformed JSON is a permanent failure', async (t) => {
  tmdbFake.malformed.add(1004);
  const e = await fetchProviderData(deps(), await movie({ tmdb_id: 1004 }), opts).catch((err) => err);
  t.match(e, { code: 'PROVIDER_BAD_RESPONSE', retryable: false });
  t.notMatch(e.message, /tmdb-test-key/, 'the key is not in the message');
});

t.test('a wrong key is permanent and names no key', async (t) => {
  const client = createTmdbClient({ baseUrl: tmdbFake.apiUrl, apiKey: 'wrong-key' });
  const e = (await client.movie(603, { language: 'en' }).catch((err: unknown) => err)) as AppError;
  t.match(e, { code: 'PROVIDER_AUTH', retryable: false });
  t.notMatch(e.message, /wrong-key/);
});

t.test('the caller signal aborts a request', async (t) => {
  tmdbFake.setMode('hang');
  t.teardown(() => tmdbFake.setMode('ok'));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const started = Date.now();
  const e = await createTmdbClient({ baseUrl: tmdbFake.apiUrl, apiKey: 'tmdb-test-key' })
    .movie(603, { language: 'en', signal: ac.signal })
    .catch((err) => err);
  t.match(e, { code: 'PROVIDER_ABORTED' });
  t.ok(Date.now() - started < 2000);
});

t.test('each request and cache hit is counted per provider and status, failed fetches too', async (t) => {
  const counts = async () =>
    new Map((await providerRequestCounts(db)).map((r) => [`${r.provider} ${r.status}`, r.n]));
  const before = await counts();
  const delta = async () => {
    const now = await counts();
    const out: Record<string, number> = {};
    for (const [k, n] of now) if (n !== (before.get(k) ?? 0)) out[k] = n - (before.get(k) ?? 0);
    return out;
  };
  const cold = await movie({ tmdb_id: 2001 });
  await fetchProviderData(deps(), cold, opts);
  await fetchProviderData(deps(), cold, opts);
  t.same(await delta(), { 'fanart 2xx': 1, 'fanart cache_hit': 1, 'tmdb 2xx': 1, 'tmdb cache_hit': 1 });

  tmdbFake.failNext(1, 503);
  await fetchProviderData(deps(), await movie({ tmdb_id: 2002 }), opts);
  tmdbFake.rateLimitNext(1, 1);
  const rateLimited = await movie({ tmdb_id: 2003 });
  const limited = await fetchProviderData(deps(), rateLimited, opts).catch((e) => e);
  t.match(limited, { code: 'PROVIDER_RATE_LIMITED' }, 'the fetch failed…');
  t.same(
    await delta(),
    {
      // fanart.tv is asked alongside TMDB, so the rate-limited movie's answer came too (and is cached).
      'fanart 2xx': 3,
      'fanart cache_hit': 1,
      'tmdb 2xx': 2,
      'tmdb 429': 1,
      'tmdb 503': 1,
      'tmdb cache_hit': 1,
    },
    '…and its 429 is counted, as is the 503 that was retried',
  );
  const fanartCalls = fanartFake.calls.length;
  await fetchProviderData(deps(), rateLimited, opts);
  t.equal(fanartFake.calls.length, fanartCalls, 'its retry takes the fanart.tv answer from the cache');

  tmdbFake.synthesize = false;
  t.teardown(() => {
    tmdbFake.synthesize = true;
  });
  await fetchProviderData(deps(), await movie({ tmdb_id: 2004 }), opts).catch(() => null);
  tmdbFake.faultNext(1, 'reset');
  await fetchProviderData(deps(), await movie({ tmdb_id: 2005 }), { ...opts, transientAttempts: 1 }).catch(
    () => null,
  );
  const last = await delta();
  t.equal(last['tmdb 404'], 1, 'a 404 is counted as 404');
  t.equal(last['tmdb error'], 1, 'a reset (no answer) is counted as error');
});

t.test('the shared rate limit spreads requests over per-second windows', async (t) => {
  const waits: number[] = [];
  const d = {
    db,
    sleep: async (ms: number) => {
      waits.push(ms);
      await new Promise((r) => setTimeout(r, ms));
    },
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, () => acquireRateSlot(d, 'test-limit', 2)));
  t.ok(waits.length >= 4, 'requests over the limit waited');
  t.ok(Date.now() - started >= 900, 'six slots at 2/s span more than one window');
});
