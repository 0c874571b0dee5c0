import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeTmdb } from '@metarr/testkit';
import tap from 'tap';
import { createTmdbClient } from '../../src/clients/tmdb.ts';
import { silentLogger } from '../../src/log.ts';
import { enrichSeries } from '../../src/services/enrichSeries.ts';
import { publishSeries } from '../../src/services/publishSeries.ts';
import { scanSeries } from '../../src/services/scanSeries.ts';
import { migratedTestDb } from '../support/db.ts';

const t = tap;
const db = await migratedTestDb(t);
const tmdbFake = await startFakeTmdb();
t.teardown(() => tmdbFake.close());
const tmdb = createTmdbClient({ baseUrl: tmdbFake.apiUrl, apiKey: 'tmdb-test-key' });
const now = new Date('2026-12-06T12:00:00Z');

/**
 * Harbour Lights (TMDB 95001) in a new tv library with these Season 01 files, scanned and enriched.
 * `scan` rescans it (after a rename or delete).
 */
async function enrichedHarbourLights(
  test: { testdir: typeof t.testdir },
  libraryName: string,
  seasonFiles: Record<string, string>,
) {
  const root = test.testdir({ 'Harbour Lights (2021)': { 'Season 01': seasonFiles } });
  const lib = await db
    .insertInto('libraries')
    .values({ name: libraryName, type: 'tv', path: root })
    .returningAll()
    .executeTakeFirstOrThrow();
  const folder = path.join(root, 'Harbour Lights (2021)');
  const scan = () =>
    scanSeries(
      { db, log: silentLogger },
      { libraryId: lib.id, libraryPath: root, path: folder, tmdbId: 95001 },
    );
  const id = (await scan()).seriesId as number;
  await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, id, {
    language: 'en-US',
    country: 'US',
    imageBaseUrl: tmdbFake.imageUrl,
    ttlSeconds: 3600,
    tmdbRateLimit: 40,
  });
  return { id, folder, season: path.join(folder, 'Season 01'), scan };
}

t.test(
  'tvshow.nfo and episode NFOs are written (one block per episode of a multi-episode file); a second publish writes nothing',
  async (t) => {
    const { id, folder } = await enrichedHarbourLights(t, 'TV', {
      'Harbour Lights - S01E01E02.mkv': 'v',
      'Harbour Lights - S01E03.mkv': 'v',
      'Harbour Lights - S01E03.nfo': '<episodedetails><title>old</title><mytag>mine</mytag></episodedetails>',
    });
    const deps = { db, fs, log: silentLogger, clock: () => now };
    const first = await publishSeries(deps, id);
    t.strictSame(first.written, [
      'tvshow.nfo',
      'Season 01/Harbour Lights - S01E01E02.nfo',
      'Season 01/Harbour Lights - S01E03.nfo',
    ]);
    const show = await fs.readFile(path.join(folder, 'tvshow.nfo'), 'utf8');
    t.match(show, /<tvshow>[\s\S]*<title>Harbour Lights<\/title>/);
    const multi = await fs.readFile(path.join(folder, 'Season 01', 'Harbour Lights - S01E01E02.nfo'), 'utf8');
    t.equal(multi.match(/<episodedetails>/g)?.length, 2, 'one block per episode');
    t.match(multi, /Arrival \(1\)[\s\S]*Arrival \(2\)/);
    const e3 = await fs.readFile(path.join(folder, 'Season 01', 'Harbour Lights - S01E03.nfo'), 'utf8');
    t.match(e3, /<title>Fish &amp; Chips &lt;Special&gt;<\/title>/, 'hostile text stays text');
    t.match(e3, /<mytag>mine<\/mytag>/, 'the user’s own tag is kept');
    const rows = await db
      .selectFrom('series_published_files')
      .selectAll()
      .where('series_id', '=', id)
      .execute();
    t.equal(rows.length, 3);
    t.ok(rows.every((r) => r.content_hash !== null && r.pending_hash === null));
    t.same(
      (await fs.readdir(path.join(folder, 'Season 01'))).filter((n) => n.includes('metarr-tmp')),
      [],
    );

    const again = await publishSeries(deps, id);
    t.same(again.written, []);
    t.equal(again.unchanged.length, 3);
  },
);

