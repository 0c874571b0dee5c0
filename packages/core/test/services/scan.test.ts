import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../src/log.ts';
import { findMainVideo, scanMovieDirectory } from '../../src/services/scan.ts';
import { migratedTestDb } from '../support/db.ts';

const db = await migratedTestDb(t);

async function library(root: string) {
  return db
    .insertInto('libraries')
    .values({ name: `lib-${path.basename(root)}`, type: 'movie', path: root })
    .returningAll()
    .executeTakeFirstOrThrow();
}

t.test('picks the largest video that is not a sample or trailer', async (t) => {
  const dir = t.testdir({
    'Movie (2000).mkv': 'x'.repeat(100),
    'Movie (2000)-trailer.mkv': 'x'.repeat(500),
    'sample.mkv': 'x'.repeat(900),
    'Movie (2000).nfo': '<movie/>',
  });
  t.equal(await findMainVideo(fs, dir), 'Movie (2000).mkv');
});

t.test('a new folder creates a movie; a rescan updates it', async (t) => {
  const root = t.testdir({ 'The Matrix (1999)': { 'The Matrix (1999).mkv': 'video' } });
  const lib = await library(root);
  const folder = path.join(root, 'The Matrix (1999)');
  const first = await scanMovieDirectory(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: folder, tmdbId: 603, title: 'The Matrix', year: 1999 },
  );
  t.equal(first.status, 'created');
  t.equal(first.videoFile, 'The Matrix (1999).mkv');
  const again = await scanMovieDirectory(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: folder, tmdbId: 603 },
  );
  t.equal(again.status, 'updated');
  t.equal(again.movieId, first.movieId);
  const row = await db
    .selectFrom('movies')
    .selectAll()
    .where('id', '=', first.movieId!)
    .executeTakeFirstOrThrow();
  t.match(row, { title: 'The Matrix', year: 1999, tmdb_id: 603, status: 'present', path: folder });
});

t.test('the same TMDB id at a new folder is a move, not a new movie', async (t) => {
  const root = t.testdir({ 'Old Name (1999)': { 'a.mkv': 'v' }, 'New Name (1999)': { 'a.mkv': 'v' } });
  const lib = await library(root);
  const a = await scanMovieDirectory(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: path.join(root, 'Old Name (1999)'), tmdbId: 42 },
  );
  const b = await scanMovieDirectory(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: path.join(root, 'New Name (1999)'), tmdbId: 42 },
  );
  t.equal(b.status, 'moved');
  t.equal(b.movieId, a.movieId);
  t.equal(b.previousPath, path.join(root, 'Old Name (1999)'));
});

t.test('a missing folder marks a known movie missing', async (t) => {
  const root = t.testdir({ 'Gone (2001)': { 'g.mkv': 'v' } });
  const lib = await library(root);
  const folder = path.join(root, 'Gone (2001)');
  const a = await scanMovieDirectory(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: folder },
  );
  await fs.rm(folder, { recursive: true });
  const b = await scanMovieDirectory(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: folder },
  );
  t.equal(b.status, 'missing');
  const row = await db
    .selectFrom('movies')
    .select('status')
    .where('id', '=', a.movieId!)
    .executeTakeFirstOrThrow();
  t.equal(row.status, 'missing');
});

t.test('a folder symlinked out of the library is refused before it is read', async (t) => {
  const dir = t.testdir({ lib: {}, outside: { 'secret.mkv': 'v' } });
  const root = path.join(dir, 'lib');
  await fs.symlink(path.join(dir, 'outside'), path.join(root, 'Evil (2020)'));
  const lib = await library(root);
  await t.rejects(
    scanMovieDirectory(
      { db, log: silentLogger },
      { libraryId: lib.id, libraryPath: root, path: path.join(root, 'Evil (2020)') },
    ),
    { code: 'PATH_OUTSIDE_LIBRARY', retryable: false },
  );
});
