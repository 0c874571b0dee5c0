import { createLogger, retryWhileDbUnreachable } from '@metarr/core';
import t from 'tap';

// Start-up steps after the runtime is up (API key, schedule sync) wait for a database that drops
// right then, instead of exiting the process.
const lines: Record<string, unknown>[] = [];
const log = createLogger({
  name: 'test',
  level: 'warn',
  destination: { write: (s: string) => lines.push(JSON.parse(s)) },
});

t.test('retries a step while the database refuses connections, then returns its value', async (t) => {
  let calls = 0;
  const v = await retryWhileDbUnreachable(log, 'api-key', async () => {
    calls++;
    if (calls < 3)
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    return 'key';
  });
  t.equal(v, 'key');
  t.equal(calls, 3);
  const warned = lines.filter((l) => l.msg === 'Database not reachable yet; retrying');
  t.equal(warned.length, 2, 'one warning per failed attempt');
  t.match(warned[0], { service: 'DatabaseService', step: 'api-key', attempt: 1 });
});

t.test('a server shutting down (57P01) is waited for too', async (t) => {
  let calls = 0;
  await retryWhileDbUnreachable(log, 'sync-schedules', async () => {
    if (++calls === 1)
      throw Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      });
  });
  t.equal(calls, 2);
});

t.test('any other error is thrown at once', async (t) => {
  let calls = 0;
  await t.rejects(
    retryWhileDbUnreachable(log, 'api-key', async () => {
      calls++;
      throw Object.assign(new Error('relation "settings" does not exist'), { code: '42P01' });
    }),
    { code: '42P01' },
  );
  t.equal(calls, 1);
});
