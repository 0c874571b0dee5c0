/** A burst of dead letters becomes one digest message per channel (coalesced `send-alerts`). */
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { channels, deadLetters, deliveriesSettled } from './support/alerts.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('a burst of dead letters is one digest per channel, not one message each', async (t) => {
  const stack = await startStack(t);
  const rx = await startFakeAlertReceiver();
  t.teardown(() => rx.close());
  await channels(t, stack, rx, { digestSeconds: 12 });
  const N = 80;
  const started = Date.now();
  await deadLetters(stack, N);
  t.ok(Date.now() - started < 11_000, 'the burst fits in one digest window (else two messages are right)');
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
  // make one in the next debounce slot too; one that runs before the oldest event's window is over
  // sends nothing (it defers), and one that runs after the digest finds nothing left.
  const sends = await stack.jobs.rows({ types: ['send-alerts'] });
  const out = (s: (typeof sends)[number]) =>
    s.output as { sent?: number; skipped?: string; deferred?: boolean };
  const sent = sends.filter((s) => out(s).sent !== undefined);
  t.equal(sent.length, 2, 'one delivery per channel sent');
  t.ok(
    sent.every((s) => out(s).sent === N),
    `each sent all ${N}`,
  );
  t.ok(
    sends.every(
      (s) =>
        s.state === 'completed' &&
        (sent.includes(s) || out(s).skipped === 'nothing waiting' || out(s).deferred),
    ),
    'any other delivery sent nothing',
  );
  t.ok(sends.length <= 8, `${N} events, ${sends.length} delivery jobs`);
});
