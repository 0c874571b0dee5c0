import { theMatrix } from '@metarr/testkit';
import t from 'tap';
import { handleEnrichMetadata } from '../../src/handlers/enrichMetadata.ts';
import {
  addMovie,
  cacheTmdbRecord,
  followUpsOf,
  startProviderHarness,
} from '../support/handlerFixtures-b.ts';

// enrich-metadata alone: from the cached TMDB record to the movie's metadata, then select-assets.
// Certification from Germany, so the configured country is visibly the one used.
const { db, deps, depsWith, ctxFor, tmdb } = await startProviderHarness(t, {
  METARR_CERTIFICATION_COUNTRY: 'DE',
});

/** A tv library holding Harbour Lights (TMDB 95001) at `path`, with one episode row. */
async function harbourLightsEpisode(
  test: { testdir: typeof t.testdir },
  libraryName: string,
  path: string,
  seasonNumber: number,
  episodeNumber: number,
) {
  const lib = await db
    .insertInto('libraries')
    .values({ name: libraryName, type: 'tv', path: test.testdir({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const series = await db
    .insertInto('series')
    .values({ library_id: lib.id, path, tmdb_id: 95001 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const season = await db
    .insertInto('seasons')
    .values({ series_id: series.id, number: seasonNumber })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('episodes')
    .values({
      series_id: series.id,
      season_id: season.id,
      season_number: seasonNumber,
      number: episodeNumber,
    })
    .execute();
  return { series, season };
}

const metadataOf = async (movieId: number) =>
  (
    await db
      .selectFrom('movie_metadata')
      .select(['data', 'updated_at'])
      .where('movie_id', '=', movieId)
      .executeTakeFirst()
  )?.data as Record<string, unknown> | undefined;

t.test('the cached record becomes the metadata; one select-assets follows', async (t) => {
  await cacheTmdbRecord(db, theMatrix());
  const movie = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  const ctx = ctxFor('enrich-metadata', { movieId: movie.id });
  const out = await handleEnrichMetadata(ctx, deps);

  t.match(await metadataOf(movie.id), {
    title: 'The Matrix',
    year: 1999,
    certification: '16',
    uniqueIds: { tmdb: 603, imdb: 'tt0133093' },
    cast: [{ name: 'Keanu Reeves', thumb: `${tmdb.imageUrl}/original/keanu-185x278.jpg` }],
  });
  const row = await db
    .selectFrom('movies')
    .select(['title', 'year', 'imdb_id'])
    .where('id', '=', movie.id)
    .executeTakeFirstOrThrow();
  t.same(row, { title: 'The Matrix', year: 1999, imdb_id: 'tt0133093' }, 'the movie row follows');
  const [next, ...more] = await followUpsOf(db, ctx.id);
  t.same(more, [], 'exactly one follow-up');
  t.match(next, { name: 'select-assets', payload: { movieId: movie.id }, parentId: ctx.id, priority: 5 });
  t.match(out, { movieId: movie.id, locked: [], nextJobId: next?.id });
  t.ok(Array.isArray(out.changed) && out.changed.includes('title'), 'reports what changed');
});

t.test('enriching again from the same record reports no change; the check time still advances', async (t) => {
  await cacheTmdbRecord(db, theMatrix());
  const movie = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  await handleEnrichMetadata(ctxFor('enrich-metadata', { movieId: movie.id }), deps);
  const before = await db
    .selectFrom('movie_metadata')
    .select(['data', 'updated_at'])
    .where('movie_id', '=', movie.id)
    .executeTakeFirstOrThrow();

  const out = await handleEnrichMetadata(ctxFor('enrich-metadata', { movieId: movie.id }), deps);

  // Postgres stores jsonb keys in its own order: the comparison must not see that as a change.
  t.same(out.changed, []);
  const after = await db
    .selectFrom('movie_metadata')
    .select(['data', 'updated_at'])
    .where('movie_id', '=', movie.id)
    .executeTakeFirstOrThrow();
  t.same(after.data, before.data);
  t.ok(
    after.updated_at.getTime() > before.updated_at.getTime(),
    'checked now, so the scheduled provider update does not see it as stale',
  );
});

t.test('a locked field keeps its stored value and is reported as locked', async (t) => {
  await cacheTmdbRecord(db, theMatrix());
  const movie = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  await handleEnrichMetadata(ctxFor('enrich-metadata', { movieId: movie.id }), deps);
  const stored = (await metadataOf(movie.id)) as Record<string, unknown>;
  await db
    .updateTable('movie_metadata')
    .set({ data: JSON.stringify({ ...stored, title: 'My Matrix', tagline: 'Mine.' }) })
    .where('movie_id', '=', movie.id)
    .execute();
  await db.insertInto('movie_field_locks').values({ movie_id: movie.id, field: 'title' }).execute();

  const ctx = ctxFor('enrich-metadata', { movieId: movie.id }, 9);
  const out = await handleEnrichMetadata(ctx, deps);
  t.match(await metadataOf(movie.id), { title: 'My Matrix', tagline: 'Welcome to the Real World.' });
  t.same(out.locked, ['title']);
  t.ok(Array.isArray(out.changed) && out.changed.includes('tagline'), 'the unlocked edit is undone');
  t.notOk(Array.isArray(out.changed) && out.changed.includes('title'), 'the locked one is no change');
  t.match(await followUpsOf(db, ctx.id), [{ name: 'select-assets', priority: 9 }]);
});

t.test('an expired cache entry is still enriched from', async (t) => {
  const record = { ...theMatrix(), id: 604, title: 'Old Answer' };
  await cacheTmdbRecord(db, record, { expired: true });
  const movie = await addMovie(t, db, { fields: { tmdb_id: 604 } });
  const ctx = ctxFor('enrich-metadata', { movieId: movie.id });
  await handleEnrichMetadata(ctx, deps);
  t.match(await metadataOf(movie.id), { title: 'Old Answer' });
  t.match(await followUpsOf(db, ctx.id), [{ name: 'select-assets' }]);
});

t.test('no cached record in the configured language fails permanently (PROVIDER_DATA_MISSING)', async (t) => {
  await cacheTmdbRecord(db, { ...theMatrix(), id: 605 }, { language: 'de' });
  const movie = await addMovie(t, db, { fields: { tmdb_id: 605 } });
  const ctx = ctxFor('enrich-metadata', { movieId: movie.id });
  await t.rejects(handleEnrichMetadata(ctx, deps), { code: 'PROVIDER_DATA_MISSING', retryable: false });
  t.equal(await metadataOf(movie.id), undefined, 'no metadata written');
  t.same(await followUpsOf(db, ctx.id), []);
});

t.test('a movie without a TMDB id, or gone, fails permanently and creates nothing', async (t) => {
  const movie = await addMovie(t, db, { fields: { tmdb_id: null } });
  const unidentified = ctxFor('enrich-metadata', { movieId: movie.id });
  await t.rejects(handleEnrichMetadata(unidentified, deps), {
    code: 'MOVIE_NOT_IDENTIFIED',
    retryable: false,
  });
  t.same(await followUpsOf(db, unidentified.id), []);

  const gone = ctxFor('enrich-metadata', { movieId: 999_999 });
  await t.rejects(handleEnrichMetadata(gone, deps), { code: 'MOVIE_NOT_FOUND', retryable: false });
  t.same(await followUpsOf(db, gone.id), []);
});

t.test('the media-item payload: {kind: "movie", id} runs as the old {movieId} does', async (t) => {
  await cacheTmdbRecord(db, theMatrix());
  const movie = await addMovie(t, db, { fields: { tmdb_id: 603 } });
  const ctx = ctxFor('enrich-metadata', { kind: 'movie', id: movie.id });
  const out = await handleEnrichMetadata(ctx, deps);
  t.match(out, { movieId: movie.id });
  t.match(await followUpsOf(db, ctx.id), [{ name: 'select-assets', payload: { movieId: movie.id } }]);
});

t.test(
  '{kind: "series", id} fills the series and its episodes from TMDB; publish of the series follows',
  async (t) => {
    const { series } = await harbourLightsEpisode(t, 'TV', '/tv/Harbour Lights', 1, 1);
    const ctx = ctxFor('enrich-metadata', { kind: 'series', id: series.id });
    const out = await handleEnrichMetadata(ctx, deps);
    t.match(out, { seriesId: series.id, tmdbId: 95001, seasons: 1, episodesUpdated: 3 });
    const titles = await db
      .selectFrom('episodes')
      .select('title')
      .where('series_id', '=', series.id)
      .orderBy('number')
      .execute();
    t.same(
      titles.map((e) => e.title),
      ['Arrival (1)', 'Arrival (2)', 'Fish & Chips <Special>'],
    );
    t.match(await followUpsOf(db, ctx.id), [{ name: 'publish', payload: { kind: 'series', id: series.id } }]);
  },
);

t.test(
  'a series with a placeholder episode gets a recheck at its next check; a recheck not yet due stops',
  async (t) => {
    const { series, season } = await harbourLightsEpisode(t, 'TV 2', '/tv2/Harbour Lights', 2, 2);
    const ctx = ctxFor('enrich-metadata', { kind: 'series', id: series.id });
    const out = await handleEnrichMetadata(ctx, deps);
    t.match(out, { placeholders: 1 });
    const ep = await db
      .selectFrom('episodes')
      .select('placeholder_next_check')
      .where('season_id', '=', season.id)
      .where('number', '=', 2)
      .executeTakeFirstOrThrow();
    const recheck = (await followUpsOf(db, ctx.id)).find((f) => f.name === 'enrich-metadata');
    t.match(recheck, { payload: { kind: 'series', id: series.id, recheck: true } });
    t.strictSame(recheck?.startAfter, ep.placeholder_next_check, 'starts at the episode’s next check');

    // Run now, before it is due: nothing fetched, no further recheck (the planned one stays the only one).
    const early = ctxFor('enrich-metadata', { kind: 'series', id: series.id, recheck: true });
    t.match(await handleEnrichMetadata(early, deps), { skipped: /no placeholder check is due/ });
    t.same(await followUpsOf(db, early.id), []);
  },
);

t.test('METARR_PLACEHOLDER_RECHECK_SECONDS sets how far off the first placeholder recheck is', async (t) => {
  const { series } = await harbourLightsEpisode(t, 'TV 3', '/tv3/Harbour Lights', 2, 2);
  // S02E02 aired 2026-12-06; at noon that day the first recheck is the configured delay from now.
  const now = new Date('2026-12-06T12:00:00Z');
  const ctx = ctxFor('enrich-metadata', { kind: 'series', id: series.id });
  await handleEnrichMetadata(ctx, {
    ...depsWith({ METARR_PLACEHOLDER_RECHECK_SECONDS: '900' }),
    clock: () => now,
  });
  const recheck = (await followUpsOf(db, ctx.id)).find((f) => f.name === 'enrich-metadata');
  t.strictSame(recheck?.startAfter, new Date(now.getTime() + 900_000), 'first recheck 15 min away');
});
