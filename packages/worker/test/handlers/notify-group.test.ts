import t from 'tap';
import { handleNotifyGroup } from '../../src/handlers/notifyGroup.ts';
import {
  childJobs,
  depsWithEnv,
  fakeJellyfin,
  fakeKodi,
  insertGroup,
  insertLibrary,
} from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// notify-group alone: one group (or some of its players) told about one folder, against fake
// players on 127.0.0.1. Follow-ups are read back, never run.
const { rt, db, deps, ctxFor } = await startHandlerHarness(t, {
  deps: depsWithEnv({ METARR_NOTIFY_RETRY_DELAY_SECONDS: '7', METARR_NOTIFY_DEFER_SECONDS: '90' }),
});
let n = 0;
/** A library of its own per test (the database is shared by the file). */
const library = (type: 'movie' | 'music' = 'movie') => insertLibrary(db, { path: `/data/lib${++n}`, type });

t.test(
  'a Jellyfin group is told the folder in its own form and the job reports who was notified',
  async (t) => {
    const jf = await fakeJellyfin(t);
    const libraryId = await library();
    const { groupId, playerIds } = await insertGroup(db, {
      type: 'jellyfin',
      libraryIds: [libraryId],
      mappings: [{ from: `/data/lib${n}`, to: '/media/movies' }],
      players: [{ url: jf.url, apiKey: jf.apiKey }],
    });
    const ctx = ctxFor(
      'notify-group',
      { libraryId, path: `/data/lib${n}/Heat (1995)`, change: 'created', groupId },
      3,
    );

    const out = await handleNotifyGroup(ctx, deps);

    t.same(out, { groupId, folder: '/media/movies/Heat (1995)', notified: playerIds, failures: [] });
    t.same(jf.updates, [{ flavor: 'jellyfin', path: '/media/movies/Heat (1995)', updateType: 'Created' }]);
    t.same(await childJobs(db, ctx.id, 'notify-group'), [], 'no follow-up');
  },
);

t.test('a player answering 500 fails the job retryably; a 401 fails it for good', async (t) => {
  const jf = await fakeJellyfin(t);
  const libraryId = await library();
  const { groupId, playerIds } = await insertGroup(db, {
    type: 'jellyfin',
    libraryIds: [libraryId],
    players: [{ url: jf.url, apiKey: jf.apiKey }],
  });
  const payload = { libraryId, path: `/data/lib${n}/Heat (1995)`, change: 'modified' as const, groupId };

  jf.setMode('500');
  await t.rejects(handleNotifyGroup(ctxFor('notify-group', payload), deps), {
    code: 'NOTIFY_GROUP_FAILED',
    retryable: true,
    details: {
      groupId,
      failures: [{ playerId: playerIds[0], code: 'PLAYER_SERVER_ERROR', retryable: true }],
    },
  });
  jf.setMode('401');
  await t.rejects(handleNotifyGroup(ctxFor('notify-group', payload), deps), {
    code: 'NOTIFY_GROUP_FAILED',
    retryable: false,
    details: { failures: [{ playerId: playerIds[0], code: 'PLAYER_AUTH', retryable: false }] },
  });
});

t.test(
  'a shared library is told by its first reachable member; a failed one is reported, not fatal',
  async (t) => {
    const down = await fakeJellyfin(t);
    const up = await fakeJellyfin(t);
    down.setMode('500');
    const libraryId = await library();
    const { groupId, playerIds } = await insertGroup(db, {
      type: 'jellyfin',
      sharedLibrary: true,
      libraryIds: [libraryId],
      players: [
        { url: down.url, apiKey: down.apiKey },
        { url: up.url, apiKey: up.apiKey },
      ],
    });
    const out = await handleNotifyGroup(
      ctxFor('notify-group', { libraryId, path: `/data/lib${n}/Heat (1995)`, change: 'modified', groupId }),
      deps,
    );
    t.match(out, {
      groupId,
      notified: [playerIds[1]],
      failures: [{ playerId: playerIds[0], code: 'PLAYER_SERVER_ERROR' }],
    });
    t.equal(up.updates.length, 1, 'the reachable member was told once');
  },
);

