import { createMediaServerClient, loadConfig, silentLogger } from '@metarr/core';
import { BULK_BATCH_SIZE, handlers, startWorkerRuntime } from '@metarr/worker';
import t from 'tap';
import { startStack, waitFor } from './support/stack.ts';

t.test('an urgent scan-movie runs at once while bulk scans occupy every bulk loop', async (t) => {
  const stack = await startStack(t, { worker: false });
  const media = t.testdir({ m: {} });
  const lib = await stack.api('POST', '/api/libraries', { name: 'M', type: 'movie', path: `${media}/m` });

  // Bulk scans that hold their loop until released, so "every loop busy" is a fact, not a race.
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  t.teardown(() => release());
  const order: string[] = [];
  await startWorkerRuntime({
    boss: stack.boss,
    db: stack.db,
    log: silentLogger,
    queues: ['scan-movie'],
    concurrency: 4,
    handlers: {
      ...handlers,
      'scan-movie': async (ctx) => {
        if (ctx.payload.trigger === 'library-scan') await gate;
        order.push(ctx.payload.path);
        return {};
      },
    },
    deps: {
      db: stack.db,
      log: silentLogger,
      clientFor: (p) => createMediaServerClient(p),
      clock: () => new Date(),
      config: loadConfig({ METARR_DATA_DIR: '.tmp/unused' }),
    },
  });

  await stack.queue.enqueueMany(
    'scan-movie',
    Array.from({ length: 50 }, (_, i) => ({
      libraryId: lib.json.id,
      path: `${media}/m/bulk-${i}`,
      trigger: 'library-scan' as const,
    })),
    { priority: 8 },
  );
  // Bulk jobs (Metarr priority 8 = pg-boss 3) that are running.
  const active = async () => {
    const rows = await stack.jobs.rows({ types: ['scan-movie'], states: ['active'] });
    return rows.filter((j) => j.priority === 3).length;
  };
  // concurrency 4: the bulk lane is 1 loop × BULK_BATCH_SIZE, every one of them blocked on the gate.
  await waitFor('the bulk loops to fill', async () => (await active()) >= BULK_BATCH_SIZE);

  await stack.queue.enqueue('scan-movie', {
    libraryId: lib.json.id,
    path: `${media}/m/urgent`,
    trigger: 'webhook',
  });
  await waitFor('the urgent scan', async () => order.includes(`${media}/m/urgent`), 10_000);
  t.same(order, [`${media}/m/urgent`], 'the urgent scan finished while every bulk scan was still waiting');
  t.equal(await active(), BULK_BATCH_SIZE, 'no bulk job was taken by an urgent loop');
  release();
  await waitFor('the bulk backlog', async () => order.length === 51, 30_000);
});

t.test('follow-ups of bulk work stay bulk; follow-ups of urgent work keep their own priority', async (t) => {
  const stack = await startStack(t);
  const media = t.testdir({ m: { 'A (2000)': { 'a.mkv': 'v' }, 'B (2001)': { 'b.mkv': 'v' } } });
  const lib = await stack.api('POST', '/api/libraries', { name: 'M', type: 'movie', path: `${media}/m` });
  const bulk = await stack.queue.enqueue(
    'scan-movie',
    { libraryId: lib.json.id, path: `${media}/m/A (2000)`, trigger: 'library-scan' },
    { priority: 8 },
  );
  const urgent = await stack.queue.enqueue('scan-movie', {
    libraryId: lib.json.id,
    path: `${media}/m/B (2001)`,
    trigger: 'webhook',
  });
  const childPriority = async (parent: string | undefined) => {
    const rows = await stack.jobs.rows({ parentIds: [parent ?? ''] });
    return rows[0]?.priority;
  };
  t.equal(
    await waitFor('bulk follow-up', () => childPriority(bulk?.id)),
    3,
    'priority 8 (pg-boss 3), inherited',
  );
  const u = await waitFor('urgent follow-up', () => childPriority(urgent?.id));
  t.ok(u >= 6, `urgent follow-up keeps its catalog priority (pg-boss ${u})`);
});
