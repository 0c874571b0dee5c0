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

t.test(
  'enqueueAll applies the same rules to many jobs in one transaction: a key folds into the job an earlier item made or one already waiting, a running key gets one more job after the window',
  async (t) => {
    const { queue, jobs, db } = await setup(t);
    const running = await queue.enqueue('notify-group', { ...payload, path: '/m/Running (2000)' });
    await sql`update pgboss.job set state = 'active', started_on = now() where id = ${running?.id}`.execute(
      db,
    );
    const waiting = await queue.enqueue('notify-group', { ...payload, path: '/m/Waiting (2000)' });
    t.ok(waiting);

    const paths = ['/m/A (2000)', '/m/B (2001)', '/m/A (2000)', '/m/Waiting (2000)', '/m/Running (2000)'];
    const out = await queue.enqueueAll('notify-group', [
      ...paths.map((path) => ({ payload: { ...payload, path } })),
      { payload: { ...payload, path: '/m/Running (2000)' } },
      // Not coalesced: always its own job, in the same transaction.
      { payload: { ...payload, path: '/m/A (2000)', windowSeconds: 0 }, opts: { retry: { delay: 3 } } },
    ]);
    t.ok(out[0], 'A: a new job');
    t.ok(out[1], 'B: a new job');
    t.equal(out[2], null, 'A again: folds into the job the first item made');
    t.equal(out[3], null, 'Waiting: folds into the job already waiting');
    t.ok(out[4], 'Running: one more job');
    t.equal(out[5], null, 'Running again: folds into that one');
    t.ok(out[6], 'no window: its own job');
    const rows = await jobs();
    t.equal(rows.length, 2 + 4, 'two before, four made by the call');
    const trailing = rows.find((r) => r.id === out[4]?.id);
    t.ok(
      (trailing?.start_after.getTime() ?? 0) > Date.now(),
      'the running key’s job waits for the next window',
    );
    for (const j of [out[0], out[1]]) {
      const row = rows.find((r) => r.id === j?.id);
      t.ok((row?.start_after.getTime() ?? Infinity) <= Date.now() + 1000, 'a new key runs at once');
    }
    const { rows: plain } = await sql<{ retry_delay: number }>`
      select retry_delay from pgboss.job where id = ${out[6]?.id}`.execute(db);
    t.equal(plain[0]?.retry_delay, 3, 'per-job options are kept');
    t.same(await queue.enqueueAll('notify-group', []), [], 'nothing to do');
  },
);
