import fs from 'node:fs/promises';
import path from 'node:path';
import { discoverMovieAssets, selectMovieAssets, silentLogger } from '@metarr/core';
import t from 'tap';
import { handlePublish } from '../../src/handlers/publish.ts';
import {
  addCandidates,
  addMovie,
  type CandidateSpec,
  followUpsOf,
  startProviderHarness,
  storeMatrixMetadata,
  type TestT,
} from '../support/handlerFixtures-b.ts';

// publish alone: the files it writes into the movie folder, what it records, and the notify-players
// that follows. Artwork comes from the fake TMDB image host over real HTTP.
const { db, deps, ctxFor, depsWith, tmdb } = await startProviderHarness(t);

const ARTWORK: CandidateSpec[] = [
  { type: 'poster', file: 'p-a-1000x1500.jpg', votes: 50 },
  { type: 'poster', file: 'p-b-1000x1500.jpg', votes: 5 },
  { type: 'clearlogo', file: 'l-800x310.png' },
];

/** A movie as select-assets leaves it: discovered, enriched, its candidates ranked and selected. */
async function readyToPublish(t: TestT, artwork = ARTWORK) {
  const movie = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  await discoverMovieAssets({ db, log: silentLogger }, movie.id);
  await storeMatrixMetadata(db, movie.id, tmdb.imageUrl);
  await addCandidates(db, movie.id, tmdb.imageUrl, artwork);
  await selectMovieAssets({ db, log: silentLogger }, movie.id, { language: 'en' });
  return movie;
}

const publishedFiles = async (movieId: number) =>
  (
    await db
      .selectFrom('movie_published_files')
      .select(['file', 'kind', 'source_url', 'pending_hash'])
      .where('movie_id', '=', movieId)
      .orderBy('file')
      .execute()
  ).map((r) => ({ ...r, source_url: r.source_url?.slice(r.source_url.lastIndexOf('/') + 1) ?? null }));

t.test('writes the NFO and the artwork, records them, and creates one notify-players', async (t) => {
  const movie = await readyToPublish(t);
  const ctx = ctxFor('publish', { movieId: movie.id }, 4);
  const out = await handlePublish(ctx, deps);

  t.same((await fs.readdir(movie.folder)).sort(), ['M-clearlogo.png', 'M-poster.jpg', 'M.mkv', 'M.nfo']);
  const nfo = await fs.readFile(path.join(movie.folder, 'M.nfo'), 'utf8');
  t.match(nfo, '<title>The Matrix</title>');
  t.match(nfo, `${tmdb.imageUrl}/original/p-a-1000x1500.jpg`, 'the NFO names the poster it came from');
  t.same(await publishedFiles(movie.id), [
    { file: 'M-clearlogo.png', kind: 'clearlogo', source_url: 'l-800x310.png', pending_hash: null },
    { file: 'M-poster.jpg', kind: 'poster', source_url: 'p-a-1000x1500.jpg', pending_hash: null },
    { file: 'M.nfo', kind: 'nfo', source_url: null, pending_hash: null },
  ]);
  const [notify, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, [], 'exactly one follow-up');
  t.match(notify, { name: 'notify-players', parentId: ctx.id, priority: 4 });
  t.same(notify?.payload, {
    libraryId: movie.libraryId,
    path: movie.folder,
    change: 'modified',
    movieId: movie.id,
    // Files were written: players that hold the movie refresh it rather than rescan the folder.
    refresh: true,
  });
  t.same(out, {
    movieId: movie.id,
    written: ['M-clearlogo.png', 'M-poster.jpg', 'M.nfo'],
    unchanged: [],
    removed: [],
    skipped: [],
    notifyJobId: notify?.id,
  });
});

t.test('publishing again changes no file, and still tells the players', async (t) => {
  const movie = await readyToPublish(t);
  await handlePublish(ctxFor('publish', { movieId: movie.id }), deps);
  const mtimes = async () =>
    Promise.all(
      ['M-poster.jpg', 'M.nfo'].map(async (f) => (await fs.stat(path.join(movie.folder, f))).mtimeMs),
    );
  const before = await mtimes();
  const imageCalls = tmdb.imageCalls.length;

  const ctx = ctxFor('publish', { movieId: movie.id });
  const out = await handlePublish(ctx, deps);
  t.match(out, { written: [], removed: [] });
  t.same([...(out.unchanged as string[])].sort(), ['M-clearlogo.png', 'M-poster.jpg', 'M.nfo']);
  t.same(await mtimes(), before, 'files untouched');
  t.equal(tmdb.imageCalls.length, imageCalls, 'nothing downloaded again');
  const [notify, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, []);
  t.equal(notify?.name, 'notify-players');
  t.notOk(notify?.payload && 'refresh' in notify.payload, 'nothing changed: a plain scan, no refresh');
});

t.test('with METARR_WRITE_MOVIE_NFO the same NFO is also written as movie.nfo', async (t) => {
  const movie = await readyToPublish(t);
  const out = await handlePublish(
    ctxFor('publish', { movieId: movie.id }),
    depsWith({ METARR_WRITE_MOVIE_NFO: 'true' }),
  );
  t.ok((out.written as string[]).includes('movie.nfo'));
  t.equal(
    await fs.readFile(path.join(movie.folder, 'movie.nfo'), 'utf8'),
    await fs.readFile(path.join(movie.folder, 'M.nfo'), 'utf8'),
  );
});

