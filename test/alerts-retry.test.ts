/** A receiver that fails: the `send-alerts` job is retried with backoff and delivers later. */
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { deadLetters, deliveriesSettled } from './support/alerts.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('a failing receiver is retried with backoff and the digest delivered later', async (t) => {
  const stack = await startStack(t, { env: { METARR_ALERT_RETRY_DELAY_SECONDS: '1' } });
  const rx = await startFakeAlertReceiver();
  t.teardown(() => rx.close());
  const ch = await stack.api('POST', '/api/alerts', {
    name: 'Hook',
    type: 'webhook',
    url: `${rx.url}/hook`,
    digestSeconds: 1,
  });
  t.equal(ch.status, 201);
  rx.failNext(2);
  await deadLetters(stack, 1);
  await waitFor('delivered after two failures', async () => rx.requests.length >= 3, 20_000);
  await deliveriesSettled(stack);
  const reqs = rx.at('/hook');
  t.equal(reqs.length, 3, 'two failed attempts, one delivery');
  t.same(reqs[2]?.json, reqs[0]?.json, 'the same digest each time');
  t.match(reqs[2]?.json, {
    source: 'metarr',
    total: 1,
    counts: { 'job-dead-lettered': 1 },
    level: 'failure',
  });
  const [send] = await stack.jobs.rows({ types: ['send-alerts'] });
  t.equal(send?.state, 'completed');
  t.equal(send?.retry_count, 2, 'retried twice');
  t.match(send?.output, { sent: 1 });
  const dead = await stack.jobs.count({ types: ['send-alerts'], states: ['failed'] });
  t.equal(dead, 0);
});
