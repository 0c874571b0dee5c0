import t from 'tap';
import { handleFetchProviderAssets } from '../../src/handlers/fetchProviderAssets.ts';
import { addMovie, followUpsOf, startProviderHarness } from '../support/handlerFixtures-b.ts';

// fetch-provider-assets alone, against the fake TMDB and fanart.tv over real HTTP.
const { db, deps, ctxFor, depsWith, tmdb, fanart } = await startProviderHarness(t);

const candidateCount = async (movieId: number) =>
  (
    await db
      .selectFrom('movie_asset_candidates')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('movie_id', '=', movieId)
      .executeTakeFirstOrThrow()
  ).n;

/** Each test uses its own TMDB id, so no test is answered from another's cache. */
let nextTmdbId = 7000;

t.test('records the candidates of both providers and creates one enrich-metadata', async (t) => {
  const tmdbId = nextTmdbId++;
  const movie = await addMovie(t, db, { fields: { tmdb_id: tmdbId } });
  const before = { tmdb: tmdb.calls.length, fanart: fanart.calls.length };
  const ctx = ctxFor('fetch-provider-assets', { movieId: movie.id });
  const out = await handleFetchProviderAssets(ctx, deps);

  t.equal(tmdb.calls.length - before.tmdb, 1, 'one TMDB request');
  t.equal(fanart.calls.length - before.fanart, 1, 'one fanart.tv request');
  t.match(tmdb.calls.at(-1), { path: `/movie/${tmdbId}`, query: { language: 'en' } });
  const stored = await candidateCount(movie.id);
  t.ok(stored > 0, 'candidates recorded');
  const [next, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, [], 'exactly one follow-up');
  t.match(next, {
    name: 'enrich-metadata',
    payload: { movieId: movie.id },
    parentId: ctx.id,
    priority: 5,
  });
  t.match(out, {
    movieId: movie.id,
    tmdbId,
    requests: { tmdb: 1, fanart: 1 },
    cacheHits: 0,
    candidates: stored,
    nextJobId: next?.id,
  });
});

t.test('without a fanart.tv key only TMDB is asked', async (t) => {
  const tmdbId = nextTmdbId++;
  const movie = await addMovie(t, db, { fields: { tmdb_id: tmdbId } });
  const before = fanart.calls.length;
  const ctx = ctxFor('fetch-provider-assets', { movieId: movie.id }, 9);
  const out = await handleFetchProviderAssets(ctx, depsWith({ FANART_API_KEY: undefined }));
  t.equal(fanart.calls.length, before, 'no fanart.tv request');
  t.match(out, { requests: { tmdb: 1, fanart: 0 } });
  const providers = await db
    .selectFrom('movie_asset_candidates')
    .select('provider')
    .distinct()
    .where('movie_id', '=', movie.id)
    .execute();
  t.same(
    providers.map((p) => p.provider),
    ['tmdb'],
  );
  t.match(await followUpsOf(db, ctx.id), [{ name: 'enrich-metadata', priority: 9 }], 'bulk stays bulk');
});

t.test('a movie TMDB cannot identify is skipped with the reason: notify-players, no enrich', async (t) => {
  const movie = await addMovie(t, db, { fields: { tmdb_id: null, imdb_id: 'tt9999901' } });
  const ctx = ctxFor('fetch-provider-assets', { movieId: movie.id });
  const out = await handleFetchProviderAssets(ctx, deps);
  t.match(tmdb.calls.at(-1), { path: '/find/tt9999901', query: { external_source: 'imdb_id' } });
  const follow = await followUpsOf(db, ctx.id);
  t.same(
    follow.map((j) => j.name),
    ['notify-players'],
  );
  t.same(follow[0]?.payload, {
    libraryId: movie.libraryId,
    path: movie.folder,
    change: 'modified',
    movieId: movie.id,
  });
  t.match(out, { skipped: /no TMDB id/, tmdbId: null, notifyJobId: follow[0]?.id });
  t.notOk('nextJobId' in out);
});

