import t from 'tap';
import { handleWebhook } from '../../src/handlers/webhook.ts';
import {
  childJobs,
  insertLibrary,
  insertPathMapping,
  storeDelivery,
  webhookFixture,
} from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// The webhook handler alone: a stored delivery becomes movie rows and follow-up jobs, read back
// without running them. Folders need not exist: the webhook only maps paths.
const { db, deps, ctxFor } = await startHandlerHarness(t);

const movies = await insertLibrary(db, { path: '/srv/movies', type: 'movie' });
const tv = await insertLibrary(db, { path: '/srv/tv', type: 'tv' });
await insertPathMapping(db, 'radarr', '/movies', '/srv/movies');
await insertPathMapping(db, 'sonarr', '/tv', '/srv/tv');
// A Radarr root that maps into the TV library (a misconfiguration the handler must refuse).
await insertPathMapping(db, 'radarr', '/shows', '/srv/tv');

async function run(source: 'radarr' | 'sonarr', body: Record<string, unknown>) {
  const deliveryId = await storeDelivery(db, source, body);
  const ctx = ctxFor('webhook', { deliveryId, source, eventType: String(body['eventType']) }, 1);
  const out = await handleWebhook(ctx, deps);
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('outcome')
    .where('id', '=', deliveryId)
    .executeTakeFirstOrThrow();
  return { ctx, out, outcome: row.outcome };
}

t.test('a Radarr Download creates one scan-movie with the movie’s ids, a child of the webhook', async (t) => {
  const { ctx, out, outcome } = await run('radarr', await webhookFixture('radarr-download'));

  const [scan, ...more] = await childJobs(db, ctx.id, 'scan-movie');
  t.same(more, [], 'exactly one scan-movie');
  t.same(scan?.payload, {
    libraryId: movies,
    path: '/srv/movies/The Matrix (1999)',
    trigger: 'webhook',
    eventType: 'Download',
    tmdbId: 603,
    imdbId: 'tt0133093',
    title: 'The Matrix',
    year: 1999,
    radarrId: 17,
  });
  t.equal(scan?.priority, 2, 'scan priority (the webhook’s 1 is not inherited)');
  t.same(out, {
    actions: [
      { action: 'scan-movie', libraryId: movies, path: '/srv/movies/The Matrix (1999)', jobId: scan?.id },
    ],
  });
  t.equal(outcome, 'queued 1 job(s)', 'the delivery records its outcome');
  t.same(await childJobs(db, ctx.id, 'notify-players'), []);
});

t.test('a Radarr MovieAdded records the movie without files and queues nothing', async (t) => {
  const { ctx, out, outcome } = await run('radarr', await webhookFixture('radarr-movie-added'));
  t.equal(outcome, 'recorded 1 movie(s)', 'the outcome says what happened, not “queued”');

  const row = await db
    .selectFrom('movies')
    .selectAll()
    .where('path', '=', '/srv/movies/Dune Part Two (2024)')
    .executeTakeFirstOrThrow();
  t.match(row, {
    library_id: movies,
    status: 'no_files',
    tmdb_id: 693134,
    imdb_id: 'tt15239678',
    title: 'Dune: Part Two',
    year: 2024,
    radarr_id: 42,
  });
  t.same(out, {
    actions: [
      { action: 'movie-added', libraryId: movies, path: '/srv/movies/Dune Part Two (2024)', movieId: row.id },
    ],
  });
  t.same(await childJobs(db, ctx.id, 'scan-movie'), []);
  t.same(await childJobs(db, ctx.id, 'notify-players'), []);
});

t.test('a Radarr MovieDelete marks the movie removed and tells the players of the deletion', async (t) => {
  const body = await webhookFixture('radarr-movie-delete');
  body['movie'].folderPath = '/movies/Heat (1995)';
  const movie = await db
    .insertInto('movies')
    .values({ library_id: movies, path: '/srv/movies/Heat (1995)', title: 'Heat', status: 'present' })
    .returning('id')
    .executeTakeFirstOrThrow();

  const { ctx, out } = await run('radarr', body);

  const row = await db
    .selectFrom('movies')
    .select('status')
    .where('id', '=', movie.id)
    .executeTakeFirstOrThrow();
  t.equal(row.status, 'removed', 'the row is kept, marked removed');
  const [notify, ...more] = await childJobs(db, ctx.id, 'notify-players');
  t.same(more, []);
  t.same(notify?.payload, {
    libraryId: movies,
    path: '/srv/movies/Heat (1995)',
    change: 'deleted',
    movieId: movie.id,
  });
  t.equal(notify?.priority, 3);
  t.same(out, {
    actions: [
      {
        action: 'movie-removed',
        libraryId: movies,
        path: '/srv/movies/Heat (1995)',
        movieId: movie.id,
        jobId: notify?.id,
      },
    ],
  });
  t.same(await childJobs(db, ctx.id, 'scan-movie'), [], 'no scan of a deleted movie');
});

