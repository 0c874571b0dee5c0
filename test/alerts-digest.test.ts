/** A burst of dead letters becomes one digest message per channel (coalesced `send-alerts`). */
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { channels, deadLetters, deliveriesSettled } from './support/alerts.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('a burst of dead letters is one digest per channel, not one message each', async (t) => {
  const stack = await startStack(t);
  const rx = await startFakeAlertReceiver();
  t.teardown(() => rx.close());
  await channels(t, stack, rx, { digestSeconds: 8 });
  const N = 100;
  const started = Date.now();
  await deadLetters(stack, N);
  t.ok(Date.now() - started < 7_000, 'the burst fits in one digest window (else two messages are right)');
  await waitFor('both receivers told', async () => rx.requests.length >= 2, 20_000);
  await deliveriesSettled(stack, 2);
  t.equal(rx.requests.length, 2, `one message per channel for ${N} dead letters`);
  const d = rx.at('/api/webhooks/1/token')[0];
  t.equal(d?.json.content, `Metarr: ${N} jobs dead-lettered`);
  const lines = String(d?.json.embeds[0].description ?? '').split('\n');
  t.equal(lines.length, 6, 'the first five, then the rest counted');
  t.equal(lines.at(-1), `… and ${N - 5} more`);
  t.ok(lines.slice(0, 5).every((l) => l.startsWith('• Job fetch-provider-assets ')));
  t.equal(rx.at('/metarr')[0]?.headers['title'], `Metarr: ${N} jobs dead-lettered`);
  // Events recorded at the same instant by different workers may each find no waiting delivery and
  // make one for the next window too: that one finds nothing left and sends nothing.
  const sends = await stack.jobs.rows({ types: ['send-alerts'] });
  const sent = sends.filter((s) => (s.output as { sent?: number }).sent !== undefined);
  t.equal(sent.length, 2, 'one delivery per channel sent');
  t.ok(
    sent.every((s) => (s.output as { sent?: number }).sent === N),
    `each sent all ${N}`,
  );
  t.ok(
    sends.every(
      (s) =>
        s.state === 'completed' &&
        (sent.includes(s) || (s.output as { skipped?: string }).skipped === 'nothing waiting'),
    ),
    'any other delivery found nothing left',
  );
  t.ok(sends.length <= 4, `${N} events folded into at most two delivery jobs per channel (${sends.length})`);
});
