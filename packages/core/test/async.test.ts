import t from 'tap';
import { backoffDelay, limiter, mapLimit } from '../src/async.ts';

t.test('backoff doubles from its base up to its cap, jittered as asked', async (t) => {
  t.same(
    [0, 1, 2, 3, 10].map((a) => backoffDelay(a, { baseMs: 250, maxMs: 1000 })),
    [250, 500, 1000, 1000, 1000],
  );
  t.equal(backoffDelay(3, { baseMs: 100 }), 800, 'no cap: doubles forever');
  t.equal(backoffDelay(2, { baseMs: 100, jitter: 'full', random: () => 0 }), 0);
  t.equal(backoffDelay(2, { baseMs: 100, jitter: 'full', random: () => 0.5 }), 200);
  t.equal(backoffDelay(2, { baseMs: 100, jitter: 'equal', random: () => 0 }), 200);
  t.equal(backoffDelay(2, { baseMs: 100, jitter: 'equal', random: () => 1 }), 400);
});

t.test('mapLimit keeps input order and never runs more than the limit at once', async (t) => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([30, 10, 20, 5, 15], 2, async (ms, i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return `${i}:${ms}`;
  });
  t.same(out, ['0:30', '1:10', '2:20', '3:5', '4:15']);
  t.equal(peak, 2);
  t.same(await mapLimit([], 4, async () => 1), []);
  await t.rejects(
    mapLimit([1, 2], 2, async (n) => {
      if (n === 2) throw new Error('boom');
      return n;
    }),
    /boom/,
  );
});

t.test(
  'limiter runs at most n calls at once, in the order asked, and passes results and errors on',
  async (t) => {
    const gate = limiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (i: number, ms: number) =>
      gate(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, ms));
        running--;
        if (i === 3) throw new Error('three');
        return i;
      });
    const results = await Promise.allSettled([task(0, 20), task(1, 5), task(2, 5), task(3, 5), task(4, 5)]);
    t.equal(peak, 2);
    t.same(started, [0, 1, 2, 3, 4]);
    t.same(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      [0, 1, 2, 'three', 4],
    );
  },
);
