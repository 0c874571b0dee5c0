import path from 'node:path';
import { startFakeTmdb } from '@metarr/testkit';
import tap from 'tap';

const t = tap;

import { createTmdbClient } from '../../src/clients/tmdb.ts';
import { silentLogger } from '../../src/log.ts';
import { getSeriesDetail, listTvLocks, setTvLock } from '../../src/records/series.ts';
import { enrichSeries } from '../../src/services/enrichSeries.ts';
import { scanSeries } from '../../src/services/scanSeries.ts';
import { migratedTestDb } from '../support/db.ts';

// Harbour Lights (fake TMDB 95001, TVDB 400001): S02E02 "Episode 2" airs 2026-12-06 with no plot
// and no still — a placeholder.
const db = await migratedTestDb(t);
const tmdbFake = await startFakeTmdb();
t.teardown(() => tmdbFake.close());
const tmdb = createTmdbClient({ baseUrl: tmdbFake.apiUrl, apiKey: 'tmdb-test-key' });
const now = new Date('2026-12-06T12:00:00Z');
const opts = {
  language: 'en-US',
  country: 'US',
  imageBaseUrl: tmdbFake.imageUrl,
  ttlSeconds: 3600,
  tmdbRateLimit: 40,
  placeholderRecheckSeconds: 21_600,
};

async function scannedHarbourLights(
  t: Pick<typeof tap, 'testdir'>,
  ids: { tmdbId?: number; tvdbId?: number },
) {
  const root = t.testdir({
    'Harbour Lights (2021)': {
      'Season 01': { 'Harbour Lights - S01E01E02.mkv': 'v', 'Harbour Lights - S01E03.mkv': 'v' },
      'Season 02': { 'Harbour Lights - S02E01.mkv': 'v', 'Harbour Lights - S02E02.mkv': 'v' },
    },
  });
  const lib = await db
    .insertInto('libraries')
    .values({ name: `tv-${path.basename(root)}`, type: 'tv', path: root })
    .returningAll()
    .executeTakeFirstOrThrow();
  const scanned = await scanSeries(
    { db, log: silentLogger },
    { libraryId: lib.id, libraryPath: root, path: path.join(root, 'Harbour Lights (2021)'), ...ids },
  );
  return scanned.seriesId as number;
}

t.test(
  'one series call and one call per season on disk fill the series and its episodes; placeholders are marked',
  async (t) => {
    await db.deleteFrom('provider_cache').execute();
    const seriesId = await scannedHarbourLights(t, { tmdbId: 95001 });
    const deps = { db, log: silentLogger, tmdb, clock: () => now };
    const first = await enrichSeries(deps, seriesId, opts);
    t.match(first, { tmdbId: 95001, requests: { tmdb: 3 }, seasons: 2, episodesUpdated: 5, placeholders: 1 });
    const detail = await getSeriesDetail(db, seriesId);
    t.match(detail, { title: 'Harbour Lights', year: 2021, tvdbId: 400001, imdbId: 'tt9500100' });
    t.match(detail?.metadata, { title: 'Harbour Lights', uniqueIds: { tmdb: 95001 } });
    t.strictSame(
      detail?.seasons.map((s) => s.episodes.map((e) => e.title)),
      [
        ['Arrival (1)', 'Arrival (2)', 'Fish & Chips <Special>'],
        ['Low Tide', 'Episode 2'],
      ],
    );
    const e2 = detail?.seasons[1]?.episodes[1];
    t.match(e2, { placeholder: true, placeholderFields: ['title', 'plot', 'still'], airDate: '2026-12-06' });
    t.strictSame(e2?.nextCheckAt, new Date('2026-12-06T18:00:00Z'), 'first recheck 6 h on');
    t.strictSame(e2?.giveUpAt, new Date('2027-01-05T00:00:00Z'), '30 days after the air date');

    // Warm: every answer from the shared cache, nothing rewritten but the placeholder's next check.
    const again = await enrichSeries(deps, seriesId, opts);
    t.match(again, { requests: { tmdb: 0 }, cacheHits: 3, episodesUpdated: 0, seriesChanged: false });
  },
);

t.test('a series known only by its TVDB id is found through /find?external_source=tvdb_id', async (t) => {
  await db.deleteFrom('provider_cache').execute();
  const seriesId = await scannedHarbourLights(t, { tvdbId: 400001 });
  const r = await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, opts);
  t.match(r, { tmdbId: 95001, requests: { tmdb: 4 } });
  t.ok(tmdbFake.calls.some((c) => c.path === '/find/400001' && c.query['external_source'] === 'tvdb_id'));
  t.equal((await getSeriesDetail(db, seriesId))?.tmdbId, 95001);
});

