import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { handleLibraryScan } from '../../src/handlers/libraryScan.ts';
import { childJobs, insertLibrary } from '../support/handlerFixtures-a.ts';
import { captureLog, startHandlerHarness } from '../support/runtime.ts';

// library-scan alone: a library root on disk reconciled with the movies table, one scan-movie per
// folder worth scanning (read back, never run).
const { log, lines } = captureLog('info');
const { db, deps, ctxFor } = await startHandlerHarness(t, { log });

const folderRows = (libraryId: number) =>
  db
    .selectFrom('library_folders')
    .select('path')
    .where('library_id', '=', libraryId)
    .orderBy('path')
    .execute()
    .then((rows) => rows.map((r) => r.path));
const status = (id: number) =>
  db.selectFrom('movies').select(['status', 'path']).where('id', '=', id).executeTakeFirstOrThrow();
async function insertMovie(
  libraryId: number,
  p: string,
  extra: { status?: 'missing'; tmdb_id?: number } = {},
) {
  const row = await db
    .insertInto('movies')
    .values({ library_id: libraryId, path: p, status: 'present', ...extra })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

t.test('a first scan queues a scan-movie per folder at bulk priority and records what it saw', async (t) => {
  const root = t.testdir({
    'The Matrix (1999) {tmdb-603}': { 'm.mkv': 'v' },
    'Heat (1995)': { 'h.mkv': 'v' },
    'loose-file.mkv': 'not a folder',
  });
  const libraryId = await insertLibrary(db, { path: root });
  const ctx = ctxFor('library-scan', { libraryId }, 8);

  const out = await handleLibraryScan(ctx, deps);

  t.same(out, {
    folders: 2,
    scanJobs: 2,
    oldFolderNotifyJobs: 0,
    new: 2,
    changed: 0,
    returned: 0,
    moved: 0,
    missing: 0,
    unchanged: 0,
  });
  const scans = await childJobs(db, ctx.id, 'scan-movie');
  t.same(
    scans.map((j) => j.payload).sort((a, b) => String(a['path']).localeCompare(String(b['path']))),
    [
      { libraryId, path: path.join(root, 'Heat (1995)'), trigger: 'library-scan', title: 'Heat', year: 1995 },
      {
        libraryId,
        path: path.join(root, 'The Matrix (1999) {tmdb-603}'),
        trigger: 'library-scan',
        tmdbId: 603,
        title: 'The Matrix',
        year: 1999,
      },
    ],
  );
  t.same(
    scans.map((j) => [j.parentId, j.priority]),
    [
      [ctx.id, 8],
      [ctx.id, 8],
    ],
    'children of the scan, behind every webhook-driven job',
  );
  t.same(await folderRows(libraryId), [
    path.join(root, 'Heat (1995)'),
    path.join(root, 'The Matrix (1999) {tmdb-603}'),
  ]);
});

t.test('a rescan queues changed and returned folders only and marks vanished movies missing', async (t) => {
  const root = t.testdir({
    'Changed (2001)': { 'c.mkv': 'v' },
    'Same (2002)': { 's.mkv': 'v' },
    'Vanishing (2003)': { 'v.mkv': 'v' },
    'Back (2004)': { 'b.mkv': 'v' },
  });
  const libraryId = await insertLibrary(db, { path: root });
  await handleLibraryScan(ctxFor('library-scan', { libraryId }, 8), deps);
  const at = (name: string) => path.join(root, name);
  await insertMovie(libraryId, at('Changed (2001)'));
  await insertMovie(libraryId, at('Same (2002)'));
  const vanishing = await insertMovie(libraryId, at('Vanishing (2003)'));
  await insertMovie(libraryId, at('Back (2004)'), { status: 'missing' });
  await fs.writeFile(path.join(at('Changed (2001)'), 'c.srt'), 'subtitles');
  await fs.rm(at('Vanishing (2003)'), { recursive: true });
  const ctx = ctxFor('library-scan', { libraryId }, 8);

  const out = await handleLibraryScan(ctx, deps);

  t.same(out, {
    folders: 3,
    scanJobs: 2,
    oldFolderNotifyJobs: 1,
    new: 0,
    changed: 1,
    returned: 1,
    moved: 0,
    missing: 1,
    unchanged: 1,
  });
  t.same((await childJobs(db, ctx.id, 'scan-movie')).map((j) => j.payload['path']).sort(), [
    at('Back (2004)'),
    at('Changed (2001)'),
  ]);
  t.equal((await status(vanishing)).status, 'missing');
  t.same(
    (await childJobs(db, ctx.id, 'notify-players')).map((j) => [j.payload, j.priority]),
    [[{ libraryId, path: at('Vanishing (2003)'), change: 'deleted', movieId: vanishing }, 8]],
    'the players are told the vanished folder is gone, behind webhook-driven work',
  );
  t.same(
    await folderRows(libraryId),
    [at('Back (2004)'), at('Changed (2001)'), at('Same (2002)')],
    'the gone folder is forgotten',
  );
});

t.test('a folder moved by hand (same TMDB id in its name) keeps its movie and is rescanned', async (t) => {
  const root = t.testdir({ 'Alien (1979) {tmdb-348}': { 'a.mkv': 'v' } });
  const libraryId = await insertLibrary(db, { path: root });
  const movie = await insertMovie(libraryId, path.join(root, 'Alien'), { tmdb_id: 348 });
  const ctx = ctxFor('library-scan', { libraryId }, 8);

  const out = await handleLibraryScan(ctx, deps);

  t.match(out, { folders: 1, scanJobs: 1, oldFolderNotifyJobs: 1, moved: 1, missing: 0, new: 0 });
  t.same(
    (await childJobs(db, ctx.id, 'notify-players')).map((j) => j.payload),
    [{ libraryId, path: path.join(root, 'Alien'), change: 'deleted', movieId: movie }],
    'the old folder is told gone, so the players do not keep a second entry',
  );
  t.same(await status(movie), { status: 'present', path: path.join(root, 'Alien (1979) {tmdb-348}') });
  t.same(
    (await childJobs(db, ctx.id, 'scan-movie')).map((j) => j.payload),
    [{ libraryId, path: path.join(root, 'Alien (1979) {tmdb-348}'), trigger: 'library-scan', tmdbId: 348 }],
  );
});

t.test('a scheduled (priority 9) scan keeps its children at 9, behind a manual scan’s', async (t) => {
  const root = t.testdir({ 'Heat (1995)': { 'h.mkv': 'v' } });
  const libraryId = await insertLibrary(db, { path: root });
  const ctx = ctxFor('library-scan', { libraryId }, 9);

  await handleLibraryScan(ctx, deps);

  t.same(
    (await childJobs(db, ctx.id, 'scan-movie')).map((j) => j.priority),
    [9],
  );
});

t.test('an empty root over a library with movies is skipped: nothing is marked missing', async (t) => {
  const dir = t.testdir({ busy: {}, fresh: {} });
  const root = path.join(dir, 'busy');
  const libraryId = await insertLibrary(db, { path: root });
  const movie = await insertMovie(libraryId, path.join(root, 'Heat (1995)'));
  const ctx = ctxFor('library-scan', { libraryId }, 8);

  const out = await handleLibraryScan(ctx, deps);

  t.same(out, { skipped: `${root} is empty; movies were not marked missing (unmounted share?)` });
  t.equal((await status(movie)).status, 'present');
  t.same(await childJobs(db, ctx.id, 'scan-movie'), []);
  // A library whose movies are all missing already is simply empty.
  const fresh = await insertLibrary(db, { path: path.join(dir, 'fresh') });
  await insertMovie(fresh, path.join(dir, 'fresh', 'Old (1990)'), { status: 'missing' });
  t.match(await handleLibraryScan(ctxFor('library-scan', { libraryId: fresh }, 8), deps), {
    folders: 0,
    scanJobs: 0,
  });
});

t.test(
  'an unreadable root fails retryably; a gone library permanently; a music library is skipped',
  async (t) => {
    const unmounted = await insertLibrary(db, { path: path.join(t.testdir({}), 'not-there') });
    await t.rejects(handleLibraryScan(ctxFor('library-scan', { libraryId: unmounted }, 8), deps), {
      code: 'LIBRARY_ROOT_UNAVAILABLE',
      retryable: true,
    });
    await t.rejects(handleLibraryScan(ctxFor('library-scan', { libraryId: 999_999 }, 8), deps), {
      code: 'LIBRARY_NOT_FOUND',
      retryable: false,
    });
    const music = await insertLibrary(db, { path: t.testdir({ Artist: {} }), type: 'music' });
    const ctx = ctxFor('library-scan', { libraryId: music }, 8);
    t.same(await handleLibraryScan(ctx, deps), { skipped: 'music libraries are not scanned yet' });
    t.same(await childJobs(db, ctx.id, 'scan-movie'), []);
  },
);

t.test(
  'a TV library scan queues one scan-series per series folder, and one per vanished series',
  async (t) => {
    const root = t.testdir({
      'Severance (2022) {tvdb-371980}': { 'Season 01': { 'Severance - S01E01.mkv': 'v' } },
      'The Bear (2022)': {},
      'loose-file.mkv': 'not a folder',
    });
    const tv = await insertLibrary(db, { path: root, type: 'tv' });
    await db
      .insertInto('series')
      .values({ library_id: tv, path: path.join(root, 'Gone Show') })
      .execute();
    const ctx = ctxFor('library-scan', { libraryId: tv }, 8);
    t.same(await handleLibraryScan(ctx, deps), { folders: 2, scanJobs: 3, vanished: 1 });
    const scans = await childJobs(db, ctx.id, 'scan-series');
    t.same(
      scans.map((j) => j.payload['path']).sort(),
      ['Gone Show', 'Severance (2022) {tvdb-371980}', 'The Bear (2022)'].map((n) => path.join(root, n)),
    );
    t.ok(scans.every((j) => j.payload['trigger'] === 'library-scan' && j.priority === 8));
    t.same(await childJobs(db, ctx.id, 'scan-movie'), []);
  },
);

t.test('an empty TV library root over recorded series is skipped, nothing marked', async (t) => {
  const root = t.testdir({});
  const tv = await insertLibrary(db, { path: root, type: 'tv' });
  await db
    .insertInto('series')
    .values({ library_id: tv, path: path.join(root, 'Show') })
    .execute();
  const ctx = ctxFor('library-scan', { libraryId: tv }, 8);
  t.match(await handleLibraryScan(ctx, deps), { skipped: /is empty/ });
  t.same(await childJobs(db, ctx.id, 'scan-series'), []);
});

t.test('progress is reported about every 5 % of the folders, ending at 100', async (t) => {
  const tree: Record<string, Record<string, string>> = {};
  for (let i = 0; i < 40; i++) tree[`Movie ${i} (2000)`] = { 'm.mkv': 'v' };
  const libraryId = await insertLibrary(db, { path: t.testdir(tree) });
  const ctx = ctxFor('library-scan', { libraryId }, 8);
  await handleLibraryScan(ctx, deps);
  const progress = lines
    .filter((l) => l['msg'] === 'Job progress' && l['jobId'] === ctx.id)
    .map((l) => l['progress'] as number);
  t.ok(progress.length >= 10 && progress.length <= 22, `${progress.length} progress events for 40 folders`);
  t.same(
    progress,
    [...progress].sort((a, b) => a - b),
    'never backwards',
  );
  t.equal(progress.at(-1), 100);
  t.ok(
    progress.slice(0, -1).every((p) => p <= 80),
    'listing is 80 %',
  );
});
