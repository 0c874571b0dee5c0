import { createLogger, throttledErrorLog } from '@metarr/core';
import t from 'tap';

t.test('the same error message is logged once per window, then with the repeats it folded', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    name: 'test',
    destination: { write: (s: string) => lines.push(JSON.parse(s)) },
  });
  let now = 0;
  const onError = throttledErrorLog(log.child({ service: 'JobQueue' }), 'pg-boss error', {
    windowMs: 30_000,
    now: () => now,
  });
  for (let i = 0; i < 50; i++) onError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
  t.equal(lines.length, 1, 'fifty failures in one window: one line');
  t.match(lines[0], { service: 'JobQueue', msg: 'pg-boss error', err: { message: /ECONNREFUSED/ } });
  t.notOk('repeatsSinceLast' in (lines[0] as object), 'the first line has nothing folded');

  onError(new Error('Connection terminated unexpectedly'));
  t.equal(lines.length, 2, 'a different message is not held back');

  now = 30_000;
  onError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
  t.equal(lines.length, 3, 'after the window the message is logged again');
  t.match(lines[2], { repeatsSinceLast: 49 }, 'with how many repeats were folded');
});
