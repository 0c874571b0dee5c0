import path from 'node:path';
import { silentLogger } from '@metarr/core';
import t from 'tap';
import { handleScanMovie } from '../../src/handlers/scanMovie.ts';
import { childJobs, depsWithEnv, insertLibrary } from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// scan-movie alone (the single-job handler; the bulk batch has scanBatch.test.ts): one folder on
// disk becomes a movie row, then either the metadata pipeline (with a TMDB key) or the players.
const { rt, db, deps, ctxFor } = await startHandlerHarness(t);
// The same database with a TMDB key in the environment.
const keyed = depsWithEnv({ TMDB_API_KEY: 'tmdb-test-key' })(db, silentLogger);

const movieRow = (id: number) =>
  db.selectFrom('movies').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

t.test(
  'a new folder from a webhook is recorded and, without a TMDB key, its players told it was created',
  async (t) => {
    const root = t.testdir({ 'Heat (1995)': { 'heat.mkv': 'v' } });
    const libraryId = await insertLibrary(db, { path: root });
    const folder = path.join(root, 'Heat (1995)');
    const ctx = ctxFor(
      'scan-movie',
      { libraryId, path: folder, trigger: 'webhook', tmdbId: 949, title: 'Heat', year: 1995 },
      2,
    );

    const out = await handleScanMovie(ctx, deps);

    const [notify, ...more] = await childJobs(db, ctx.id, 'notify-players');
    t.same(more, [], 'one notification');
    const movieId = (out as { movieId: number }).movieId;
    t.same(out, { movieId, status: 'created', videoFile: 'heat.mkv', notifyJobId: notify?.id });
    t.match(await movieRow(movieId), {
      library_id: libraryId,
      path: folder,
      status: 'present',
      video_file: 'heat.mkv',
      tmdb_id: 949,
      title: 'Heat',
      year: 1995,
    });
    t.same(notify?.payload, { libraryId, path: folder, change: 'created', movieId });
    t.equal(notify?.parentId, ctx.id);
    t.equal(notify?.priority, 3);
    t.same(await childJobs(db, ctx.id, 'discover-assets'), [], 'no metadata pipeline without a key');
  },
);

t.test('a known folder scanned again is a modification for the players', async (t) => {
  const root = t.testdir({ 'Ronin (1998)': { 'ronin.mkv': 'v' } });
  const libraryId = await insertLibrary(db, { path: root });
  const folder = path.join(root, 'Ronin (1998)');
  const payload = { libraryId, path: folder, trigger: 'manual' as const };
  const first = await handleScanMovie(ctxFor('scan-movie', payload, 2), deps);
  const ctx = ctxFor('scan-movie', payload, 2);

  const out = await handleScanMovie(ctx, deps);

  const notifies = await childJobs(db, ctx.id, 'notify-players');
  t.match(out, { movieId: (first as { movieId: number }).movieId, status: 'updated' });
  t.same(
    notifies.map((j) => j.payload),
    [{ libraryId, path: folder, change: 'modified', movieId: (first as { movieId: number }).movieId }],
  );
});

t.test(
  'with a TMDB key a scanned folder goes to discover-assets, at the scan’s bulk priority if any',
  async (t) => {
    const root = t.testdir({ 'Alien (1979)': { 'alien.mkv': 'v' }, 'Aliens (1986)': { 'aliens.mkv': 'v' } });
    const libraryId = await insertLibrary(db, { path: root });
    const webhook = ctxFor(
      'scan-movie',
      { libraryId, path: path.join(root, 'Alien (1979)'), trigger: 'webhook' },
      2,
    );
    const bulk = ctxFor(
      'scan-movie',
      { libraryId, path: path.join(root, 'Aliens (1986)'), trigger: 'library-scan' },
      8,
    );

    const outs = [await handleScanMovie(webhook, keyed), await handleScanMovie(bulk, keyed)];

    for (const [i, ctx] of [webhook, bulk].entries()) {
      const movieId = (outs[i] as { movieId: number }).movieId;
      const [discover, ...more] = await childJobs(db, ctx.id, 'discover-assets');
      t.same(more, []);
      t.same(outs[i], {
        movieId,
        status: 'created',
        videoFile: i ? 'aliens.mkv' : 'alien.mkv',
        discoverJobId: discover?.id,
      });
      t.same(discover?.payload, { movieId });
      t.equal(discover?.priority, i ? 8 : 4, 'discover priority');
      t.same(await childJobs(db, ctx.id, 'notify-players'), [], 'the players wait for publish');
    }
  },
);

