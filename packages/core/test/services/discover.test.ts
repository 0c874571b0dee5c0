import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../src/log.ts';
import { classifyMovieFolder, discoverMovieAssets } from '../../src/services/discover.ts';
import { migratedTestDb } from '../support/db.ts';

t.test(
  'classifies a Kodi movie folder: video, NFO, artwork, trailers, subtitles, extras, junk',
  async (t) => {
    const dir = t.testdir({
      'Heat (1995).mkv': 'x'.repeat(1000),
      'Heat (1995)-sample.mkv': 'x'.repeat(10),
      'Heat (1995)-trailer.mp4': 'x'.repeat(50),
      'Heat (1995).nfo':
        '<movie><title>Heat</title><year>1995</year><uniqueid type="tmdb">949</uniqueid><uniqueid type="imdb">tt0113277</uniqueid></movie>',
      'Heat (1995)-poster.jpg': 'p',
      'fanart.jpg': 'f',
      'clearlogo.png': 'l',
      'Other Movie-poster.jpg': 'x',
      'Heat (1995).en.srt': 's',
      'Heat (1995).pt-br.forced.srt': 's',
      'Heat (1995).srt': 's',
      extrafanart: { 'fanart1.jpg': 'e', 'notes.txt': 'n' },
      Featurettes: { 'Making of.mkv': 'm' },
      Sample: { 'sample.mkv': 's' },
      '.DS_Store': '',
      'Thumbs.db': '',
      '@eaDir': { x: 'y' },
      'readme.txt': 'r',
    });
    const f = await classifyMovieFolder(fs, dir);
    t.equal(f.videoFile, 'Heat (1995).mkv');
    t.equal(f.videoStem, 'Heat (1995)');
    t.equal(f.disc, null);
    t.match(f.nfo, {
      file: 'Heat (1995).nfo',
      ok: true,
      tmdbId: 949,
      imdbId: 'tt0113277',
      title: 'Heat',
      year: 1995,
    });
    t.same(
      f.artwork.map((a) => [a.type, a.file]),
      [
        ['clearlogo', 'clearlogo.png'],
        ['extrafanart', 'extrafanart/fanart1.jpg'],
        ['fanart', 'fanart.jpg'],
        ['poster', 'Heat (1995)-poster.jpg'],
      ],
    );
    t.same(f.trailers, ['Heat (1995)-trailer.mp4']);
    t.same(
      f.subtitles.map((s) => [s.file, s.language, s.forced]),
      [
        ['Heat (1995).en.srt', 'en', false],
        ['Heat (1995).pt-br.forced.srt', 'pt-br', true],
        ['Heat (1995).srt', null, false],
      ],
    );
    t.same(f.extras, ['Featurettes/']);
    t.ok(f.unknown.includes('Other Movie-poster.jpg'), "another movie's poster is not ours");
    t.ok(f.unknown.includes('readme.txt'));
    for (const junk of ['.DS_Store', 'Thumbs.db', '@eaDir', 'Heat (1995)-sample.mkv', 'Sample/'])
      t.ok(f.skipped.includes(junk), `${junk} skipped`);
  },
);

t.test('disc structures: BDMV and VIDEO_TS are the main video; names fall back to movie.nfo', async (t) => {
  const dir = t.testdir({
    bd: {
      BDMV: { 'index.bdmv': 'i', STREAM: { '00001.m2ts': 'x'.repeat(100) } },
      CERTIFICATE: {},
      'poster.jpg': 'p',
      'movie.nfo': '<movie><title>BD</title></movie>',
    },
    dvd: { VIDEO_TS: { 'VIDEO_TS.IFO': 'i', 'VTS_01_1.VOB': 'v' } },
  });
  const bd = await classifyMovieFolder(fs, path.join(dir, 'bd'));
  t.match(bd, {
    disc: 'bdmv',
    videoFile: 'BDMV/index.bdmv',
    videoStem: null,
    nfo: { file: 'movie.nfo', title: 'BD' },
  });
  t.same(bd.artwork, [{ type: 'poster', file: 'poster.jpg' }]);
  const dvd = await classifyMovieFolder(fs, path.join(dir, 'dvd'));
  t.match(dvd, { disc: 'video_ts', videoFile: 'VIDEO_TS/VIDEO_TS.IFO' });
});

t.test('a malformed NFO is reported, never fatal', async (t) => {
  const dir = t.testdir({ 'M.mkv': 'v', 'M.nfo': '<movie><title>broken</movie>' });
  const f = await classifyMovieFolder(fs, dir);
  t.equal(f.nfo?.ok, false);
  t.match(f.nfo?.error, /malformed XML/);
  t.equal(f.videoFile, 'M.mkv');
});

t.test('discovery is stored per movie and fills ids the NFO knows', async (t) => {
  const db = await migratedTestDb(t);
  const root = t.testdir({
    Heat: {
      'Heat.mkv': 'v',
      'Heat.nfo':
        '<movie><uniqueid type="tmdb">949</uniqueid><uniqueid type="imdb">tt0113277</uniqueid></movie>',
    },
  });
  const lib = await db
    .insertInto('libraries')
    .values({ name: 'm', type: 'movie', path: root })
    .returning('id')
    .executeTakeFirstOrThrow();
  const movie = await db
    .insertInto('movies')
    .values({ library_id: lib.id, path: path.join(root, 'Heat') })
    .returning('id')
    .executeTakeFirstOrThrow();
  const r = await discoverMovieAssets({ db, log: silentLogger }, movie.id);
  t.equal(r.found.videoFile, 'Heat.mkv');
  const row = await db.selectFrom('movies').selectAll().where('id', '=', movie.id).executeTakeFirstOrThrow();
  t.equal(row.tmdb_id, 949);
  t.equal(row.imdb_id, 'tt0113277');
  const stored = await db
    .selectFrom('movie_discovery')
    .select('data')
    .where('movie_id', '=', movie.id)
    .executeTakeFirstOrThrow();
  t.match(stored.data, { videoFile: 'Heat.mkv', nfo: { tmdbId: 949 } });
  // Run twice: same row, no error (at-least-once delivery).
  await discoverMovieAssets({ db, log: silentLogger }, movie.id);
  const { length } = await db.selectFrom('movie_discovery').select('movie_id').execute();
  t.equal(length, 1);
});
