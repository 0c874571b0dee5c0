import fs from 'node:fs/promises';
import t from 'tap';
import { handleDiscoverAssets } from '../../src/handlers/discoverAssets.ts';
import { addMovie, followUpsOf, startProviderHarness } from '../support/handlerFixtures-b.ts';

// discover-assets alone: what it stores about the folder, and where the chain goes next.
const { db, deps, ctxFor, depsWith } = await startProviderHarness(t);

const NFO = `<?xml version="1.0" encoding="UTF-8"?>
<movie>
  <title>The Matrix</title>
  <year>1999</year>
  <uniqueid type="tmdb">603</uniqueid>
  <uniqueid type="imdb">tt0133093</uniqueid>
</movie>`;

const discovery = async (movieId: number) =>
  db.selectFrom('movie_discovery').select('data').where('movie_id', '=', movieId).executeTakeFirst();

t.test('with a TMDB key: the folder inventory is stored and one fetch-provider-assets follows', async (t) => {
  const movie = await addMovie(t, db, {
    files: { 'M.mkv': 'video', 'M.nfo': NFO, 'poster.jpg': 'mine', 'M.en.srt': 'subs', 'M-trailer.mp4': 't' },
  });
  const ctx = ctxFor('discover-assets', { movieId: movie.id }, 4);
  const out = await handleDiscoverAssets(ctx, deps);

  const [next, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, [], 'exactly one follow-up');
  t.match(next, { name: 'fetch-provider-assets', payload: { movieId: movie.id }, parentId: ctx.id });
  t.equal(next?.priority, 5, "the catalog's priority (5), as the parent (4) is more urgent");
  t.match(out, {
    movieId: movie.id,
    videoFile: 'M.mkv',
    disc: null,
    nfo: { file: 'M.nfo', ok: true },
    artwork: 1,
    trailers: 1,
    subtitles: 1,
    userEdits: [],
    nextJobId: next?.id,
  });
  t.notOk('notifyJobId' in out, 'no notify-players on this path');

  t.match((await discovery(movie.id))?.data, {
    videoFile: 'M.mkv',
    artwork: [{ type: 'poster', file: 'poster.jpg' }],
  });
  const row = await db
    .selectFrom('movies')
    .select(['tmdb_id', 'imdb_id', 'title', 'year'])
    .where('id', '=', movie.id)
    .executeTakeFirstOrThrow();
  t.same(
    row,
    { tmdb_id: 603, imdb_id: 'tt0133093', title: 'The Matrix', year: 1999 },
    'ids the row lacked are filled from the NFO',
  );
});

t.test('without a TMDB key the folder goes straight to the players: one notify-players', async (t) => {
  const movie = await addMovie(t, db);
  const ctx = ctxFor('discover-assets', { movieId: movie.id }, 4);
  const out = await handleDiscoverAssets(ctx, depsWith({ TMDB_API_KEY: undefined }));

  const follow = await followUpsOf(db, ctx.id);
  t.same(
    follow.map((j) => j.name),
    ['notify-players'],
    'no fetch-provider-assets',
  );
  t.same(follow[0]?.payload, {
    libraryId: movie.libraryId,
    path: movie.folder,
    change: 'modified',
    movieId: movie.id,
  });
  t.equal(follow[0]?.priority, 4, "the parent's priority: less urgent than notify-players' 3");
  t.match(out, { movieId: movie.id, videoFile: 'M.mkv', notifyJobId: follow[0]?.id });
  t.notOk('nextJobId' in out);
  t.ok(await discovery(movie.id), 'the inventory is stored all the same');
});

t.test('a bulk discover keeps its follow-up at bulk priority', async (t) => {
  const movie = await addMovie(t, db);
  const ctx = ctxFor('discover-assets', { movieId: movie.id }, 9);
  await handleDiscoverAssets(ctx, deps);
  t.match(await followUpsOf(db, ctx.id), [{ name: 'fetch-provider-assets', priority: 9 }]);
});

t.test('a malformed NFO is reported and ignored; the chain goes on', async (t) => {
  const movie = await addMovie(t, db, { files: { 'M.mkv': 'video', 'M.nfo': '<movie><title>Broken' } });
  const ctx = ctxFor('discover-assets', { movieId: movie.id });
  const out = await handleDiscoverAssets(ctx, deps);
  t.match(out, { nfo: { file: 'M.nfo', ok: false, error: String } });
  const row = await db
    .selectFrom('movies')
    .select(['tmdb_id', 'title'])
    .where('id', '=', movie.id)
    .executeTakeFirstOrThrow();
  t.same(row, { tmdb_id: null, title: null }, 'nothing taken from it');
  t.match(await followUpsOf(db, ctx.id), [{ name: 'fetch-provider-assets' }]);
});

t.test('a movie that no longer exists fails permanently (MOVIE_NOT_FOUND), creating nothing', async (t) => {
  const ctx = ctxFor('discover-assets', { movieId: 999_999 });
  await t.rejects(handleDiscoverAssets(ctx, deps), { code: 'MOVIE_NOT_FOUND', retryable: false });
  t.same(await followUpsOf(db, ctx.id), []);
});

t.test('a folder that vanished fails permanently (MOVIE_FOLDER_MISSING), storing nothing', async (t) => {
  const movie = await addMovie(t, db);
  await fs.rm(movie.folder, { recursive: true });
  const ctx = ctxFor('discover-assets', { movieId: movie.id });
  await t.rejects(handleDiscoverAssets(ctx, deps), { code: 'MOVIE_FOLDER_MISSING', retryable: false });
  t.equal(await discovery(movie.id), undefined, 'no inventory row');
  t.same(await followUpsOf(db, ctx.id), []);
});
