import { createTestDatabase } from '@metarr/testkit/db';
import { sql } from 'kysely';
import t from 'tap';
import { startRuntime } from '../../src/bootstrap.ts';
import { notifyCoalesceKey } from '../../src/jobs/catalog.ts';
import { createJobQueue } from '../../src/jobs/store/queue.ts';
import { silentLogger } from '../../src/log.ts';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const database = await createTestDatabase();
  const rt = await startRuntime({
    url: database.url,
    log: silentLogger,
    instanceName: 'coalesce-test',
    poolMax: 4,
    supervise: false,
  });
  t.teardown(async () => {
    await rt.close();
    await database.drop().catch(() => {});
  });
  const queue = createJobQueue({ boss: rt.boss, db: rt.dbh.db, log: silentLogger });
  const jobs = async () =>
    (
      await sql<{ id: string; state: string; start_after: Date; singleton_key: string | null }>`
        select id, state, start_after, singleton_key from pgboss.job
        where name = 'notify-group' order by created_on`.execute(rt.dbh.db)
    ).rows;
  return { queue, jobs, db: rt.dbh.db };
}

const payload = {
  libraryId: 1,
  path: '/m/A (2000)',
  change: 'modified' as const,
  groupId: 3,
  windowSeconds: 60,
};

t.test('per-group notifications of one folder fold into the job that has not started yet', async (t) => {
  const { queue, jobs } = await setup(t);
  const first = await queue.enqueue('notify-group', payload);
  t.ok(first, 'the first one is created');
  for (let i = 0; i < 5; i++)
    t.equal(await queue.enqueue('notify-group', payload), null, `repeat ${i} folds`);
  const created = await queue.enqueue('notify-group', { ...payload, change: 'created' });
  t.equal(created, null, 'created and modified are the same rescan');
  const rows = await jobs();
  t.equal(rows.length, 1);
  t.equal(rows[0]?.singleton_key, notifyCoalesceKey(payload));
  t.ok((rows[0]?.start_after.getTime() ?? Infinity) <= Date.now() + 1000, 'the first runs at once');

  t.ok(await queue.enqueue('notify-group', { ...payload, change: 'deleted' }), 'a delete is its own job');
  t.ok(await queue.enqueue('notify-group', { ...payload, groupId: 4 }), 'another group is its own job');
  t.ok(await queue.enqueue('notify-group', { ...payload, path: '/m/B (2001)' }), 'another folder too');
  const { windowSeconds: _w, ...noWindow } = payload;
  t.ok(await queue.enqueue('notify-group', noWindow), 'no window → no coalescing');
  t.ok(await queue.enqueue('notify-group', { ...payload, windowSeconds: 0 }), 'window 0 → no coalescing');
  t.ok(
    await queue.enqueue('notify-players', { libraryId: 1, path: payload.path, change: 'modified' }),
    'library-level (fan-out) jobs are never folded',
  );
});

t.test(
  'a change while the folder’s notification runs brings exactly one more job, after the window',
  async (t) => {
    const { queue, jobs, db } = await setup(t);
    const first = await queue.enqueue('notify-group', payload);
    // As a worker would: the job is running now.
    await sql`update pgboss.job set state = 'active', started_on = now() where id = ${first?.id}`.execute(db);
    const second = await queue.enqueue('notify-group', payload);
    t.ok(second, 'one more job');
    for (let i = 0; i < 3; i++) t.equal(await queue.enqueue('notify-group', payload), null, 'then they fold');
    const rows = await jobs();
    t.equal(rows.length, 2);
    const trailing = rows.find((r) => r.id === second?.id);
    t.ok((trailing?.start_after.getTime() ?? 0) > Date.now(), 'it waits for the next window');
  },
);