t.test(
  'a Sonarr Download notifies the season folder and queues a scan-series with Sonarr’s ids',
  async (t) => {
    const { ctx, out, outcome } = await run('sonarr', await webhookFixture('sonarr-download'));

    const notifies = await childJobs(db, ctx.id, 'notify-players');
    t.same(
      notifies.map((j) => [j.payload, j.parentId]),
      [[{ libraryId: tv, path: '/srv/tv/Severance/Season 02', change: 'created' }, ctx.id]],
    );
    const scans = await childJobs(db, ctx.id, 'scan-series');
    t.same(
      scans.map((j) => [j.payload, j.priority]),
      [
        [
          {
            libraryId: tv,
            path: '/srv/tv/Severance',
            trigger: 'webhook',
            eventType: 'Download',
            tmdbId: 95396,
            tvdbId: 371980,
            imdbId: 'tt11280740',
            title: 'Severance',
            year: 2022,
            sonarrId: 85,
          },
          2,
        ],
      ],
    );
    t.match(out, {
      actions: [
        { action: 'notify-folder', libraryId: tv, jobId: notifies[0]?.id },
        { action: 'scan-series', libraryId: tv, path: '/srv/tv/Severance', jobId: scans[0]?.id },
      ],
    });
    t.equal(outcome, 'queued 2 job(s)');
    t.same(await childJobs(db, ctx.id, 'scan-movie'), []);
  },
);

t.test('Sonarr SeriesDelete tells the players the folder is gone and queues the removal scan', async (t) => {
  const { ctx } = await run('sonarr', await webhookFixture('sonarr-series-delete'));
  t.match(await childJobs(db, ctx.id, 'notify-players'), [
    { payload: { libraryId: tv, path: '/srv/tv/Shogun (2024)', change: 'deleted' } },
  ]);
  t.match(await childJobs(db, ctx.id, 'scan-series'), [
    { payload: { path: '/srv/tv/Shogun (2024)', eventType: 'SeriesDelete', tvdbId: 392573 } },
  ]);
});

t.test('a Sonarr series in a movie library is not scanned as a series', async (t) => {
  await insertPathMapping(db, 'sonarr', '/wrong', '/srv/movies');
  const body = await webhookFixture('sonarr-series-add');
  body['series'].path = '/wrong/Shogun (2024)';
  const { ctx, out } = await run('sonarr', body);
  t.same(await childJobs(db, ctx.id, 'scan-series'), []);
  t.match(out, {
    actions: [{ action: 'notify-folder' }, { action: 'scan-series', skipped: /which is a movie library/ }],
  });
});

t.test('a movie path in no library, or in a TV library, is skipped with the reason', async (t) => {
  const elsewhere = await webhookFixture('radarr-download');
  elsewhere['movie'].folderPath = '/nowhere/Heat (1995)';
  const a = await run('radarr', elsewhere);
  t.match(a.out, { skipped: /^\/nowhere\/Heat \(1995\) is in no library/ });
  t.match(a.outcome, /^skipped: \/nowhere\/Heat \(1995\) is in no library/);

  const inTv = await webhookFixture('radarr-download');
  inTv['movie'].folderPath = '/shows/Heat (1995)';
  const b = await run('radarr', inTv);
  const reason = `/srv/tv/Heat (1995) is in library "tv", which is a tv library`;
  t.same(
    b.out,
    {
      skipped: reason,
      actions: [{ action: 'scan-movie', folderPath: '/shows/Heat (1995)', libraryId: tv, skipped: reason }],
    },
    'the skipped action names its folder and library, like a path in no library names its folder',
  );
  t.equal(b.outcome, `skipped: ${reason}`);

  for (const { ctx } of [a, b]) t.same(await childJobs(db, ctx.id, 'scan-movie'), [], 'no scan-movie');
});

t.test('a file deleted by an upgrade needs no action: skipped, outcome “nothing to do”', async (t) => {
  const { ctx, out, outcome } = await run('radarr', await webhookFixture('radarr-movie-file-delete-upgrade'));
  t.same(out, { skipped: 'the event needs no action', actions: [] });
  t.equal(outcome, 'nothing to do');
  t.same(await childJobs(db, ctx.id, 'scan-movie'), []);
});

t.test('a delivery that is gone or not actionable fails permanently', async (t) => {
  await t.rejects(
    handleWebhook(ctxFor('webhook', { deliveryId: '999999', source: 'radarr', eventType: 'Download' }), deps),
    { code: 'DELIVERY_NOT_FOUND', retryable: false },
  );
  const deliveryId = await storeDelivery(db, 'radarr', await webhookFixture('radarr-test'));
  await t.rejects(
    handleWebhook(ctxFor('webhook', { deliveryId, source: 'radarr', eventType: 'Test' }), deps),
    { code: 'WEBHOOK_NOT_ACTIONABLE', retryable: false },
  );
});
