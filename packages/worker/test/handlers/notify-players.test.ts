import type { JobPayload } from '@metarr/core';
import t from 'tap';
import { handleNotifyPlayers } from '../../src/handlers/notifyPlayers.ts';
import { childJobs, depsWithEnv, insertGroup, insertLibrary } from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// notify-players alone: the fan-out of one changed folder into notify-group jobs, read back
// without running them. It calls no player, so the players' addresses are never used.
const { rt, db, deps, ctxFor } = await startHandlerHarness(t, {
  deps: depsWithEnv({ METARR_NOTIFY_RETRY_DELAY_SECONDS: '7', METARR_NOTIFY_DEFER_SECONDS: '90' }),
});
const nowhere = 'http://127.0.0.1:9';
let n = 0;
const library = () => insertLibrary(db, { path: `/data/lib${++n}` });

t.test(
  'one notify-group per player of a group, one per shared group, only for enabled players',
  async (t) => {
    const libraryId = await library();
    const perPlayer = await insertGroup(db, {
      type: 'jellyfin',
      debounceSeconds: 10,
      libraryIds: [libraryId],
      players: [{ url: nowhere }, { url: nowhere }],
    });
    const shared = await insertGroup(db, {
      type: 'kodi',
      sharedLibrary: true,
      debounceSeconds: 0,
      libraryIds: [libraryId],
      players: [{ url: nowhere }, { url: nowhere }],
    });
    const single = await insertGroup(db, {
      type: 'plex',
      debounceSeconds: 5,
      libraryIds: [libraryId],
      players: [{ url: nowhere }, { url: nowhere, enabled: false }],
    });
    await insertGroup(db, { type: 'emby', libraryIds: [await library()], players: [{ url: nowhere }] });
    const path = `/data/lib${libraryId}/Heat (1995)`;
    const ctx = ctxFor('notify-players', { libraryId, path, change: 'created', movieId: 4 }, 3);

    const out = await handleNotifyPlayers(ctx, deps);

    const jobs = await childJobs(db, ctx.id, 'notify-group');
    const fanout = (out as { fanout: { jobId: string }[] }).fanout;
    // One transaction: the jobs share a creation time, so the fanout gives their order.
    const byId = new Map(jobs.map((j) => [j.id, j]));
    t.equal(jobs.length, 4, 'the other library’s group gets nothing');
    t.same(out, {
      fanout: [
        { groupId: perPlayer.groupId, playerIds: [perPlayer.playerIds[0]], jobId: fanout[0]?.jobId },
        { groupId: perPlayer.groupId, playerIds: [perPlayer.playerIds[1]], jobId: fanout[1]?.jobId },
        { groupId: shared.groupId, jobId: fanout[2]?.jobId },
        { groupId: single.groupId, jobId: fanout[3]?.jobId },
      ],
    });
    const base = { libraryId, path, change: 'created', movieId: 4 };
    t.same(
      fanout.map((f) => byId.get(f.jobId)?.payload),
      [
        { ...base, groupId: perPlayer.groupId, windowSeconds: 10, playerIds: [perPlayer.playerIds[0]] },
        { ...base, groupId: perPlayer.groupId, windowSeconds: 10, playerIds: [perPlayer.playerIds[1]] },
        { ...base, groupId: shared.groupId, windowSeconds: 0 },
        { ...base, groupId: single.groupId, windowSeconds: 5 },
      ],
    );
    t.same(
      jobs.map((j) => [j.parentId, j.priority]),
      jobs.map(() => [ctx.id, 3]),
      'each is a child of this job, at notification priority',
    );
    const job = await rt.boss.getJobById('notify-group', jobs[0]?.id as string);
    t.equal(job?.retryDelay, deps.config.notifyRetryDelaySeconds, 'notification retry delay');
  },
);

t.test('an equal notification that has not started covers a new one: its fanout says null', async (t) => {
  const libraryId = await library();
  const coalesced = await insertGroup(db, {
    type: 'jellyfin',
    debounceSeconds: 30,
    libraryIds: [libraryId],
    players: [{ url: nowhere }],
  });
  const uncoalesced = await insertGroup(db, {
    type: 'jellyfin',
    debounceSeconds: 0,
    libraryIds: [libraryId],
    players: [{ url: nowhere }],
  });
  const payload = { libraryId, path: `/data/lib${libraryId}/Heat (1995)`, change: 'modified' as const };
  const first = ctxFor('notify-players', payload, 3);
  await handleNotifyPlayers(first, deps);
  const second = ctxFor('notify-players', payload, 3);

  const out = await handleNotifyPlayers(second, deps);

  const jobs = await childJobs(db, second.id, 'notify-group');
  t.same(out, {
    fanout: [
      { groupId: coalesced.groupId, jobId: null },
      { groupId: uncoalesced.groupId, jobId: jobs[0]?.id },
    ],
  });
  t.same(
    jobs.map((j) => j.payload['groupId']),
    [uncoalesced.groupId],
    'only the group without a window got a second job',
  );
});

t.test('a library-root notification at bulk priority fans out at that priority', async (t) => {
  const libraryId = await library();
  await insertGroup(db, { type: 'jellyfin', libraryIds: [libraryId], players: [{ url: nowhere }] });
  const ctx = ctxFor('notify-players', { libraryId, path: `/data/lib${libraryId}`, change: 'modified' }, 8);
  await handleNotifyPlayers(ctx, deps);
  t.same(
    (await childJobs(db, ctx.id, 'notify-group')).map((j) => j.priority),
    [8],
  );
});

t.test('a library that is gone or linked to no player group is skipped with the reason', async (t) => {
  const gone = ctxFor('notify-players', { libraryId: 999_999, path: '/data/x/A (2001)', change: 'created' });
  t.same(await handleNotifyPlayers(gone, deps), { skipped: 'library 999999 no longer exists' });
  const libraryId = await library();
  const unlinked = ctxFor('notify-players', { libraryId, path: '/data/x/A (2001)', change: 'created' });
  t.same(await handleNotifyPlayers(unlinked, deps), {
    skipped: `no player group is linked to library ${libraryId}`,
  });
  t.same(await childJobs(db, gone.id, 'notify-group'), []);
  t.same(await childJobs(db, unlinked.id, 'notify-group'), []);
});

t.test('a job queued with one group’s payload is forwarded to notify-group as is, uncoalesced', async (t) => {
  const libraryId = await library();
  const { groupId } = await insertGroup(db, {
    type: 'jellyfin',
    debounceSeconds: 30,
    libraryIds: [libraryId],
    players: [{ url: nowhere }, { url: nowhere }],
  });
  const payload = {
    libraryId,
    path: `/data/lib${libraryId}/Heat (1995)`,
    change: 'created' as const,
    groupId,
    windowSeconds: 30,
  };
  const ctx = ctxFor('notify-players', payload as JobPayload<'notify-players'>, 3);

  const out = await handleNotifyPlayers(ctx, deps);

  const jobs = await childJobs(db, ctx.id, 'notify-group');
  t.same(out, { forwardedTo: jobs[0]?.id });
  t.same(
    jobs.map((j) => j.payload),
    [payload],
    'one job, for that group only (not one per player)',
  );
  t.equal(jobs[0]?.singletonKey, null, 'it already waited out its window: no coalescing');
  const job = await rt.boss.getJobById('notify-group', jobs[0]?.id as string);
  t.equal(job?.retryDelay, deps.config.notifyRetryDelaySeconds);
});
