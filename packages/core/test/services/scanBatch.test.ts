import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../src/log.ts';
import {
  type ScanBatchOutcome,
  type ScanInput,
  type ScanResult,
  scanMovieDirectories,
  scanMovieDirectory,
} from '../../src/services/scan.ts';
import { migratedTestDb } from '../support/db.ts';

// scanMovieDirectories (a bulk batch of a library scan's scan-movie jobs in one transaction) must
// leave exactly the rows that scanMovieDirectory leaves when each folder is scanned alone, in order.
const db = await migratedTestDb(t);

type TestT = Pick<typeof t, 'testdir' | 'equal' | 'same'>;
type Dir = NonNullable<Parameters<typeof t.testdir>[0]>;

const clock = () => new Date('2026-11-29T12:00:00Z');

async function library(root: string) {
  return db
    .insertInto('libraries')
    .values({ name: `lib-${root}`, type: 'movie', path: root })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The library's movie rows, paths relative to its root, without ids and timestamps. */
async function rowsOf(libraryId: number, root: string) {
  const rows = await db
    .selectFrom('movies')
    .select([
      'path',
      'title',
      'year',
      'tmdb_id',
      'imdb_id',
      'radarr_id',
      'video_file',
      'status',
      'last_scanned_at',
    ])
    .where('library_id', '=', libraryId)
    .orderBy('path')
    .execute();
  return rows.map((r) => ({ ...r, path: path.relative(root, r.path) }));
}

/** A result with the movie id replaced by the movie's (relative) path, so two libraries compare. */
async function portable(root: string, r: ScanResult) {
  const row =
    r.movieId === null
      ? undefined
      : await db.selectFrom('movies').select('path').where('id', '=', r.movieId).executeTakeFirst();
  return {
    status: r.status,
    videoFile: r.videoFile,
    movie: row ? path.relative(root, row.path) : null,
    ...(r.previousPath !== undefined && { previousPath: path.relative(root, r.previousPath) }),
  };
}

/**
 * Two identical libraries get the same history (`before` scanned alone, then the tree changes), then
 * the same inputs: one library folder by folder, the other as one batch.
 */
async function compare(
  t: TestT,
  tree: Dir,
  before: (root: string) => Omit<ScanInput, 'libraryId' | 'libraryPath'>[],
  change: (root: string) => Promise<void>,
  inputs: (root: string) => Omit<ScanInput, 'libraryId' | 'libraryPath'>[],
) {
  const dir = t.testdir({ single: structuredClone(tree), batch: structuredClone(tree) });
  const roots = { single: path.join(dir, 'single'), batch: path.join(dir, 'batch') };
  const libs = { single: await library(roots.single), batch: await library(roots.batch) };
  for (const k of ['single', 'batch'] as const) {
    for (const i of before(roots[k])) {
      await scanMovieDirectory(
        { db, log: silentLogger, clock },
        { ...i, libraryId: libs[k].id, libraryPath: roots[k] },
      );
    }
    await change(roots[k]);
  }
  const singleResults: ScanResult[] = [];
  for (const i of inputs(roots.single)) {
    singleResults.push(
      await scanMovieDirectory(
        { db, log: silentLogger, clock },
        { ...i, libraryId: libs.single.id, libraryPath: roots.single },
      ),
    );
  }
  // Movie ids are compared by where the movie is now (both sides after all their scans).
  const single: unknown[] = [];
  for (const r of singleResults) single.push(await portable(roots.single, r));
  const outcomes = await scanMovieDirectories(
    { db, log: silentLogger, clock },
    inputs(roots.batch).map((i) => ({ ...i, libraryId: libs.batch.id, libraryPath: roots.batch })),
  );
  const batch: unknown[] = [];
  for (const o of outcomes) {
    t.equal(o.status, 'scanned');
    if (o.status === 'scanned') batch.push(await portable(roots.batch, o.result));
  }
  t.same(batch, single, 'same results as single scans');
  const rows = await rowsOf(libs.batch.id, roots.batch);
  t.same(rows, await rowsOf(libs.single.id, roots.single), 'same rows as single scans');
  return { rows, results: batch };
}

t.test('new, changed, removed and moved folders in one batch: the rows of single scans', async (t) => {
  const tree = {
    'Changed (2001)': { 'c.mkv': 'v' },
    'Removed (2002)': { 'r.mkv': 'v' },
    'Old Name (2003)': { 'o.mkv': 'v' },
    'Untouched (2004)': { 'u.mkv': 'v' },
  };
  const { rows, results } = await compare(
    t,
    tree,
    (root) => [
      { path: path.join(root, 'Changed (2001)'), title: 'Changed', year: 2001 },
      { path: path.join(root, 'Removed (2002)'), tmdbId: 2 },
      { path: path.join(root, 'Old Name (2003)'), tmdbId: 3, title: 'Old' },
      { path: path.join(root, 'Untouched (2004)'), radarrId: 40, imdbId: 'tt0000004' },
    ],
    async (root) => {
      await fs.writeFile(path.join(root, 'Changed (2001)', 'c-remux.mkv'), 'bigger video');
      await fs.rm(path.join(root, 'Removed (2002)'), { recursive: true });
      await fs.rename(path.join(root, 'Old Name (2003)'), path.join(root, 'New Name (2003)'));
      await fs.mkdir(path.join(root, 'Brand New (2005)'));
      await fs.writeFile(path.join(root, 'Brand New (2005)', 'n.mkv'), 'v');
      await fs.writeFile(path.join(root, 'Brand New (2005)', 'n-trailer.mkv'), 'a much longer trailer');
      await fs.mkdir(path.join(root, 'No Video (2006)'));
      await fs.writeFile(path.join(root, 'No Video (2006)', 'movie.nfo'), '<movie/>');
    },
    (root) => [
      { path: path.join(root, 'Changed (2001)') },
      { path: path.join(root, 'Removed (2002)'), tmdbId: 2 },
      { path: path.join(root, 'New Name (2003)'), tmdbId: 3, year: 2003 },
      { path: path.join(root, 'Untouched (2004)'), title: 'Untouched' },
      {
        path: path.join(root, 'Brand New (2005)'),
        tmdbId: 5,
        imdbId: 'tt0000005',
        title: 'Brand New',
        year: 2005,
      },
      { path: path.join(root, 'No Video (2006)'), radarrId: 60 },
      { path: path.join(root, 'Never Existed (2007)') },
    ],
  );
  t.match(results, [
    { status: 'updated', videoFile: 'c-remux.mkv' },
    { status: 'missing', movie: 'Removed (2002)' },
    { status: 'moved', movie: 'New Name (2003)', previousPath: 'Old Name (2003)' },
    { status: 'updated', videoFile: 'u.mkv' },
    { status: 'created', videoFile: 'n.mkv' },
    { status: 'created', videoFile: null },
    { status: 'missing', movie: null },
  ]);
  t.match(rows, [
    { path: 'Brand New (2005)', tmdb_id: 5, imdb_id: 'tt0000005', title: 'Brand New', status: 'present' },
    { path: 'Changed (2001)', title: 'Changed', year: 2001, video_file: 'c-remux.mkv' },
    { path: 'New Name (2003)', tmdb_id: 3, title: 'Old', year: 2003 },
    { path: 'No Video (2006)', radarr_id: 60, status: 'no_files', video_file: null },
    { path: 'Removed (2002)', status: 'missing' },
    { path: 'Untouched (2004)', radarr_id: 40, imdb_id: 'tt0000004', title: 'Untouched' },
  ]);
});

t.test(
  'folders that depend on each other (one TMDB id twice, one path twice) keep single-scan order',
  async (t) => {
    const { results } = await compare(
      t,
      {
        'Twin A (2010)': { 'a.mkv': 'v' },
        'Twin B (2010)': { 'b.mkv': 'v' },
        'Solo (2011)': { 's.mkv': 'v' },
      },
      () => [],
      async () => {},
      (root) => [
        { path: path.join(root, 'Twin A (2010)'), tmdbId: 10 },
        { path: path.join(root, 'Solo (2011)') },
        // In order, the second folder with TMDB id 10 is a move of the first one's row.
        { path: path.join(root, 'Twin B (2010)'), tmdbId: 10 },
        { path: path.join(root, 'Solo (2011)'), title: 'Solo again' },
      ],
    );
    t.match(results, [
      { status: 'created', movie: 'Twin B (2010)' },
      { status: 'created' },
      { status: 'moved', movie: 'Twin B (2010)', previousPath: 'Twin A (2010)' },
      { status: 'updated' },
    ]);
  },
);

t.test('a folder outside the library fails alone; fenceEach withholds writes per input', async (t) => {
  const dir = t.testdir({
    lib: { 'Kept (2020)': { 'k.mkv': 'v' }, 'Fenced (2021)': { 'f.mkv': 'v' } },
    outside: { 'x.mkv': 'v' },
  });
  const root = path.join(dir, 'lib');
  await fs.symlink(path.join(dir, 'outside'), path.join(root, 'Evil (2022)'));
  const lib = await library(root);
  const at = (name: string) => ({ libraryId: lib.id, libraryPath: root, path: path.join(root, name) });
  const outcomes: ScanBatchOutcome[] = await scanMovieDirectories(
    { db, log: silentLogger, clock },
    [at('Kept (2020)'), at('Evil (2022)'), at('Fenced (2021)')],
    { fenceEach: async () => new Set([0, 1]) },
  );
  t.match(outcomes, [
    { status: 'scanned', result: { status: 'created', videoFile: 'k.mkv' } },
    { status: 'error', error: { code: 'PATH_OUTSIDE_LIBRARY', retryable: false } },
    { status: 'fenced' },
  ]);
  t.same(
    (await rowsOf(lib.id, root)).map((r) => r.path),
    ['Kept (2020)'],
    'only the admitted, readable folder has a row',
  );
});

t.test('a failing write rolls the whole batch back', async (t) => {
  const root = t.testdir({ 'A (2030)': { 'a.mkv': 'v' }, 'B (2031)': { 'b.mkv': 'v' } });
  const lib = await library(root);
  const at = (name: string) => ({ libraryId: lib.id, libraryPath: root, path: path.join(root, name) });
  await t.rejects(
    scanMovieDirectories({ db, log: silentLogger, clock }, [at('A (2030)'), at('B (2031)')], {
      fenceEach: async (trx) => {
        await trx
          .insertInto('movies')
          .values({ library_id: lib.id, path: '/written-before-the-failure' })
          .execute();
        throw new Error('fence query failed');
      },
    }),
    /fence query failed/,
  );
  t.same(await rowsOf(lib.id, root), [], 'nothing was written');
});
