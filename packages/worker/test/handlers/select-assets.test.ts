import { discoverMovieAssets, silentLogger } from '@metarr/core';
import t from 'tap';
import { handleSelectAssets } from '../../src/handlers/selectAssets.ts';
import {
  addCandidates,
  addMovie,
  type CandidateSpec,
  followUpsOf,
  startProviderHarness,
  type TestT,
} from '../support/handlerFixtures-b.ts';

// select-assets alone: which candidates it marks, and the publish that follows.
// Metadata in German, so the configured language is visibly the one preferred.
const { db, deps, ctxFor, tmdb } = await startProviderHarness(t, { METARR_METADATA_LANGUAGE: 'de' });

const ARTWORK: CandidateSpec[] = [
  { type: 'poster', file: 'p-en-1000x1500.jpg', language: 'en', votes: 50 },
  { type: 'poster', file: 'p-de-1000x1500.jpg', language: 'de', votes: 5 },
  { type: 'fanart', file: 'f-a-1920x1080.jpg', language: null, votes: 50 },
  { type: 'fanart', file: 'f-b-1920x1080.jpg', language: null, votes: 40 },
  { type: 'clearlogo', file: 'l-800x310.png', language: 'en' },
];

/** A discovered movie folder (`files`) with the ARTWORK candidates. */
async function movieWithCandidates(t: TestT, files: Record<string, string> = {}) {
  const movie = await addMovie(t, db, { files: { 'M.mkv': 'video', ...files }, fields: { tmdb_id: 603 } });
  await discoverMovieAssets({ db, log: silentLogger }, movie.id);
  await addCandidates(db, movie.id, tmdb.imageUrl, ARTWORK);
  return movie;
}

const chosen = async (movieId: number) =>
  (
    await db
      .selectFrom('movie_asset_candidates')
      .select(['type', 'url', 'rank'])
      .where('movie_id', '=', movieId)
      .where('selected', '=', true)
      .orderBy('type')
      .orderBy('rank')
      .execute()
  ).map((c) => `${c.type} ${c.url.slice(c.url.lastIndexOf('/') + 1)} #${c.rank}`);

t.test('marks the best candidate per type (configured language first); one publish follows', async (t) => {
  const movie = await movieWithCandidates(t);
  const ctx = ctxFor('select-assets', { movieId: movie.id });
  const out = await handleSelectAssets(ctx, deps);

  t.same(await chosen(movie.id), [
    'clearlogo l-800x310.png #0',
    'fanart f-a-1920x1080.jpg #0',
    'fanart f-b-1920x1080.jpg #1',
    'poster p-de-1000x1500.jpg #0',
  ]);
  const ranked = await db
    .selectFrom('movie_asset_candidates')
    .select(['rank', 'score'])
    .where('movie_id', '=', movie.id)
    .execute();
  t.ok(
    ranked.every((c) => c.rank !== null && c.score !== null),
    'every candidate gets a rank and a score',
  );
  const [next, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, [], 'exactly one follow-up');
  t.match(next, { name: 'publish', payload: { movieId: movie.id }, parentId: ctx.id });
  t.equal(next?.priority, 5, "the parent's priority (5): less urgent than publish's own 4");
  t.same(out, {
    movieId: movie.id,
    selected: { poster: 1, fanart: 2, clearlogo: 1 },
    keptLocal: [],
    locked: [],
    nextJobId: next?.id,
  });
});

t.test("the user's own artwork keeps its type: no download selected for it", async (t) => {
  const movie = await movieWithCandidates(t, { 'poster.jpg': 'my own poster' });
  const ctx = ctxFor('select-assets', { movieId: movie.id });
  const out = await handleSelectAssets(ctx, deps);
  t.match(out, { keptLocal: ['poster'], selected: { poster: 0 } });
  t.notOk(
    (await chosen(movie.id)).some((c) => c.startsWith('poster')),
    'no poster selected',
  );
  t.match(await followUpsOf(db, ctx.id), [{ name: 'publish' }]);
});

t.test('a locked artwork type gets nothing selected', async (t) => {
  const movie = await movieWithCandidates(t);
  await db.insertInto('movie_field_locks').values({ movie_id: movie.id, field: 'clearlogo' }).execute();
  const ctx = ctxFor('select-assets', { movieId: movie.id }, 1);
  const out = await handleSelectAssets(ctx, deps);
  t.match(out, { locked: ['clearlogo'], selected: { clearlogo: 0, poster: 1 } });
  t.notOk((await chosen(movie.id)).some((c) => c.startsWith('clearlogo')));
  t.match(await followUpsOf(db, ctx.id), [{ name: 'publish', priority: 4 }], "publish's own priority");
});

t.test('a locked fanart keeps its published image at rank 0, not again among the extrafanart', async (t) => {
  const movie = await movieWithCandidates(t);
  const mine = `${tmdb.imageUrl}/original/f-b-1920x1080.jpg`;
  t.ok(
    await db
      .selectFrom('movie_asset_candidates')
      .select('id')
      .where('movie_id', '=', movie.id)
      .where('url', '=', mine)
      .executeTakeFirst(),
    'the user chose the lower-scored backdrop',
  );
  await db.insertInto('movie_field_locks').values({ movie_id: movie.id, field: 'fanart' }).execute();
  await db
    .insertInto('movie_published_files')
    .values({ movie_id: movie.id, file: 'fanart.jpg', kind: 'fanart', content_hash: 'h', source_url: mine })
    .execute();

  await handleSelectAssets(ctxFor('select-assets', { movieId: movie.id }), deps);

  const fanart = await db
    .selectFrom('movie_asset_candidates')
    .select(['url', 'rank', 'selected'])
    .where('movie_id', '=', movie.id)
    .where('type', '=', 'fanart')
    .orderBy('rank')
    .execute();
  t.same(
    fanart.map((c) => [c.url.slice(c.url.lastIndexOf('/') + 1), c.rank, c.selected]),
    [
      ['f-b-1920x1080.jpg', 0, false],
      ['f-a-1920x1080.jpg', 1, true],
    ],
    'the chosen image holds rank 0 (kept, not downloaded); the other one is an extrafanart',
  );
});

t.test('a movie without candidates selects nothing and still goes on to publish', async (t) => {
  const movie = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  const ctx = ctxFor('select-assets', { movieId: movie.id });
  const out = await handleSelectAssets(ctx, deps);
  t.match(out, { selected: {}, keptLocal: [], locked: [] });
  t.match(await followUpsOf(db, ctx.id), [{ name: 'publish', payload: { movieId: movie.id } }]);
});

t.test('a movie that no longer exists fails permanently (MOVIE_NOT_FOUND), creating nothing', async (t) => {
  const ctx = ctxFor('select-assets', { movieId: 999_999 });
  await t.rejects(handleSelectAssets(ctx, deps), { code: 'MOVIE_NOT_FOUND', retryable: false });
  t.same(await followUpsOf(db, ctx.id), []);
});
