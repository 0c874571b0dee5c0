/**
 * The job list and stats on a job table too big to count on every call: the list's total is counted
 * up to 10,000 (then capped and said so), and stats count finished jobs of a recent window while
 * waiting and failed jobs are always counted.
 */
import { insertSyntheticJobs, type SyntheticJob } from '@metarr/core';
import t from 'tap';
import { startStack } from './support/stack.ts';

const HOUR = 3_600_000;

t.test(
  'the job list counts up to 10,000 and says when it stopped; stats count recent finished jobs',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const now = Date.now();
    const job = (i: number, over: Partial<SyntheticJob>): SyntheticJob => ({
      id: crypto.randomUUID(),
      name: 'enrich-metadata',
      data: { payload: { movieId: i }, parentId: null },
      state: 'completed',
      createdOn: new Date(now - 48 * HOUR + i),
      startedOn: new Date(now - 48 * HOUR + i),
      completedOn: new Date(now - 48 * HOUR + i + 5),
      ...over,
    });
    // 10,020 completed two days ago, 7 completed just now, 3 failed two days ago.
    const old = Array.from({ length: 10_020 }, (_, i) => job(i, {}));
    const recent = Array.from({ length: 7 }, (_, i) =>
      job(i, { createdOn: new Date(now - 1000 + i), completedOn: new Date(now) }),
    );
    const failed = Array.from({ length: 3 }, (_, i) => job(i, { state: 'failed', name: 'publish' }));
    await insertSyntheticJobs(stack.db, [...old, ...recent, ...failed]);

    const all = await stack.api('GET', '/api/jobs?type=enrich-metadata&limit=5');
    t.equal(all.status, 200);
    t.equal(all.headers.get('x-total-count'), '10000', 'the total stops at 10,000…');
    t.equal(all.headers.get('x-total-count-capped'), 'true', '…and says so');
    t.same(
      all.json.map((j: { createdAt: string }) => j.createdAt),
      recent
        .slice(-5)
        .reverse()
        .map((j) => j.createdOn.toISOString()),
      'newest first',
    );

    const few = await stack.api('GET', '/api/jobs?state=failed');
    t.equal(few.headers.get('x-total-count'), '3', 'a small total is exact');
    t.equal(few.headers.get('x-total-count-capped'), null, 'and not capped');

    const stats = await stack.api('GET', '/api/jobs/stats');
    t.equal(stats.json['enrich-metadata']?.completed, 7, 'completed: only those created in the last 24 h');
    t.equal(stats.json.publish?.failed, 3, 'failed jobs count however old');
    const week = await stack.api('GET', '/api/jobs/stats?hours=72');
    t.equal(week.json['enrich-metadata']?.completed, 10_027, '?hours= widens the window');
    const bad = await stack.api('GET', '/api/jobs/stats?hours=0');
    t.equal(bad.status, 400);
    t.match(bad.json.message, /hours/, 'a bad window names the field');
  },
);
