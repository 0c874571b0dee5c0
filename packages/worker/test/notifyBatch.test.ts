import { createJobInspector, createJobQueue, silentLogger } from '@metarr/core';
import { startFakePlex, waitFor } from '@metarr/testkit';
import t from 'tap';
import type { BatchJobHandler } from '../src/context.ts';
import { batchHandlers, handlers } from '../src/handlers/index.ts';
import { startWorkerRuntime } from '../src/runtime.ts';
import { depsWithEnv, fakeJellyfin, insertGroup, insertLibrary } from './support/handlerFixtures-a.ts';
import { startTestRuntime } from './support/runtime.ts';

// Player notifications through the runtime's batch path: a fetch of several notify-players jobs
// fans out in one transaction, a fetch of several notify-group jobs notifies them in one handler
// call, and still every job succeeds, fails and retries alone.
const { rt, db } = await startTestRuntime(t);

t.test(
  'a batch of notify-group jobs: the player that is down retries alone, the healthy ones are told once and never again',
  async (t) => {
    const healthy = await fakeJellyfin(t);
    const flaky = await fakeJellyfin(t);
    const plex = await startFakePlex({
      sections: [{ key: '1', type: 'movie', title: 'Movies', locations: ['/data/batch'] }],
    });
    t.teardown(() => plex.close());
    const libraryId = await insertLibrary(db, { path: '/data/batch', type: 'movie' });
    // Not a shared library: one notify-group job per player.
    const jfGroup = await insertGroup(db, {
      type: 'jellyfin',
      libraryIds: [libraryId],
      players: [
        { url: healthy.url, apiKey: healthy.apiKey },
        { url: flaky.url, apiKey: flaky.apiKey },
      ],
    });
    const plexGroup = await insertGroup(db, {
      type: 'plex',
      libraryIds: [libraryId],
      players: [{ url: plex.url, apiKey: plex.token }],
    });
    const [healthyId, flakyId] = jfGroup.playerIds as [number, number];
    flaky.setMode('500');

    const log = silentLogger;
    const queue = createJobQueue({ boss: rt.boss, db, log });
    const folders = ['A (2001)', 'B (2002)', 'C (2003)', 'D (2004)'];
    // Queued before the worker starts, so its fetches take several at once.
    await queue.enqueueAll(
      'notify-players',
      folders.map((f) => ({ payload: { libraryId, path: `/data/batch/${f}`, change: 'modified' as const } })),
    );

    const sizes: Record<'notify-players' | 'notify-group', number[]> = {
      'notify-players': [],
      'notify-group': [],
    };
    const recorded = <N extends 'notify-players' | 'notify-group'>(
      name: N,
      h: BatchJobHandler<N>,
    ): BatchJobHandler<N> =>
      Object.assign(
        async (batch: Parameters<BatchJobHandler<N>>[0], deps: Parameters<BatchJobHandler<N>>[1]) => {
          sizes[name].push(batch.jobs.length);
          return h(batch, deps);
        },
        { urgent: h.urgent, players: h.players },
      );
    const deps = depsWithEnv({ METARR_NOTIFY_RETRY_DELAY_SECONDS: '1' })(db, log);
    await startWorkerRuntime({
      boss: rt.boss,
      db,
      log,
      handlers,
      batchHandlers: {
        'notify-players': recorded('notify-players', batchHandlers['notify-players'] as never),
        'notify-group': recorded('notify-group', batchHandlers['notify-group'] as never),
      },
      deps,
      concurrency: 4,
      queues: ['notify-players', 'notify-group'],
    });
    t.teardown(async () => {
      await rt.boss.offWork('notify-players');
      await rt.boss.offWork('notify-group');
    });

    const jobs = createJobInspector(db);
    const told = (updates: { path: string }[]) =>
      updates.map((u) => u.path.replace('/data/batch/', '')).sort();
    await waitFor('the healthy players told and the failing one waiting to retry', async () => {
      const retrying = await jobs.count({ types: ['notify-group'], states: ['retry'] });
      return told(healthy.updates).length === 4 && plex.refreshes.length === 4 && retrying === 4;
    });
    t.ok(
      Math.max(...sizes['notify-players'], ...sizes['notify-group']) > 1,
      'the batch path ran (a fetch of more than one job)',
    );
    const outages = await db.selectFrom('player_outages').select('player_id').execute();
    t.same(
      outages.map((o) => o.player_id),
      [flakyId],
      'one outage recorded, for the failing player',
    );

    flaky.setMode('ok');
    await waitFor('every notification done', async () => {
      const left = await jobs.count({
        types: ['notify-players', 'notify-group'],
        states: ['created', 'retry', 'active'],
      });
      return left === 0 && flaky.updates.length >= 4;
    });
    t.same(told(healthy.updates), folders, 'the healthy player was told each folder once, never again');
    t.same(told(flaky.updates), folders, 'the failing player each folder once, on its retry');
    t.same(plex.refreshes.map((r) => r.path?.replace('/data/batch/', '')).sort(), folders);
    t.equal(
      plex.calls.filter((c) => c.path === '/library/sections').length <= 4,
      true,
      'the Plex section list is never read more than once per notification',
    );
    const rows = await jobs.rows({ types: ['notify-group'] });
    t.equal(rows.length, 12, 'one job per player and folder');
    for (const r of rows) {
      const out = r.output as { notified?: number[] };
      const p = r.data as { payload: { playerIds?: number[]; groupId: number } };
      t.equal(r.state, 'completed');
      t.same(
        out.notified,
        p.payload.playerIds ?? [plexGroup.playerIds[0]],
        'each job reports its own player',
      );
      t.equal(
        r.retry_count,
        p.payload.playerIds?.[0] === flakyId ? 1 : 0,
        'only the failing player’s jobs retried',
      );
    }
    t.ok(
      rows.some(
        (r) => (r.data as { payload: { playerIds?: number[] } }).payload.playerIds?.[0] === healthyId,
      ),
    );
    t.same(await db.selectFrom('player_outages').select('player_id').execute(), [], 'the outage ended');
  },
);