t.test(
  'a playing Kodi (scanWhilePlaying=defer) is not scanned: a deferred notify-group follows',
  async (t) => {
    const playing = await fakeKodi(t);
    const idle = await fakeKodi(t);
    playing.setPlaying(true);
    const libraryId = await library();
    const { groupId, playerIds } = await insertGroup(db, {
      type: 'kodi',
      debounceSeconds: 15,
      scanWhilePlaying: 'defer',
      libraryIds: [libraryId],
      players: [{ url: playing.url }, { url: idle.url }],
    });
    const path = `/data/lib${n}/Heat (1995)`;
    const ctx = ctxFor('notify-group', { libraryId, path, change: 'created', movieId: 7, groupId }, 3);
    const before = Date.now();

    const out = await handleNotifyGroup(ctx, deps);

    t.equal(
      playing.calls.filter((c) => c.method === 'VideoLibrary.Scan').length,
      0,
      'the playing Kodi got no scan',
    );
    t.match(
      idle.calls.filter((c) => c.method === 'VideoLibrary.Scan').map((c) => c.params),
      [{ directory: `${path}/` }],
      'the idle one was scanned',
    );
    const [next, ...more] = await childJobs(db, ctx.id, 'notify-group');
    t.same(more, [], 'one deferred job');
    t.same(out, {
      groupId,
      folder: path,
      notified: [playerIds[1]],
      failures: [],
      deferred: {
        playerIds: [playerIds[0]],
        retryInSeconds: deps.config.notifyDeferSeconds,
        jobId: next?.id,
      },
    });
    t.same(next?.payload, {
      libraryId,
      path,
      change: 'created',
      movieId: 7,
      groupId,
      windowSeconds: 15,
      playerIds: [playerIds[0]],
      deferrals: 1,
    });
    t.equal(next?.parentId, ctx.id);
    t.equal(next?.priority, 3);
    const waits = ((next?.startAfter.getTime() ?? 0) - before) / 1000;
    t.ok(
      waits >= deps.config.notifyDeferSeconds - 5 && waits <= deps.config.notifyDeferSeconds + 5,
      `it starts after the defer period (${waits} s)`,
    );
    const job = await rt.boss.getJobById('notify-group', next?.id as string);
    t.equal(job?.retryDelay, deps.config.notifyRetryDelaySeconds, 'notification retry delay');
    t.match(job?.singletonKey, /:deferred$/, 'deferrals of the folder fold together');
  },
);

