import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { handleScanSeries } from '../../src/handlers/scanSeries.ts';
import { childJobs, insertLibrary } from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// scan-series alone: a series folder on disk recorded, follow-ups read back, never run.
const { db, deps, ctxFor } = await startHandlerHarness(t);

const show = {
  'Severance (2022)': {
    'Season 01': { 'Severance - S01E01.mkv': 'v', 'Severance - S01E02-E03.mkv': 'v' },
    Specials: { 'Severance - S00E01.mkv': 'v' },
  },
};

t.test('a webhook scan records the series with the ids Sonarr sent and queues nothing', async (t) => {
  const root = t.testdir(show);
  const libraryId = await insertLibrary(db, { path: root, type: 'tv' });
  const folder = path.join(root, 'Severance (2022)');
  const ctx = ctxFor(
    'scan-series',
    {
      libraryId,
      path: folder,
      trigger: 'webhook',
      tvdbId: 371980,
      tmdbId: 95396,
      imdbId: 'tt11280740',
      sonarrId: 85,
    },
    2,
  );
  const out = await handleScanSeries(ctx, deps);
  t.match(out, { status: 'created', seasons: 2, episodes: 4, files: 3, unparseable: 0 });
  const row = await db
    .selectFrom('series')
    .selectAll()
    .where('id', '=', out['seriesId'] as number)
    .executeTakeFirstOrThrow();
  t.match(row, {
    tvdb_id: 371980,
    tmdb_id: 95396,
    imdb_id: 'tt11280740',
    sonarr_id: 85,
    title: 'Severance',
    year: 2022,
  });
  t.same(await childJobs(db, ctx.id, 'notify-players'), []);
});

t.test(
  'a library scan of a changed series notifies the library root (coalesced); unchanged, nothing',
  async (t) => {
    const root = t.testdir(show);
    const libraryId = await insertLibrary(db, { path: root, type: 'tv' });
    const folder = path.join(root, 'Severance (2022)');
    const first = ctxFor('scan-series', { libraryId, path: folder, trigger: 'library-scan' }, 8);
    t.match(await handleScanSeries(first, deps), { status: 'created', notified: 'library root' });
    const [notify] = await childJobs(db, first.id, 'notify-players');
    t.match(notify, {
      payload: { libraryId, path: root, change: 'modified' },
      singletonKey: `library-scan:${libraryId}`,
    });
    const again = ctxFor('scan-series', { libraryId, path: folder, trigger: 'library-scan' }, 8);
    t.match(await handleScanSeries(again, deps), { status: 'unchanged' });
    t.same(await childJobs(db, again.id, 'notify-players'), []);
  },
);

t.test('SeriesDelete marks the series removed; a vanished folder marks it missing', async (t) => {
  const root = t.testdir(show);
  const libraryId = await insertLibrary(db, { path: root, type: 'tv' });
  const folder = path.join(root, 'Severance (2022)');
  const created = await handleScanSeries(
    ctxFor('scan-series', { libraryId, path: folder, trigger: 'webhook' }, 2),
    deps,
  );
  await fs.rm(folder, { recursive: true });
  t.match(
    await handleScanSeries(
      ctxFor('scan-series', { libraryId, path: folder, trigger: 'library-scan' }, 8),
      deps,
    ),
    {
      status: 'missing',
      seriesId: created['seriesId'],
    },
  );
  t.match(
    await handleScanSeries(
      ctxFor('scan-series', { libraryId, path: folder, trigger: 'webhook', eventType: 'SeriesDelete' }, 2),
      deps,
    ),
    { status: 'removed', seriesId: created['seriesId'] },
  );
});

t.test('a gone library or a movie library fails permanently', async (t) => {
  const movies = await insertLibrary(db, { path: t.testdir({}), type: 'movie' });
  await t.rejects(
    handleScanSeries(
      ctxFor('scan-series', { libraryId: movies, path: '/x/Show', trigger: 'webhook' }, 2),
      deps,
    ),
    { code: 'NOT_A_TV_LIBRARY', retryable: false },
  );
  await t.rejects(
    handleScanSeries(
      ctxFor('scan-series', { libraryId: 999_999, path: '/x/Show', trigger: 'webhook' }, 2),
      deps,
    ),
    { code: 'LIBRARY_NOT_FOUND', retryable: false },
  );
});
