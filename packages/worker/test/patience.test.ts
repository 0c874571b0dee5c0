import {
  createJobInspector,
  createJobQueue,
  jobTestControls,
  mediaItemOf,
  publishFsError,
  retryable,
} from '@metarr/core';
import t from 'tap';
import { handlers } from '../src/handlers/index.ts';
import { startWorkerRuntime } from '../src/runtime.ts';
import { captureLog, handlerDeps, startTestRuntime } from './support/runtime.ts';

// A full disk waits on the user, not on luck: while its patience lasts (a day from the job's
// creation) a DISK_FULL attempt does not use up one of the job's retries; after that the job's own
// retry limit applies again. Any other retryable error counts every attempt as before.

const { log, lines } = captureLog();

const { rt, db } = await startTestRuntime(t, log);
const queue = createJobQueue({ boss: rt.boss, db, log });

// movieId 1 fails like a full disk; movieId 2 with a plain retryable error.
const diskFull = () =>
  publishFsError(Object.assign(new Error('no space'), { code: 'ENOSPC' }), '/movies/Heat (1995)');
await startWorkerRuntime({
  boss: rt.boss,
  db,
  log,
  handlers: {
    ...handlers,
    publish: async (ctx) => {
      throw mediaItemOf(ctx.payload).id === 1
        ? diskFull()
        : retryable('PROVIDER_UNAVAILABLE', 'TMDB is down');
    },
  },
  concurrency: 2,
  queues: ['publish'],
  deps: handlerDeps(db, log),
});

interface Row {
  state: string;
  retry_count: number;
  retry_limit: number;
  start_after: Date;
  output: { code?: string } | null;
}
const row = async (id: string) =>
  (await createJobInspector(db).rows({ types: ['publish'], ids: [id] }))[0] as unknown as Row;

const failures = (id: string) => lines.filter((l) => l.jobId === id && l.msg === 'Job failed').length;

/**
 * Lets the job's waiting retry run now and returns the job once that attempt has failed and settled.
 * The first attempt runs by itself as soon as the job is enqueued.
 */
async function runAttempt(id: string): Promise<Row> {
  const want = failures(id) + 1;
  // pg-boss's own edit, which also wakes the workers (a bare UPDATE waits for their next poll).
  await rt.boss.update({ name: 'publish', options: { id, startAfter: new Date() } });
  return settled(id, want);
}

async function settled(id: string, attempts: number): Promise<Row> {
  const end = Date.now() + 15_000;
  for (;;) {
    const r = await row(id);
    if (failures(id) >= attempts && (r.state === 'failed' || r.state === 'retry')) return r;
    if (Date.now() > end)
      throw new Error(
        `attempt ${attempts} of ${id} did not settle: ${JSON.stringify(r)} ${JSON.stringify(lines.filter((l) => l.jobId === id).map((l) => [l.time, l.msg, l.retryCount]))}`,
      );
    await new Promise((res) => setTimeout(res, 50));
  }
}

const deadLettered = async (id: string) =>
  (await createJobInspector(db).rows({ types: ['dead-letter'] })).filter((j) => j.source_id === id).length;

t.test('a full disk does not use up retries for a day, then the retry limit applies', async (t) => {
  const job = await queue.enqueue('publish', { movieId: 1 });
  const id = job?.id as string;
  let r = await settled(id, 1);
  const limit = r.retry_limit - 1;
  t.match(r.output, { code: 'DISK_FULL' });
  t.ok(r.start_after.getTime() - Date.now() > 600_000, 'each retry waits the long disk-full delay');
  // More attempts than the catalog allows a job at all, and the job still waits for space.
  const shortWaits: number[] = [];
  for (let i = 0; i < limit + 1; i++) {
    r = await runAttempt(id);
    // Seen together with the state change (one transaction), never the catalog's short delay first.
    if (r.start_after.getTime() - Date.now() < 600_000) shortWaits.push(i);
  }
  t.same(shortWaits, [], 'every retry waits the long disk-full delay');
  t.equal(
    r.state,
    'retry',
    `still waiting after ${limit + 2} full-disk attempts (limit: 1 + ${limit} retries)`,
  );
  // pg-boss counts a retry when it starts it, so a new job has limit + 1 attempts ahead of it.
  t.equal(r.retry_limit - r.retry_count, limit + 1, 'as many attempts left as a new job: none used up');
  t.equal(await deadLettered(id), 0, 'nothing dead-lettered');
  const failedLines = lines.filter((l) => l.jobId === id && l.msg === 'Job failed');
  t.ok(
    failedLines.every((l) => l.attemptNotCounted === true && l.willRetry === true),
    'each failure is logged as not counted, with a retry coming',
  );

  // A day later the disk is still full: attempts count again and the job dead-letters at its limit.
  await jobTestControls(db).backdate(id, 25 * 3600);
  let attempts = 0;
  while (r.state !== 'failed' && attempts <= limit + 1) {
    r = await runAttempt(id);
    attempts++;
  }
  t.equal(r.state, 'failed', 'failed for good once its patience ran out');
  t.equal(attempts, limit + 1, `after the ${limit + 1} attempts it still had`);
  t.match(r.output, { code: 'DISK_FULL' });
  t.equal(await deadLettered(id), 1, 'dead-lettered with its error');
});

t.test('an ordinary retryable error uses up a retry on every attempt', async (t) => {
  const job = await queue.enqueue('publish', { movieId: 2 });
  const id = job?.id as string;
  let r = await settled(id, 1);
  const limit = r.retry_limit;
  let attempts = 1;
  while (r.state !== 'failed' && attempts <= limit + 1) {
    r = await runAttempt(id);
    attempts++;
  }
  t.equal(r.state, 'failed');
  t.equal(attempts, limit + 1, `the first attempt and its retries (${JSON.stringify(r)})`);
  t.equal(r.retry_limit, limit, 'the retry limit was not raised');
  t.equal(await deadLettered(id), 1);
});