t.test('a 429 blocks TMDB for Retry-After and defers the job to then, spending no retry', async (t) => {
  t.teardown(() => db.deleteFrom('provider_rate_limits').execute());
  const movie = await addMovie(t, db, { fields: { tmdb_id: nextTmdbId++ } });
  tmdb.rateLimitNext(1, 120);
  const ctx = ctxFor('fetch-provider-assets', { movieId: movie.id }, 6);
  const started = Date.now();
  const out = await handleFetchProviderAssets(ctx, deps);

  const block = await db
    .selectFrom('provider_rate_limits')
    .select('blocked_until')
    .where('provider', '=', 'tmdb')
    .executeTakeFirstOrThrow();
  const until = new Date(block.blocked_until as Date).getTime();
  t.ok(until >= started + 120_000 && until <= Date.now() + 120_000, 'TMDB blocked for Retry-After');
  const [again, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, [], 'no enrich-metadata');
  t.match(again, { name: 'fetch-provider-assets', payload: { movieId: movie.id }, priority: 6 });
  t.equal(again?.startAfter.getTime(), until, 'the same job again, starting when the block ends');
  t.same(out, {
    movieId: movie.id,
    deferred: { provider: 'tmdb', retryAfterMs: 120_000, jobId: again?.id },
  });
  t.equal(await candidateCount(movie.id), 0, 'nothing recorded');
});

t.test('a refused TMDB key (401) fails permanently with PROVIDER_AUTH', async (t) => {
  const movie = await addMovie(t, db, { fields: { tmdb_id: nextTmdbId++ } });
  const ctx = ctxFor('fetch-provider-assets', { movieId: movie.id });
  await t.rejects(handleFetchProviderAssets(ctx, depsWith({ TMDB_API_KEY: 'revoked-key' })), {
    code: 'PROVIDER_AUTH',
    retryable: false,
  });
  t.same(await followUpsOf(db, ctx.id), [], 'nothing follows');
  const blocked = await db
    .selectFrom('provider_rate_limits')
    .select('provider')
    .where('blocked_until', 'is not', null)
    .execute();
  t.same(blocked, [], 'no provider blocked');
  t.equal(await candidateCount(movie.id), 0);
});

t.test('no TMDB key fails permanently (TMDB_KEY_MISSING) without asking anyone', async (t) => {
  const movie = await addMovie(t, db, { fields: { tmdb_id: nextTmdbId++ } });
  const before = { tmdb: tmdb.calls.length, fanart: fanart.calls.length };
  const ctx = ctxFor('fetch-provider-assets', { movieId: movie.id });
  await t.rejects(handleFetchProviderAssets(ctx, depsWith({ TMDB_API_KEY: undefined })), {
    code: 'TMDB_KEY_MISSING',
    retryable: false,
  });
  t.same({ tmdb: tmdb.calls.length, fanart: fanart.calls.length }, before);
  t.same(await followUpsOf(db, ctx.id), []);
});

t.test('a movie that no longer exists, or one TMDB does not know, fails permanently', async (t) => {
  const gone = ctxFor('fetch-provider-assets', { movieId: 999_999 });
  await t.rejects(handleFetchProviderAssets(gone, deps), { code: 'MOVIE_NOT_FOUND', retryable: false });
  t.same(await followUpsOf(db, gone.id), []);

  tmdb.synthesize = false;
  t.teardown(() => {
    tmdb.synthesize = true;
  });
  const movie = await addMovie(t, db, { fields: { tmdb_id: nextTmdbId++ } });
  const unknown = ctxFor('fetch-provider-assets', { movieId: movie.id });
  await t.rejects(handleFetchProviderAssets(unknown, deps), {
    code: 'TMDB_MOVIE_NOT_FOUND',
    retryable: false,
  });
  t.same(await followUpsOf(db, unknown.id), []);
});
