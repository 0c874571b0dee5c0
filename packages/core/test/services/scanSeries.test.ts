import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../src/log.ts';
import { getSeriesDetail } from '../../src/records/series.ts';
import { scanSeries } from '../../src/services/scanSeries.ts';
import { migratedTestDb } from '../support/db.ts';

const db = await migratedTestDb(t);

async function library(root: string) {
  return db
    .insertInto('libraries')
    .values({ name: `tv-${path.basename(root)}`, type: 'tv', path: root })
    .returningAll()
    .executeTakeFirstOrThrow();
}

const tree = {
  'Severance (2022) {tvdb-371980}': {
    'Season 01': {
      'Severance - S01E01 - Good News About Hell.mkv': 'v',
      'Severance - S01E02E03 - Half Loop.mkv': 'v',
      'Severance - S01E01 - Good News About Hell.nfo': '<episodedetails/>',
      'sample.mkv': 'v',
    },
    'Season 02': { 'Severance - S02E01.mkv': 'v' },
    Specials: { 'Severance - S00E01 - Main Title.mkv': 'v' },
    'Severance - Behind the scenes.mkv': 'v',
    Extras: { 'x.mkv': 'v' },
    'tvshow.nfo': '<tvshow/>',
  },
};

t.test(
  'a series folder records seasons, specials, a multi-episode file and reports unparseable files',
  async (t) => {
    const root = t.testdir(tree);
    const lib = await library(root);
    const folder = path.join(root, 'Severance (2022) {tvdb-371980}');
    const result = await scanSeries(
      { db, log: silentLogger },
      { libraryId: lib.id, libraryPath: root, path: folder, tmdbId: 95396 },
    );
    t.equal(result.status, 'created');
    t.match(result, { seasons: 3, episodes: 5, files: 4, added: { seasons: 3, episodes: 5, files: 4 } });
    t.strictSame(
      result.unparseable.map((u) => u.file),
      ['Severance - Behind the scenes.mkv'],
    );
    const detail = await getSeriesDetail(db, result.seriesId as number);
    t.match(detail, {
      title: 'Severance',
      year: 2022,
      tvdbId: 371980,
      tmdbId: 95396,
      status: 'present',
      unparseable: [{ file: 'Severance - Behind the scenes.mkv' }],
    });
    t.strictSame(
      detail?.seasons.map((s) => [s.number, s.folder, s.episodes.map((e) => e.number)]),
      [
        [0, 'Specials', [1]],
        [1, 'Season 01', [1, 2, 3]],
        [2, 'Season 02', [1]],
      ],
    );
    const multi = detail?.files.find((f) => f.file.includes('S01E02E03'));
    t.strictSame(multi?.episodes, [
      { season: 1, number: 2 },
      { season: 1, number: 3 },
    ]);
    const e3 = detail?.seasons[1]?.episodes[2];
    t.strictSame(e3?.files, ['Season 01/Severance - S01E02E03 - Half Loop.mkv']);
    t.equal(e3?.placeholder, false);
  },
);

t.test('a second scan of an unchanged folder changes nothing', async (t) => {
  const root = t.testdir(tree);
  const lib = await library(root);
  const folder = path.join(root, 'Severance (2022) {tvdb-371980}');
  const deps = { db, log: silentLogger };
  const first = await scanSeries(deps, { libraryId: lib.id, libraryPath: root, path: folder });
  const before = await db
    .selectFrom('series')
    .select('updated_at')
    .where('id', '=', first.seriesId as number)
    .executeTakeFirstOrThrow();
  const files = await db
    .selectFrom('episode_files')
    .selectAll()
    .where('series_id', '=', first.seriesId as number)
    .orderBy('id')
    .execute();
  const again = await scanSeries(deps, { libraryId: lib.id, libraryPath: root, path: folder });
  t.equal(again.status, 'unchanged');
  t.equal(again.seriesId, first.seriesId);
  t.match(again, { added: { seasons: 0, episodes: 0, files: 0 }, changedFiles: 0, removedFiles: 0 });
  const after = await db
    .selectFrom('series')
    .select('updated_at')
    .where('id', '=', first.seriesId as number)
    .executeTakeFirstOrThrow();
  t.strictSame(after.updated_at, before.updated_at);
  t.strictSame(
    await db
      .selectFrom('episode_files')
      .selectAll()
      .where('series_id', '=', first.seriesId as number)
      .orderBy('id')
      .execute(),
    files,
  );
});

t.test('a rescan records a new file, drops a deleted one and keeps the episode rows', async (t) => {
  const root = t.testdir(tree);
  const lib = await library(root);
  const folder = path.join(root, 'Severance (2022) {tvdb-371980}');
  const deps = { db, log: silentLogger };
  const first = await scanSeries(deps, { libraryId: lib.id, libraryPath: root, path: folder });
  await fs.rm(path.join(folder, 'Season 02', 'Severance - S02E01.mkv'));
  await fs.writeFile(path.join(folder, 'Season 02', 'Severance - S02E02.mkv'), 'v');
  const again = await scanSeries(deps, { libraryId: lib.id, libraryPath: root, path: folder });
  t.match(again, { status: 'updated', added: { files: 1, episodes: 1 }, removedFiles: 1 });
  const detail = await getSeriesDetail(db, first.seriesId as number);
  t.strictSame(
    detail?.seasons[2]?.episodes.map((e) => [e.number, e.files.length]),
    [
      [1, 0],
      [2, 1],
    ],
  );
});

t.test('a vanished folder marks the series missing; a Sonarr SeriesDelete marks it removed', async (t) => {
  const root = t.testdir(tree);
  const lib = await library(root);
  const folder = path.join(root, 'Severance (2022) {tvdb-371980}');
  const deps = { db, log: silentLogger };
  const first = await scanSeries(deps, { libraryId: lib.id, libraryPath: root, path: folder });
  await fs.rm(folder, { recursive: true });
  const gone = await scanSeries(deps, { libraryId: lib.id, libraryPath: root, path: folder });
  t.match(gone, { status: 'missing', seriesId: first.seriesId });
  const removed = await scanSeries(deps, {
    libraryId: lib.id,
    libraryPath: root,
    path: folder,
    removed: true,
  });
  t.match(removed, { status: 'removed', seriesId: first.seriesId });
  t.equal((await getSeriesDetail(db, first.seriesId as number))?.status, 'removed');
});

t.test('a daily series file is recorded with its air date and no episode', async (t) => {
  const root = t.testdir({
    'The Daily Show': { 'Season 2024': { 'The Daily Show - 2024-03-01 - Guest.mkv': 'v' } },
  });
  const lib = await library(root);
  const result = await scanSeries(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: path.join(root, 'The Daily Show') },
  );
  const detail = await getSeriesDetail(db, result.seriesId as number);
  t.match(detail?.files, [{ airDate: '2024-03-01', seasonNumber: 2024, episodes: [] }]);
});
