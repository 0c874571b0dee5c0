import { createJobInspector } from '@metarr/core';
import t from 'tap';
import { handleScheduledFileScan } from '../../src/handlers/scheduledFileScan.ts';
import { childJobs, insertLibrary } from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// scheduled-file-scan alone: a cron tick fans out library-scan jobs (read back, never run). It
// looks at every library and every unfinished library scan, so each test starts with neither.
const { rt, db, deps, ctxFor } = await startHandlerHarness(t);
t.beforeEach(async () => {
  await db.deleteFrom('libraries').execute();
  const unfinished = await createJobInspector(db).rows({
    types: ['library-scan'],
    states: ['created', 'retry', 'active'],
  });
  if (unfinished.length)
    await rt.boss.cancel(
      'library-scan',
      unfinished.map((j) => j.id),
    );
});

const tick = async (payload: { libraryId?: number } = {}) => {
  const ctx = ctxFor('scheduled-file-scan', payload, 9);
  return { ctx, out: await handleScheduledFileScan(ctx, deps) };
};

t.test(
  'one library-scan per movie library, a child of the tick; TV and music libraries are left out',
  async (t) => {
    const a = await insertLibrary(db, { path: '/srv/a' });
    await insertLibrary(db, { path: '/srv/tv', type: 'tv' });
    const b = await insertLibrary(db, { path: '/srv/b' });
    await insertLibrary(db, { path: '/srv/music', type: 'music' });

    const { ctx, out } = await tick();

    const jobs = await childJobs(db, ctx.id, 'library-scan');
    t.same(
      jobs.map((j) => j.payload).sort((x, y) => Number(x['libraryId']) - Number(y['libraryId'])),
      [{ libraryId: a }, { libraryId: b }],
    );
    const jobOf = (libraryId: number) => jobs.find((j) => j.payload['libraryId'] === libraryId)?.id;
    t.same(out, { libraryScans: 2, jobIds: [jobOf(a), jobOf(b)] }, 'in library order, no stillRunning');
    t.same(
      jobs.map((j) => [j.parentId, j.priority]),
      [
        [ctx.id, 9],
        [ctx.id, 9],
      ],
      'at the tick’s priority, the least urgent of the two',
    );
  },
);

t.test('a library whose scan is queued or running is skipped until that scan has finished', async (t) => {
  const a = await insertLibrary(db, { path: '/srv/a' });
  const b = await insertLibrary(db, { path: '/srv/b' });
  await tick();

  const queued = await tick();
  t.same(queued.out, { libraryScans: 0, jobIds: [], stillRunning: [a, b] }, 'queued scans');
  t.same(await childJobs(db, queued.ctx.id, 'library-scan'), []);

  const running = await rt.boss.fetch<{ payload: { libraryId: number } }>('library-scan', { batchSize: 100 });
  t.same(
    running.map((j) => j.data.payload.libraryId).sort(),
    [a, b].sort(),
    'both scans started (nothing else was queued)',
  );
  t.same((await tick()).out, { libraryScans: 0, jobIds: [], stillRunning: [a, b] }, 'running scans');

  const doneA = running.filter((j) => j.data.payload.libraryId === a).map((j) => j.id);
  await rt.boss.complete('library-scan', doneA);
  const next = await tick();
  const jobs = await childJobs(db, next.ctx.id, 'library-scan');
  t.same(
    jobs.map((j) => j.payload),
    [{ libraryId: a }],
  );
  t.same(next.out, { libraryScans: 1, jobIds: [jobs[0]?.id], stillRunning: [b] });
});

t.test('a schedule naming a library scans that one only, if it is a movie library', async (t) => {
  const a = await insertLibrary(db, { path: '/srv/a' });
  await insertLibrary(db, { path: '/srv/b' });
  const tv = await insertLibrary(db, { path: '/srv/tv', type: 'tv' });

  const named = await tick({ libraryId: a });
  t.same(
    (await childJobs(db, named.ctx.id, 'library-scan')).map((j) => j.payload),
    [{ libraryId: a }],
  );
  t.match(named.out, { libraryScans: 1 });

  const ofTv = await tick({ libraryId: tv });
  t.same(ofTv.out, { skipped: 'no movie library to scan' });
  t.same(await childJobs(db, ofTv.ctx.id, 'library-scan'), []);
  t.same((await tick({ libraryId: 999_999 })).out, { skipped: 'no movie library to scan' });
});

t.test('without any movie library the tick is skipped', async (t) => {
  await insertLibrary(db, { path: '/srv/tv', type: 'tv' });
  const { ctx, out } = await tick();
  t.same(out, { skipped: 'no movie library to scan' });
  t.same(await childJobs(db, ctx.id, 'library-scan'), []);
});