t.test('a library scan’s folders fold into one library-root notification', async (t) => {
  const root = t.testdir({
    'A (2001)': { 'a.mkv': 'v' },
    'B (2002)': { 'b.mkv': 'v' },
    'C (2003)': { 'c.mkv': 'v' },
    'D (2004)': { 'd.mkv': 'v' },
  });
  const libraryId = await insertLibrary(db, { path: root });
  const scan = (name: string) =>
    ctxFor('scan-movie', { libraryId, path: path.join(root, name), trigger: 'library-scan' }, 8);
  const a = scan('A (2001)');
  const b = scan('B (2002)');

  const outA = await handleScanMovie(a, deps);
  const outB = await handleScanMovie(b, deps);

  const [root1, ...more] = await childJobs(db, a.id, 'notify-players');
  t.same(more, []);
  t.same(root1?.payload, { libraryId, path: root, change: 'modified' }, 'the library root');
  t.equal(root1?.priority, 8, 'at bulk priority');
  t.equal(root1?.singletonKey, `library-scan:${libraryId}`);
  t.match(outA, { status: 'created', notifyJobId: root1?.id, notified: 'library root' });
  t.match(outB, { status: 'created', notifyJobId: null, notified: 'library root' }, 'folded into it');
  t.same(await childJobs(db, b.id, 'notify-players'), []);

  // Once that notification runs, a folder scanned meanwhile queues exactly one more (in the next
  // window, or this one when it just turned; either way one).
  await rt.boss.fetch('notify-players', { batchSize: 1000 });
  t.equal((await childJobs(db, a.id, 'notify-players'))[0]?.state, 'active');
  const c = scan('C (2003)');
  const d = scan('D (2004)');
  const outC = await handleScanMovie(c, deps);
  const outD = await handleScanMovie(d, deps);
  const [root2, ...more2] = await childJobs(db, c.id, 'notify-players');
  t.same(more2, []);
  t.same(root2?.payload, { libraryId, path: root, change: 'modified' });
  t.match(outC, { notifyJobId: root2?.id });
  t.match(outD, { notifyJobId: null }, 'folded into the waiting one');
  t.same(await childJobs(db, d.id, 'notify-players'), []);
});

t.test('a movie Radarr moved to a new folder is scanned there and its old folder told gone', async (t) => {
  const root = t.testdir({ 'Heat (1995) {tmdb-949}': { 'heat.mkv': 'v' } });
  const libraryId = await insertLibrary(db, { path: root });
  const oldFolder = path.join(root, 'Heat');
  const newFolder = path.join(root, 'Heat (1995) {tmdb-949}');
  const { id: movieId } = await db
    .insertInto('movies')
    .values({ library_id: libraryId, path: oldFolder, status: 'present', radarr_id: 7, tmdb_id: 949 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const ctx = ctxFor('scan-movie', { libraryId, path: newFolder, trigger: 'webhook', radarrId: 7 }, 2);

  const out = await handleScanMovie(ctx, deps);

  const notes = await childJobs(db, ctx.id, 'notify-players');
  const byChange = new Map(notes.map((j) => [j.payload['change'], j]));
  t.match(out, {
    movieId,
    status: 'moved',
    previousPath: oldFolder,
    notifyJobId: byChange.get('modified')?.id,
    oldFolderNotifyJobId: byChange.get('deleted')?.id,
  });
  t.same(
    notes.map((j) => j.payload).sort((a, b) => String(a['change']).localeCompare(String(b['change']))),
    [
      { libraryId, path: oldFolder, change: 'deleted', movieId },
      { libraryId, path: newFolder, change: 'modified', movieId },
    ],
    'the new folder is scanned by the players and the old one cleaned',
  );
  t.equal((await movieRow(movieId)).path, newFolder);
});

t.test('a folder that is gone is skipped, its movie marked missing, nothing queued', async (t) => {
  const root = t.testdir({});
  const libraryId = await insertLibrary(db, { path: root });
  const folder = path.join(root, 'Gone (2000)');
  const movie = await db
    .insertInto('movies')
    .values({ library_id: libraryId, path: folder, status: 'present', video_file: 'g.mkv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const ctx = ctxFor('scan-movie', { libraryId, path: folder, trigger: 'webhook' }, 2);

  const out = await handleScanMovie(ctx, keyed);

  t.same(out, { movieId: movie.id, status: 'missing', videoFile: null, skipped: `${folder} does not exist` });
  t.equal((await movieRow(movie.id)).status, 'missing');
  t.same(await childJobs(db, ctx.id, 'notify-players'), []);
  t.same(await childJobs(db, ctx.id, 'discover-assets'), []);
});

t.test('a library that no longer exists fails permanently', async (t) => {
  await t.rejects(
    handleScanMovie(
      ctxFor('scan-movie', { libraryId: 999_999, path: '/x/A (2001)', trigger: 'webhook' }),
      deps,
    ),
    { code: 'LIBRARY_NOT_FOUND', retryable: false },
  );
});
