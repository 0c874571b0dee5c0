import { DEFAULT_SCHEDULES, writeScheduleSettings } from '@metarr/core';
import t from 'tap';
import { handleScheduledProviderUpdate } from '../../src/handlers/scheduledProviderUpdate.ts';
import {
  addMovie,
  followUpsOf,
  type MovieFields,
  startProviderHarness,
  type TestT,
} from '../support/handlerFixtures-b.ts';

// scheduled-provider-update alone: which movies a tick sends back to fetch-provider-assets.
// The worker's clock is fixed, so every age below is exact.
const NOW = new Date('2027-03-01T03:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

const { db, deps, ctxFor, depsWith } = await startProviderHarness(t, {}, { clock: () => NOW });

t.beforeEach(async () => {
  await db.deleteFrom('movies').execute();
  await db.deleteFrom('libraries').execute();
  await db.deleteFrom('settings').where('key', '=', 'schedules').execute();
});

/** The movie ids of a job's follow-ups, ascending (one insert: no order among them). */
const refreshed = async (parentId: string) =>
  (await followUpsOf(db, parentId)).map((j) => j.payload.movieId as number).sort((a, b) => a - b);

/** A present movie whose provider data was last written `days` ago (null: never enriched). */
async function movie(t: TestT, enrichedDaysAgo: number | null, fields: MovieFields = {}) {
  const m = await addMovie(t, db, { fields: { tmdb_id: 603, last_scanned_at: ago(1), ...fields } });
  if (enrichedDaysAgo !== null)
    await db
      .insertInto('movie_metadata')
      .values({ movie_id: m.id, data: '{}', updated_at: ago(enrichedDaysAgo) })
      .execute();
  return m.id;
}

t.test('movies with provider data older than 30 days get one bulk fetch-provider-assets each', async (t) => {
  const stale = await movie(t, 31);
  await movie(t, 29);
  const neverEnriched = await movie(t, null, { last_scanned_at: ago(40) });
  const neverScanned = await movie(t, null, { last_scanned_at: null, created_at: ago(40) });
  await movie(t, null, { last_scanned_at: ago(1), created_at: ago(400) });
  await movie(t, 31, { status: 'missing' });

  const ctx = ctxFor('scheduled-provider-update', {});
  const out = await handleScheduledProviderUpdate(ctx, deps);
  const jobs = await followUpsOf(db, ctx.id);
  t.same(
    await refreshed(ctx.id),
    [stale, neverEnriched, neverScanned],
    'stale by metadata age, or by the last scan when never enriched; present movies only',
  );
  t.ok(
    jobs.every((j) => j.name === 'fetch-provider-assets' && j.priority === 9 && j.parentId === ctx.id),
    'each a fetch-provider-assets at bulk priority 9, child of the tick',
  );
  t.same(out, { stale: 3, refreshJobs: 3, cutoff: ago(30).toISOString() });
});

t.test("the stored schedule's staleAfterDays sets the cutoff", async (t) => {
  const a = await movie(t, 31);
  const b = await movie(t, 8);
  await movie(t, 6);
  await writeScheduleSettings(db, {
    ...DEFAULT_SCHEDULES,
    providerUpdate: { ...DEFAULT_SCHEDULES.providerUpdate, staleAfterDays: 7 },
  });
  const ctx = ctxFor('scheduled-provider-update', {});
  const out = await handleScheduledProviderUpdate(ctx, deps);
  t.same(await refreshed(ctx.id), [a, b]);
  t.same(out, { stale: 2, refreshJobs: 2, cutoff: ago(7).toISOString() });
});

t.test('nothing stale: a tick that creates no job', async (t) => {
  await movie(t, 1);
  const ctx = ctxFor('scheduled-provider-update', {});
  t.same(await handleScheduledProviderUpdate(ctx, deps), {
    stale: 0,
    refreshJobs: 0,
    cutoff: ago(30).toISOString(),
  });
  t.same(await followUpsOf(db, ctx.id), []);
});

t.test('without a TMDB key the tick is skipped with the reason, creating no job', async (t) => {
  await movie(t, 31);
  const ctx = ctxFor('scheduled-provider-update', {});
  t.same(await handleScheduledProviderUpdate(ctx, depsWith({ TMDB_API_KEY: undefined })), {
    skipped: 'no TMDB API key configured',
  });
  t.same(await followUpsOf(db, ctx.id), []);
});

t.test('a retried tick (same job, next attempt) queues no movie a second time', async (t) => {
  const a = await movie(t, 31);
  const b = await movie(t, 40);
  const first = ctxFor('scheduled-provider-update', {});
  await handleScheduledProviderUpdate(first, deps);
  t.same(
    await refreshed(first.id),
    [a, b].sort((x, y) => x - y),
  );

  // The first attempt expired after queueing (a worker killed, say): the retry runs the same query.
  const retry = ctxFor('scheduled-provider-update', {}, 9, { id: first.id, retryCount: 1 });
  await handleScheduledProviderUpdate(retry, deps);
  t.same(
    await refreshed(first.id),
    [a, b].sort((x, y) => x - y),
    'still one job per movie',
  );
});
