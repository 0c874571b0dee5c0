import {
  type AlertChannelInput,
  createAlertChannel,
  recordAlertEvent,
  replaceAlertChannel,
} from '@metarr/core';
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { handleSendAlerts } from '../../src/handlers/alerts.ts';
import { childJobs } from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// send-alerts alone: one channel's waiting events as one digest, against a fake receiver on
// 127.0.0.1. Follow-ups are read back, never run.
const { db, ctxFor } = await startHandlerHarness(t);
const receiver = await startFakeAlertReceiver();
t.teardown(() => receiver.close());

let n = 0;
/** A generic-webhook channel of its own (its own path on the receiver) taking dead letters. */
async function channel(extra: Partial<AlertChannelInput> = {}) {
  const path = `/hook-${++n}`;
  const c = await createAlertChannel(db, {
    name: `channel ${n}`,
    type: 'webhook',
    url: `${receiver.url}${path}`,
    events: ['job-dead-lettered'],
    digestSeconds: 0,
    ...extra,
  });
  return { id: c.id, path };
}
const deadLetter = (i: number) =>
  recordAlertEvent(db, { type: 'job-dead-lettered', message: `job ${i} dead-lettered`, details: { i } });
const waiting = async (channelId: number) =>
  (
    await db
      .selectFrom('alert_outbox')
      .select('event_id')
      .where('channel_id', '=', channelId)
      .where('delivered_at', 'is', null)
      .execute()
  ).length;

t.test(
  'sends the waiting events as one digest, marks them delivered, and has nothing left after',
  async (t) => {
    const c = await channel();
    for (let i = 1; i <= 3; i++) await deadLetter(i);
    const out = await handleSendAlerts(ctxFor('send-alerts', { channelId: c.id }, 9), {} as never);
    t.match(out, { channelId: c.id, sent: 3, counts: { 'job-dead-lettered': 3 } });
    const sent = receiver.at(c.path);
    t.equal(sent.length, 1, 'one request');
    t.match(sent[0]?.json, { source: 'metarr', total: 3, counts: { 'job-dead-lettered': 3 } });
    t.equal(await waiting(c.id), 0);

    const again = await handleSendAlerts(ctxFor('send-alerts', { channelId: c.id }, 9), {} as never);
    t.match(again, { skipped: 'nothing waiting' });
    t.equal(receiver.at(c.path).length, 1, 'nothing sent twice');
  },
);

t.test(
  'run before the oldest event’s window is over it sends nothing and re-queues itself for then',
  async (t) => {
    const c = await channel({ digestSeconds: 300 });
    await deadLetter(10);
    const ctx = ctxFor('send-alerts', { channelId: c.id }, 9);
    const before = Date.now();
    const out = await handleSendAlerts(ctx, {} as never);
    t.match(out, { channelId: c.id, deferred: true, waiting: 1 });
    t.ok(
      (out.waitSeconds as number) > 290 && (out.waitSeconds as number) <= 300,
      `waits ${out.waitSeconds} s`,
    );
    t.same(receiver.at(c.path), [], 'nothing sent yet');
    const [next, ...more] = await childJobs(db, ctx.id, 'send-alerts');
    t.same(more, []);
    t.equal(next?.id, out.nextJobId);
    t.same(next?.payload, { channelId: c.id });
    const delay = ((next?.startAfter.getTime() ?? 0) - before) / 1000;
    t.ok(delay > 285 && delay < 310, `starts after the window (${delay} s)`);
    t.equal(await waiting(c.id), 1, 'the event still waits');
  },
);

t.test('a receiver answering 500 fails the job retryably and the events keep waiting', async (t) => {
  const c = await channel();
  await deadLetter(20);
  receiver.failNext(1);
  const err = await handleSendAlerts(ctxFor('send-alerts', { channelId: c.id }, 9), {} as never).catch(
    (e: unknown) => e,
  );
  t.match(err, { retryable: true }, 'a failure the job retries with backoff');
  t.equal(await waiting(c.id), 1, 'not marked delivered');
  const out = await handleSendAlerts(ctxFor('send-alerts', { channelId: c.id }, 9), {} as never);
  t.match(out, { sent: 1 });
  t.equal(receiver.at(c.path).length, 2, 'the failed request, then the delivered one');
});

t.test('a disabled channel drops what waited; a removed one is skipped', async (t) => {
  const c = await channel();
  await deadLetter(30);
  await deadLetter(31);
  await replaceAlertChannel(db, c.id, {
    name: 'off',
    type: 'webhook',
    url: `${receiver.url}${c.path}`,
    events: ['job-dead-lettered'],
    enabled: false,
  });
  const off = await handleSendAlerts(ctxFor('send-alerts', { channelId: c.id }, 9), {} as never);
  t.match(off, { skipped: 'the channel is disabled', dropped: 2 });
  t.equal(await waiting(c.id), 0, 'no backlog when it is turned back on');
  t.same(receiver.at(c.path), []);
  const gone = await handleSendAlerts(ctxFor('send-alerts', { channelId: 999_999 }, 9), {} as never);
  t.match(gone, { skipped: 'the channel was removed' });
});
