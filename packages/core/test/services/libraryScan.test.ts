import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { idsFromNfo } from '../../src/files/nfo.ts';
import { silentLogger } from '../../src/log.ts';
import {
  idsFromFolderName,
  listMovieFolders,
  reconcileLibrary,
  recordFolderFingerprints,
  titleYearFromFolderName,
} from '../../src/services/libraryScan.ts';
import { migratedTestDb } from '../support/db.ts';

const db = await migratedTestDb(t);

t.test('reads TMDB and IMDb ids from *arr folder-name tokens', async (t) => {
  t.same(idsFromFolderName('The Matrix (1999) {tmdb-603}'), { tmdbId: 603 });
  t.same(idsFromFolderName('The Matrix (1999) [imdbid-tt0133093]'), { imdbId: 'tt0133093' });
  t.same(idsFromFolderName('Heat (1995) [tmdbid-949] {imdb-tt0113277}'), {
    tmdbId: 949,
    imdbId: 'tt0113277',
  });
  t.same(idsFromFolderName('Plain (2001)'), {});
});

t.test('reads ids from an NFO uniqueid, legacy tags as fallback', async (t) => {
  t.same(
    idsFromNfo(
      '<movie><uniqueid type="imdb" default="true">tt0133093</uniqueid><uniqueid type="tmdb">603</uniqueid></movie>',
    ),
    { tmdbId: 603, imdbId: 'tt0133093' },
  );
  t.same(idsFromNfo('<movie><id>tt0113277</id><tmdbid>949</tmdbid></movie>'), {
    tmdbId: 949,
    imdbId: 'tt0113277',
  });
  t.same(idsFromNfo('<movie><title>x</title></movie>'), {});
});

t.test('title and year come from the folder name without its tags', async (t) => {
  t.same(titleYearFromFolderName('The Matrix (1999) {tmdb-603}'), { title: 'The Matrix', year: 1999 });
  t.same(titleYearFromFolderName('Odd Name'), { title: 'Odd Name' });
});

t.test('lists one level of movie folders and skips NAS and hidden junk', async (t) => {
  const root = t.testdir({
    'A (2000)': { 'A.mkv': 'v' },
    'B (2001)': { 'B.mkv': 'v', '@eaDir': { 'thumb.jpg': 'x' } },
    '@eaDir': { x: 'y' },
    '.DS_Store': 'junk',
    '.hidden': { 'x.mkv': 'v' },
    '#recycle': {},
    'loose-file.mkv': 'v',
  });
  const folders = await listMovieFolders({ log: silentLogger }, root);
  t.same(
    folders.map((f) => f.name),
    ['A (2000)', 'B (2001)'],
  );
});

t.test('a changed file changes the folder fingerprint; junk inside does not', async (t) => {
  const root = t.testdir({ 'A (2000)': { 'A.mkv': 'v' } });
  const [before] = await listMovieFolders({ log: silentLogger }, root);
  await fs.mkdir(path.join(root, 'A (2000)', '@eaDir'));
  const [same] = await listMovieFolders({ log: silentLogger }, root);
  t.equal(same?.fingerprint, before?.fingerprint);
  await fs.writeFile(path.join(root, 'A (2000)', 'A.mkv'), 'longer video');
  const [after] = await listMovieFolders({ log: silentLogger }, root);
  t.not(after?.fingerprint, before?.fingerprint);
});

t.test('an unreadable root is a retryable error, not an empty library', async (t) => {
  await t.rejects(listMovieFolders({ log: silentLogger }, '/nonexistent/metarr-lib'), {
    code: 'LIBRARY_ROOT_UNAVAILABLE',
    retryable: true,
  });
});

t.test('reconcile: new, unchanged, changed, missing, moved by NFO and by folder tag', async (t) => {
  const root = t.testdir({
    'Keep (2000)': { 'Keep.mkv': 'v' },
    'Change (2001)': { 'Change.mkv': 'v' },
    'Gone (2002)': { 'Gone.mkv': 'v' },
    'Old Place (2003)': { 'x.mkv': 'v' },
    'Tagged Old (2004)': { 'y.mkv': 'v' },
  });
  const lib = await db
    .insertInto('libraries')
    .values({ name: 'rec', type: 'movie', path: root })
    .returningAll()
    .executeTakeFirstOrThrow();
  const p = (n: string) => path.join(root, n);
  await db
    .insertInto('movies')
    .values([
      { library_id: lib.id, path: p('Keep (2000)'), title: 'Keep' },
      { library_id: lib.id, path: p('Change (2001)'), title: 'Change' },
      { library_id: lib.id, path: p('Gone (2002)'), title: 'Gone' },
      { library_id: lib.id, path: p('Old Place (2003)'), title: 'Old', tmdb_id: 603 },
      { library_id: lib.id, path: p('Tagged Old (2004)'), title: 'Tagged', imdb_id: 'tt0113277' },
    ])
    .execute();
  const first = await listMovieFolders({ log: silentLogger }, root);
  await recordFolderFingerprints(
    { db },
    { libraryId: lib.id, scanned: first, listedPaths: first.map((f) => f.path) },
  );

  await fs.writeFile(p('Change (2001)/Change.mkv'), 'a new cut');
  await fs.rm(p('Gone (2002)'), { recursive: true });
  await fs.rename(p('Old Place (2003)'), p('New Place (2003)'));
  await fs.writeFile(p('New Place (2003)/movie.nfo'), '<movie><uniqueid type="tmdb">603</uniqueid></movie>');
  await fs.rename(p('Tagged Old (2004)'), p('Tagged New (2004) [imdbid-tt0113277]'));
  await fs.mkdir(p('Brand New (2005)'));
  await fs.writeFile(p('Brand New (2005)/b.mkv'), 'v');

  const folders = await listMovieFolders({ log: silentLogger }, root);
  const rec = await reconcileLibrary({ db, log: silentLogger }, { libraryId: lib.id, folders });
  const byReason = (r: string) =>
    rec.toScan
      .filter((x) => x.reason === r)
      .map((x) => path.basename(x.path))
      .sort();
  t.same(byReason('new'), ['Brand New (2005)']);
  t.same(byReason('changed'), ['Change (2001)']);
  t.same(byReason('moved'), ['New Place (2003)', 'Tagged New (2004) [imdbid-tt0113277]']);
  t.equal(rec.unchanged, 1, 'Keep is unchanged');
  t.same(
    rec.missing.map((m) => path.basename(m.path)),
    ['Gone (2002)'],
  );
  const rows = await db.selectFrom('movies').select(['title', 'path', 'status']).orderBy('id').execute();
  t.same(
    rows.map((r) => [r.title, path.basename(r.path), r.status]),
    [
      ['Keep', 'Keep (2000)', 'present'],
      ['Change', 'Change (2001)', 'present'],
      ['Gone', 'Gone (2002)', 'missing'],
      ['Old', 'New Place (2003)', 'present'],
      ['Tagged', 'Tagged New (2004) [imdbid-tt0113277]', 'present'],
    ],
  );
  t.equal(rec.toScan.find((x) => x.reason === 'new')?.title, 'Brand New');
  t.equal(rec.toScan.find((x) => x.path.includes('New Place'))?.tmdbId, 603);
});