t.test('a locked artwork type keeps the file published before; an unlocked one is replaced', async (t) => {
  const movie = await readyToPublish(t);
  await handlePublish(ctxFor('publish', { movieId: movie.id }), deps);
  const poster = await fs.readFile(path.join(movie.folder, 'M-poster.jpg'));
  // The providers now offer a better poster and a better logo; the poster type is locked.
  await addCandidates(db, movie.id, tmdb.imageUrl, [
    { type: 'poster', file: 'p-new-1000x1500.jpg', votes: 500 },
    { type: 'clearlogo', file: 'l-new-800x310.png', votes: 500 },
  ]);
  await db.insertInto('movie_field_locks').values({ movie_id: movie.id, field: 'poster' }).execute();
  await selectMovieAssets({ db, log: silentLogger }, movie.id, { language: 'en' });

  const out = await handlePublish(ctxFor('publish', { movieId: movie.id }), deps);
  t.same(await fs.readFile(path.join(movie.folder, 'M-poster.jpg')), poster, 'locked poster untouched');
  t.ok((out.unchanged as string[]).includes('M-poster.jpg'));
  t.same(out.removed, [], 'nothing removed');
  t.same(out.written, ['M-clearlogo.png'], 'the unlocked logo is replaced (the NFO names no logo)');
  t.match(await publishedFiles(movie.id), [
    { file: 'M-clearlogo.png', source_url: 'l-new-800x310.png' },
    { file: 'M-poster.jpg', source_url: 'p-a-1000x1500.jpg' },
    { file: 'M.nfo' },
  ]);
  const nfo = await fs.readFile(path.join(movie.folder, 'M.nfo'), 'utf8');
  t.match(nfo, 'p-a-1000x1500.jpg', 'the NFO still names the locked poster');
  t.notMatch(nfo, 'p-new-1000x1500.jpg');
});

t.test('an image from a host that is no provider is refused; the next candidate stands in', async (t) => {
  const movie = await readyToPublish(t, [
    { type: 'poster', file: 'p-a-1000x1500.jpg', votes: 50 },
    { type: 'poster', file: 'p-b-1000x1500.jpg', votes: 5 },
  ]);
  await db
    .updateTable('movie_asset_candidates')
    .set({ url: 'http://127.0.0.2:9/t/p/original/p-a-1000x1500.jpg' })
    .where('movie_id', '=', movie.id)
    .where('url', 'like', '%p-a-%')
    .execute();
  const out = await handlePublish(ctxFor('publish', { movieId: movie.id }), deps);
  t.match(out.skipped, [{ url: /127\.0\.0\.2/, reason: /not a configured provider image host/ }]);
  t.match(await publishedFiles(movie.id), [
    { file: 'M-poster.jpg', source_url: 'p-b-1000x1500.jpg' },
    { file: 'M.nfo' },
  ]);
});

t.test('a movie folder that vanished fails permanently before any download; nothing recorded', async (t) => {
  const movie = await readyToPublish(t);
  await fs.rm(movie.folder, { recursive: true });
  const ctx = ctxFor('publish', { movieId: movie.id });
  const imageCalls = tmdb.imageCalls.length;
  await t.rejects(handlePublish(ctx, deps), { code: 'MOVIE_FOLDER_MISSING', retryable: false });
  t.equal(tmdb.imageCalls.length, imageCalls, 'no artwork downloaded');
  t.same(await publishedFiles(movie.id), [], 'no write-ahead rows');
  t.same(await followUpsOf(db, ctx.id), []);
  t.same(await fs.readdir(movie.root), [], 'no folder re-created');
});

t.test(
  'a library root that is gone (share offline) fails retryably: a later attempt may find it',
  async (t) => {
    const movie = await readyToPublish(t);
    await fs.rm(movie.root, { recursive: true });
    const ctx = ctxFor('publish', { movieId: movie.id });
    await t.rejects(handlePublish(ctx, deps), { code: 'LIBRARY_ROOT_UNAVAILABLE', retryable: true });
    t.same(await followUpsOf(db, ctx.id), []);
  },
);

t.test('a movie not discovered, not enriched, or gone fails permanently, creating nothing', async (t) => {
  const undiscovered = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  await storeMatrixMetadata(db, undiscovered.id, tmdb.imageUrl);
  const unenriched = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  await discoverMovieAssets({ db, log: silentLogger }, unenriched.id);
  for (const [movieId, code] of [
    [undiscovered.id, 'DISCOVERY_MISSING'],
    [unenriched.id, 'METADATA_MISSING'],
    [999_999, 'MOVIE_NOT_FOUND'],
  ] as const) {
    const ctx = ctxFor('publish', { movieId });
    await t.rejects(handlePublish(ctx, deps), { code, retryable: false }, code);
    t.same(await followUpsOf(db, ctx.id), [], `${code}: no notify-players`);
  }
  t.same(await fs.readdir(undiscovered.folder), ['M.mkv'], 'nothing written');
});