t.test(
  'a series title locked by setTvLock survives enrichment; unlocking lets TMDB set it again',
  async (t) => {
    const seriesId = await scannedHarbourLights(t, { tmdbId: 95001 });
    await db.updateTable('series').set({ title: 'My Harbour' }).where('id', '=', seriesId).execute();
    await setTvLock(db, 'series', seriesId, 'title', true);
    await setTvLock(db, 'series', seriesId, 'title', true); // twice: still one lock
    t.same(await listTvLocks(db, 'series', seriesId), ['title']);
    await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, opts);
    t.match(await getSeriesDetail(db, seriesId), { title: 'My Harbour', locks: ['title'] });

    await setTvLock(db, 'series', seriesId, 'title', false);
    t.same(await listTvLocks(db, 'series', seriesId), []);
    await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, opts);
    t.match(await getSeriesDetail(db, seriesId), { title: 'Harbour Lights', locks: [] });
  },
);

t.test('a refresh asks TMDB again past a fresh cache, and a locked series title survives it', async (t) => {
  const seriesId = await scannedHarbourLights(t, { tmdbId: 95001 });
  await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, opts);
  await db.updateTable('series').set({ title: 'My Harbour' }).where('id', '=', seriesId).execute();
  await setTvLock(db, 'series', seriesId, 'title', true);
  const cachedRun = await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, opts);
  t.equal(cachedRun.requests.tmdb, 0, 'without refresh the fresh cache answers');
  const refreshed = await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, {
    ...opts,
    refresh: true,
  });
  t.equal(refreshed.requests.tmdb, 3, 'the series and its two seasons asked again');
  t.match(await getSeriesDetail(db, seriesId), { title: 'My Harbour', locks: ['title'] });
});

t.test('a locked episode title is kept', async (t) => {
  await db.deleteFrom('provider_cache').execute();
  const seriesId = await scannedHarbourLights(t, { tmdbId: 95001 });
  const ep = await db
    .selectFrom('episodes')
    .select('id')
    .where('series_id', '=', seriesId)
    .where('season_number', '=', 2)
    .where('number', '=', 2)
    .executeTakeFirstOrThrow();
  await db.updateTable('episodes').set({ title: 'The Storm' }).where('id', '=', ep.id).execute();
  await db.insertInto('episode_field_locks').values({ episode_id: ep.id, field: 'title' }).execute();
  await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, opts);
  const e2 = (await getSeriesDetail(db, seriesId))?.seasons[1]?.episodes[1];
  t.match(e2, { title: 'The Storm', placeholderFields: ['plot', 'still'], locks: ['title'] });
});

t.test(
  'a placeholder recheck asks TMDB past the cache and heals the episode once real values appear',
  async (t) => {
    await db.deleteFrom('provider_cache').execute();
    const seriesId = await scannedHarbourLights(t, { tmdbId: 95001 });
    const week = { ...opts, ttlSeconds: 7 * 86_400 };
    const first = await enrichSeries({ db, log: silentLogger, tmdb, clock: () => now }, seriesId, week);
    t.strictSame(first.nextCheckAt, new Date('2026-12-06T18:00:00Z'));

    const early = new Date('2026-12-06T13:00:00Z');
    const tooSoon = await enrichSeries({ db, log: silentLogger, tmdb, clock: () => early }, seriesId, {
      ...week,
      recheck: true,
    });
    t.match(tooSoon, { skipped: /no placeholder check is due/, requests: { tmdb: 0 } });

    // TMDB fills in S02E02.
    const season2 = tmdbFake.tvShows.get(95001)?.seasons.get(2) as { episodes: Record<string, unknown>[] };
    Object.assign(season2.episodes[1] as Record<string, unknown>, {
      name: 'The Storm',
      overview: 'The lights fail in a storm.',
      still_path: '/95001-s02e02-still.jpg',
    });
    const later = new Date('2026-12-06T18:00:00Z');
    const healed = await enrichSeries({ db, log: silentLogger, tmdb, clock: () => later }, seriesId, {
      ...week,
      recheck: true,
    });
    t.match(healed, { healed: 1, placeholders: 0, nextCheckAt: null, requests: { tmdb: 1 } });
    const row = await db
      .selectFrom('episodes')
      .selectAll()
      .where('series_id', '=', seriesId)
      .where('season_number', '=', 2)
      .where('number', '=', 2)
      .executeTakeFirstOrThrow();
    t.match(row, { title: 'The Storm', placeholder_fields: [], placeholder_next_check: null });
  },
);