t.test(
  'a playing Kodi is scanned anyway with scanWhilePlaying=always or after 6 h of deferrals',
  async (t) => {
    const kodi = await fakeKodi(t);
    kodi.setPlaying(true);
    const always = await library();
    const a = await insertGroup(db, {
      type: 'kodi',
      scanWhilePlaying: 'always',
      libraryIds: [always],
      players: [{ url: kodi.url }],
    });
    const ctxA = ctxFor('notify-group', {
      libraryId: always,
      path: '/data/x/A (2001)',
      change: 'created',
      groupId: a.groupId,
    });
    t.match(await handleNotifyGroup(ctxA, deps), { notified: a.playerIds, failures: [] });

    const deferring = await library();
    const d = await insertGroup(db, {
      type: 'kodi',
      scanWhilePlaying: 'defer',
      libraryIds: [deferring],
      players: [{ url: kodi.url }],
    });
    const maxDeferrals = (6 * 3600) / deps.config.notifyDeferSeconds;
    const ctxD = ctxFor('notify-group', {
      libraryId: deferring,
      path: '/data/x/D (2002)',
      change: 'created',
      groupId: d.groupId,
      deferrals: maxDeferrals,
    });
    t.match(await handleNotifyGroup(ctxD, deps), { notified: d.playerIds, failures: [] });

    t.equal(kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').length, 2, 'two scans');
    t.same(await childJobs(db, ctxA.id, 'notify-group'), [], 'no deferral');
    t.same(await childJobs(db, ctxD.id, 'notify-group'), [], 'no deferral');
  },
);

t.test(
  'a music library is scanned as music; a delete with cleaning off has nothing to tell Kodi',
  async (t) => {
    const kodi = await fakeKodi(t);
    const libraryId = await library('music');
    const { groupId } = await insertGroup(db, {
      type: 'kodi',
      cleanAfterDelete: false,
      libraryIds: [libraryId],
      players: [{ url: kodi.url }],
    });
    const path = `/data/lib${n}/Artist`;
    await handleNotifyGroup(ctxFor('notify-group', { libraryId, path, change: 'created', groupId }), deps);
    const libraryCalls = () => kodi.calls.filter((c) => c.method.includes('Library.')).map((c) => c.method);
    t.same(libraryCalls(), ['AudioLibrary.Scan']);
    const out = await handleNotifyGroup(
      ctxFor('notify-group', { libraryId, path, change: 'deleted', groupId }),
      deps,
    );
    t.match(out, { groupId, folder: path, skipped: /cleanAfterDelete is off/ });
    t.same(libraryCalls(), ['AudioLibrary.Scan'], 'no clean for the delete');
  },
);

t.test(
  'a library or group that is gone, or players no longer enabled, skip the job without a call',
  async (t) => {
    const jf = await fakeJellyfin(t);
    const libraryId = await library();
    const { groupId, playerIds } = await insertGroup(db, {
      type: 'jellyfin',
      libraryIds: [libraryId],
      players: [
        { url: jf.url, apiKey: jf.apiKey },
        { url: jf.url, apiKey: jf.apiKey, enabled: false },
      ],
    });
    const other = await insertGroup(db, { type: 'jellyfin', libraryIds: [await library()] });
    const path = '/data/x/Heat (1995)';
    const run = (p: { libraryId: number; groupId: number; playerIds?: number[] }) =>
      handleNotifyGroup(ctxFor('notify-group', { path, change: 'created', ...p }), deps);

    t.same(await run({ libraryId: 999_999, groupId }), { skipped: 'library 999999 no longer exists' });
    t.same(await run({ libraryId, groupId: other.groupId }), {
      skipped: `player group ${other.groupId} is gone or no longer linked to library ${libraryId}`,
    });
    t.same(await run({ libraryId, groupId, playerIds: [playerIds[1] as number] }), {
      groupId,
      skipped: 'none of its players is enabled any more',
    });
    t.equal(jf.calls.length, 0, 'no player was called');
    // The enabled one still is told (the skips above were not the group's fault).
    await t.resolves(run({ libraryId, groupId }));
    t.equal(jf.updates.length, 1);
  },
);

t.test(
  'after a republish (refresh), a Kodi holding the movie’s file refreshes it; a deferral keeps the refresh',
  async (t) => {
    const holder = await fakeKodi(t);
    const playing = await fakeKodi(t);
    playing.setPlaying(true);
    const libraryId = await library();
    const path = `/data/lib${n}/Heat (1995)`;
    const movie = await db
      .insertInto('movies')
      .values({ library_id: libraryId, path, title: 'Heat', video_file: 'Heat (1995).mkv' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const held = holder.addMovie(`${path}/Heat (1995).mkv`);
    const { groupId, playerIds } = await insertGroup(db, {
      type: 'kodi',
      scanWhilePlaying: 'defer',
      libraryIds: [libraryId],
      players: [{ url: holder.url }, { url: playing.url }],
    });
    const payload = {
      libraryId,
      path,
      change: 'modified' as const,
      movieId: movie.id,
      groupId,
      refresh: true,
    };
    const ctx = ctxFor('notify-group', payload, 3);

    const out = await handleNotifyGroup(ctx, deps);

    t.match(out, { groupId, notified: [playerIds[0]], refreshed: [playerIds[0]], failures: [] });
    t.same(holder.refreshes, [{ movieid: held.movieid, ignorenfo: false }]);
    t.notOk(
      holder.calls.some((c) => c.method === 'VideoLibrary.Scan'),
      'refreshed instead of scanned',
    );
    const [next] = await childJobs(db, ctx.id, 'notify-group');
    t.match(next?.payload, { playerIds: [playerIds[1]], deferrals: 1, refresh: true });
  },
);
