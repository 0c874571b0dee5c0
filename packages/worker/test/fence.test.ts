import { discoverMovieAssets, jobTestControls, silentLogger } from '@metarr/core';
import t from 'tap';
import { attemptLease } from '../src/runtime.ts';
import { startTestRuntime } from './support/runtime.ts';

// A stale attempt (its worker paused past the heartbeat while a newer attempt took the job) must not
// write through a service: the fence runs inside the service's own write transaction.
const { rt, db } = await startTestRuntime(t);

const QUEUE = 'discover-assets';

async function activeJob() {
  const id = await rt.boss.send(QUEUE, { payload: { movieId: 1 } });
  if (!id) throw new Error('not sent');
  const [job] = await rt.boss.fetch(QUEUE, { includeMetadata: true, batchSize: 1 });
  if (job?.id !== id) throw new Error('fetched another job');
  return { id, retryCount: job.retryCount };
}

async function movieIn(dir: string) {
  const lib = await db
    .insertInto('libraries')
    .values({ name: `L${dir.length}-${Math.random()}`, type: 'movie', path: dir })
    .returning('id')
    .executeTakeFirstOrThrow();
  return db
    .insertInto('movies')
    .values({ library_id: lib.id, path: `${dir}/Heat (1995)`, title: 'Heat', year: 1995 })
    .returning('id')
    .executeTakeFirstOrThrow();
}

const discovered = async (movieId: number) =>
  db.selectFrom('movie_discovery').select('movie_id').where('movie_id', '=', movieId).executeTakeFirst();

t.test('an attempt that holds its lease writes through the fence', async (t) => {
  const dir = t.testdir({ 'Heat (1995)': { 'Heat.mkv': 'v' } });
  const movie = await movieIn(dir);
  const job = await activeJob();
  const lease = attemptLease(db, QUEUE, job.id, job.retryCount);
  await discoverMovieAssets({ db, log: silentLogger, fence: lease.fence }, movie.id);
  t.ok(await discovered(movie.id), 'movie_discovery row written');
  t.equal(lease.lost(), false);
});

t.test('a superseded attempt writes nothing: LEASE_LOST and the transaction rolls back', async (t) => {
  const dir = t.testdir({ 'Heat (1995)': { 'Heat.mkv': 'v' } });
  const movie = await movieIn(dir);
  const job = await activeJob();
  const lease = attemptLease(db, QUEUE, job.id, job.retryCount);
  // What the supervisor does to an expired attempt, then the newer attempt's fetch.
  await jobTestControls(db).supersede(job.id);
  await t.rejects(discoverMovieAssets({ db, log: silentLogger, fence: lease.fence }, movie.id), {
    code: 'LEASE_LOST',
  });
  t.notOk(await discovered(movie.id), 'no movie_discovery row');
  t.equal(lease.lost(), true, 'once lost, stays lost');
});

t.test('the fence holds the job row until the write commits: a takeover waits for it', async (t) => {
  const job = await activeJob();
  const lease = attemptLease(db, QUEUE, job.id, job.retryCount);
  let takeoverDone = false;
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  let takeover: Promise<unknown> = Promise.resolve();
  const write = db.transaction().execute(async (trx) => {
    await lease.fence(trx);
    // Another session tries to hand the job to a new attempt while this write is open.
    takeover = jobTestControls(db)
      .supersede(job.id)
      .then(() => {
        takeoverDone = true;
      });
    await held;
    t.equal(takeoverDone, false, 'the takeover is still waiting when the write commits');
  });
  // Give the takeover ample time to run if it were not blocked.
  await new Promise((r) => setTimeout(r, 400));
  t.equal(takeoverDone, false, 'blocked by the fence');
  release();
  await write;
  await takeover;
  t.equal(takeoverDone, true, 'proceeds after the commit');
  await t.rejects(
    db.transaction().execute((trx) => lease.fence(trx)),
    { code: 'LEASE_LOST' },
    'and afterwards the old attempt is fenced out',
  );
});
