/**
 * The attempt fence in the worker runtime, in-process: follow-up ids are derived from the parent,
 * type and payload (a retried attempt folds into what an earlier one enqueued), and an attempt's
 * lease is lost as soon as the job is no longer active at the retryCount it was fetched with.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger } from '@metarr/core';
import { attemptLease, createJobContext, followUpId, unfenced } from '@metarr/worker';
import t from 'tap';
import { startStack } from './support/stack.ts';

t.test('follow-up ids are deterministic UUIDs, distinct per parent, type and payload', async (t) => {
  const parent = randomUUID();
  const a = followUpId(parent, 'scan-movie', { libraryId: 1, path: '/m/A' });
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a version-8 UUID');
  t.equal(followUpId(parent, 'scan-movie', { libraryId: 1, path: '/m/A' }), a, 'same inputs, same id');
  t.not(followUpId(parent, 'scan-movie', { libraryId: 1, path: '/m/B' }), a, 'another payload');
  t.not(followUpId(parent, 'notify-players', { libraryId: 1, path: '/m/A' }), a, 'another type');
  t.not(followUpId(randomUUID(), 'scan-movie', { libraryId: 1, path: '/m/A' }), a, 'another parent');
});

t.test(
  'a retried attempt’s enqueue folds into the earlier attempt’s job; a lost lease blocks enqueue',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const parentId = await stack.boss.send('webhook', { payload: {}, parentId: null });
    t.ok(parentId);
    const ctxFor = (retryCount: number, lease = unfenced(stack.db)) =>
      createJobContext(
        { queue: stack.queue, db: stack.db, log: silentLogger, lease },
        {
          id: parentId as string,
          type: 'webhook',
          payload: { deliveryId: '1', source: 'radarr', eventType: 'Download' },
          parentId: null,
          retryCount,
          signal: new AbortController().signal,
          priority: 1,
        },
      );
    const payload = { libraryId: 1, path: '/movies/A', trigger: 'webhook' as const };
    const first = await ctxFor(0).enqueue('scan-movie', payload);
    const again = await ctxFor(1).enqueue('scan-movie', payload);
    t.ok(first, 'the first attempt enqueued');
    t.equal(again, null, 'the retry folded into it');
    t.equal(await stack.jobs.count({ types: ['scan-movie'] }), 1, 'one scan-movie job');

    // Fetch the parent (active, retryCount 0), then move it on as a supervisor would.
    const [job] = await stack.boss.fetch('webhook');
    t.equal(job?.id, parentId);
    const lease = attemptLease(stack.db, 'webhook', parentId as string, 0);
    t.equal(await lease.holds(), true, 'the fetched attempt holds its lease');
    await stack.boss.fail('webhook', parentId as string, { message: 'heartbeat lost' });
    t.equal(await lease.holds(), false, 'lost once the job is retried');
    await t.rejects(
      ctxFor(0, lease).enqueue('scan-movie', { ...payload, path: '/movies/B' }),
      { code: 'LEASE_LOST' },
      'a stale attempt cannot enqueue',
    );
    t.equal(await stack.jobs.count({ types: ['scan-movie'] }), 1, 'nothing was added');
  },
);
