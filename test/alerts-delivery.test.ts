/**
 * Alerts end to end: the real API and worker on a fresh database, a job that really dead-letters,
 * and a fake receiver on 127.0.0.1 recording every request.
 */
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { channels, deadLetters, deliveriesSettled } from './support/alerts.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test(
  'a dead-lettered job reaches Discord and ntfy exactly once; filters and disabled channels respected',
  async (t) => {
    const stack = await startStack(t);
    const rx = await startFakeAlertReceiver();
    t.teardown(() => rx.close());
    const { discord, ntfy } = await channels(t, stack, rx);
    // Two channels that must hear nothing of a dead letter: another filter, and disabled.
    const only = await stack.api('POST', '/api/alerts', {
      name: 'Only players',
      type: 'webhook',
      url: `${rx.url}/players-only`,
      events: ['player-unreachable', 'publish-done'],
      digestSeconds: 1,
    });
    t.equal(only.status, 201);
    const off = await stack.api('POST', '/api/alerts', {
      name: 'Off',
      type: 'webhook',
      url: `${rx.url}/off`,
      enabled: false,
      digestSeconds: 1,
    });
    t.equal(off.status, 201);
    const jobId = await deadLetters(stack, 1);
    await waitFor('both receivers told', async () => rx.requests.length >= 2);
    await deliveriesSettled(stack, 2);

    const [d, ...moreD] = rx.at('/api/webhooks/1/token');
    t.equal(moreD.length, 0, 'one Discord message');
    t.equal(d?.json.content, 'Metarr: job dead-lettered');
    t.match(
      d?.json.embeds[0].description,
      new RegExp(`^• Job fetch-provider-assets ${jobId} dead-lettered after 1 attempt: TMDB_KEY_MISSING`),
    );
    t.equal(d?.json.embeds[0].color, 0xe74c3c);
    const [n, ...moreN] = rx.at('/metarr');
    t.equal(moreN.length, 0, 'one ntfy message');
    t.equal(n?.headers['title'], 'Metarr: job dead-lettered');
    t.equal(n?.headers['priority'], '4');
    t.equal(n?.headers['tags'], 'rotating_light,metarr');
    t.equal(n?.headers['authorization'], undefined, 'no token, no Authorization');
    t.match(n?.body, /TMDB_KEY_MISSING/);

    const sends = await stack.jobs.rows({ types: ['send-alerts'] });
    t.equal(sends.length, 2, 'one delivery job per channel');
    for (const s of sends) {
      t.equal(s.state, 'completed');
      t.equal((s.data as { parentId: string }).parentId, jobId, 'visible in the dead job lineage');
      t.equal(s.priority, 2, 'low priority (seed 9)');
      t.match(s.output, { sent: 1, counts: { 'job-dead-lettered': 1 } });
    }
    const waiting = await stack.db
      .selectFrom('alert_outbox')
      .select('event_id')
      .where('delivered_at', 'is', null)
      .execute();
    t.equal(waiting.length, 0, 'nothing left waiting');
    t.equal(rx.requests.length, 2, 'nothing else was sent');
    t.equal(rx.at('/players-only').length, 0, 'a filter without job-dead-lettered hears nothing');
    t.equal(rx.at('/off').length, 0, 'a disabled channel hears nothing');
    const outbox = await stack.db
      .selectFrom('alert_outbox')
      .select(['channel_id'])
      .orderBy('channel_id')
      .execute();
    t.same(
      outbox.map((o) => o.channel_id),
      [discord, ntfy],
      'the event was queued for the two default channels alone',
    );
  },
);