t.test(
  'a renamed or deleted episode file: the NFO Metarr wrote for it goes, a user-edited one stays',
  async (t) => {
    const { id, season, scan } = await enrichedHarbourLights(t, 'TV 2', {
      'Harbour Lights - S01E01E02.mkv': 'v',
      'Harbour Lights - S01E03.mkv': 'v',
    });
    const deps = { db, fs, log: silentLogger, clock: () => now };
    await publishSeries(deps, id);

    // Sonarr renames S01E03 and deletes S01E01E02, whose NFO the user had edited.
    await fs.rename(
      path.join(season, 'Harbour Lights - S01E03.mkv'),
      path.join(season, 'Harbour Lights - S01E03 - Fish and Chips.mkv'),
    );
    await fs.rm(path.join(season, 'Harbour Lights - S01E01E02.mkv'));
    await fs.appendFile(path.join(season, 'Harbour Lights - S01E01E02.nfo'), '<!-- mine -->');
    await scan();
    const r = await publishSeries(deps, id);
    t.same(r.written, ['Season 01/Harbour Lights - S01E03 - Fish and Chips.nfo']);
    t.same(r.removed, ['Season 01/Harbour Lights - S01E03.nfo']);
    t.same((await fs.readdir(season)).sort(), [
      'Harbour Lights - S01E01E02.nfo',
      'Harbour Lights - S01E03 - Fish and Chips.mkv',
      'Harbour Lights - S01E03 - Fish and Chips.nfo',
    ]);
    const recorded = await db
      .selectFrom('series_published_files')
      .select('file')
      .where('series_id', '=', id)
      .orderBy('file')
      .execute();
    t.same(
      recorded.map((x) => x.file),
      ['Season 01/Harbour Lights - S01E03 - Fish and Chips.nfo', 'tvshow.nfo'],
    );
  },
);

t.test(
  'an episode thumbnail is written beside its video from the still, not downloaded again, and moves or goes with a rename or delete',
  async (t) => {
    const { id, season, scan } = await enrichedHarbourLights(t, 'TV 3', {
      'Harbour Lights - S01E01E02.mkv': 'v',
      'Harbour Lights - S01E03.mkv': 'v',
    });
    const downloads: string[] = [];
    const download = async (url: string) => {
      downloads.push(url);
      return { type: 'jpeg' as const, width: 1, height: 1, bytes: Buffer.from(`jpeg of ${url}`) };
    };
    const deps = { db, fs, log: silentLogger, clock: () => now, download };
    const first = await publishSeries(deps, id);
    const thumbs = (await fs.readdir(season)).filter((f) => f.endsWith('-thumb.jpg')).sort();
    t.same(thumbs, ['Harbour Lights - S01E01E02-thumb.jpg', 'Harbour Lights - S01E03-thumb.jpg']);
    t.equal(downloads.length, 2, 'one download per video file (its first episode’s still)');
    t.match(downloads[0], /^http:\/\/127\.0\.0\.1:\d+\/t\/p\/original\//);
    t.ok(first.written.includes('Season 01/Harbour Lights - S01E03-thumb.jpg'));
    t.equal(
      await fs.readFile(path.join(season, 'Harbour Lights - S01E03-thumb.jpg'), 'utf8'),
      `jpeg of ${downloads[1]}`,
    );

    const again = await publishSeries(deps, id);
    t.same(again.written, [], 'a second publish writes nothing');
    t.equal(downloads.length, 2, 'and downloads nothing');

    await fs.rename(
      path.join(season, 'Harbour Lights - S01E03.mkv'),
      path.join(season, 'Harbour Lights - S01E03 - Fish and Chips.mkv'),
    );
    await fs.rm(path.join(season, 'Harbour Lights - S01E01E02.mkv'));
    await scan();
    const r = await publishSeries(deps, id);
    t.same(r.removed.sort(), [
      'Season 01/Harbour Lights - S01E01E02-thumb.jpg',
      'Season 01/Harbour Lights - S01E01E02.nfo',
      'Season 01/Harbour Lights - S01E03-thumb.jpg',
      'Season 01/Harbour Lights - S01E03.nfo',
    ]);
    t.same((await fs.readdir(season)).sort(), [
      'Harbour Lights - S01E03 - Fish and Chips-thumb.jpg',
      'Harbour Lights - S01E03 - Fish and Chips.mkv',
      'Harbour Lights - S01E03 - Fish and Chips.nfo',
    ]);
  },
);
