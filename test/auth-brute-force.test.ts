import { Writable } from 'node:stream';
import { createLogger } from '@metarr/core';
import t from 'tap';
import { API_KEY, request, startStack, waitFor } from './support/stack.ts';

function captureLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ name: 'api', level: 'debug', destination });
  return { log, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const WRONG = 'wrong-key-0123456789abcdef0123456789';
const unauthorizedLines = (entries: Record<string, unknown>[], ip: string) =>
  entries.filter((e) => /^Unauthorized request/.test(String(e.msg)) && e.ip === ip);

t.test(
  'after 10 failed authentications in a minute an address gets 429 with Retry-After; others are unaffected',
  async (t) => {
    const cap = captureLog();
    // The test's addresses arrive as X-Forwarded-For from the trusted local proxy.
    const stack = await startStack(t, { worker: false, trustProxy: ['127.0.0.1'], log: cap.log });
    const from = (ip: string, key: string | null, route = '/api/libraries', method = 'GET') =>
      request(stack.url, method, route, undefined, {
        'x-forwarded-for': ip,
        ...(key !== null && { 'x-api-key': key }),
      });

    for (let i = 1; i <= 10; i++)
      t.equal((await from('203.0.113.7', WRONG)).status, 401, `failure ${i}: 401`);
    const blocked = await from('203.0.113.7', WRONG);
    t.equal(blocked.status, 429, 'the 11th attempt within the minute: 429');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} s`);
    t.match(blocked.json, { statusCode: 429, error: 'Too Many Requests' });
    t.equal(
      (await from('203.0.113.7', API_KEY)).status,
      429,
      'even the valid key: a guess cannot be confirmed',
    );
    t.equal(
      (await from('203.0.113.7', null, '/api/webhooks/radarr', 'POST')).status,
      429,
      'webhook routes are limited too',
    );
    t.equal((await from('203.0.113.8', API_KEY)).status, 200, 'a valid key from another address works');
    t.equal((await from('198.51.100.1', WRONG)).status, 401, 'another address still gets its own 401');
    t.equal((await request(stack.url, 'GET', '/api/health')).status, 200, 'routes without auth are open');

    // IPv6 clients are grouped by /64: rotating the interface id does not buy more guesses.
    for (let i = 1; i <= 10; i++) await from(`2001:db8:1:2::${i.toString(16)}`, WRONG);
    t.equal((await from('2001:db8:1:2:ffff:1:2:3', API_KEY)).status, 429, 'the same /64 is blocked');
    t.equal((await from('2001:db8:1:3::1', API_KEY)).status, 200, 'the next /64 is not');

    // Every key-protected operation answers the blocked address with its declared 429.
    const doc = (await from('203.0.113.8', API_KEY, '/api/docs/json')).json as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    let checked = 0;
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        if (op.security?.length === 0) continue;
        const route = p.replace(/\{[^}]+\}/g, '1');
        const r = await from('203.0.113.7', API_KEY, route, m.toUpperCase());
        t.equal(r.status, 429, `${m.toUpperCase()} ${p}: 429`);
        t.ok(op.responses['429'], `${m.toUpperCase()} ${p} declares 429`);
        checked++;
      }
    }
    t.ok(checked > 40, `${checked} operations checked`);

    t.equal(
      unauthorizedLines(cap.entries(), '203.0.113.7').length,
      1,
      'one line so far, not one per request',
    );
  },
);

t.test('failures are logged as one aggregated line per address per window, with the count', async (t) => {
  const cap = captureLog();
  const stack = await startStack(t, {
    worker: false,
    trustProxy: ['127.0.0.1'],
    log: cap.log,
    authLimit: { windowMs: 1500 },
  });
  const from = (ip: string, key: string) =>
    request(stack.url, 'GET', '/api/libraries', undefined, { 'x-forwarded-for': ip, 'x-api-key': key });
  for (let i = 0; i < 25; i++) await from('192.0.2.9', WRONG);
  const summary = await waitFor('the aggregated line', async () =>
    unauthorizedLines(cap.entries(), '192.0.2.9').find((e) => e.msg === 'Unauthorized requests'),
  );
  t.equal(summary.failures, 10, 'the count of failures in the window (429s are not failures)');
  t.ok(summary.level === 'warn' || summary.level === 40, 'a warning');
  t.equal(summary.service, 'Api');
  t.equal(
    unauthorizedLines(cap.entries(), '192.0.2.9').length,
    2,
    'the first failure at once, then one summary',
  );
  t.notOk(JSON.stringify(cap.entries()).includes(WRONG), 'the presented key is never logged');
  t.equal((await from('192.0.2.9', API_KEY)).status, 200, 'after the window the address may try again');
});
