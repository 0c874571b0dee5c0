/**
 * Alert records and the digest, on a real database with an injected clock: filters decide which
 * channel an event is queued for, a player's outage is measured from its first failure (kept across
 * attempts) and alerts each channel once its own `unreachableMinutes` have passed, once per outage.
 */
import t from 'tap';
import { alertRequest } from '../../src/clients/alerts.ts';
import { silentLogger } from '../../src/log.ts';
import {
  createAlertChannel,
  getAlertChannel,
  notePlayerReachability,
  recordAlertEvent,
  redactUrl,
} from '../../src/records/alerts.ts';
import { insertPlayerGroup } from '../../src/records/playerGroups.ts';
import { createPlayer } from '../../src/records/players.ts';
import { deriveSecretKey, useSecretKey } from '../../src/secrets.ts';
import { deliverAlerts, digestMessage } from '../../src/services/alerts.ts';
import { migratedTestDb } from '../support/db.ts';

useSecretKey(deriveSecretKey('alerts-records-test-key-0123456789abcdef'));
const db = await migratedTestDb(t);
const url = 'http://127.0.0.1:9/hook';

t.test('redactUrl keeps scheme, host and port only', async (t) => {
  t.equal(redactUrl('https://discord.com/api/webhooks/1/tok'), 'https://discord.com/…');
  t.equal(redactUrl('https://ntfy.sh'), 'https://ntfy.sh');
  t.equal(redactUrl('https://ntfy.sh/'), 'https://ntfy.sh');
  t.equal(redactUrl('http://h:8000/?key=s'), 'http://h:8000/…');
  t.equal(redactUrl('http://user:pw@h:8000'), 'http://h:8000/…');
  t.equal(redactUrl('nonsense'), '…');
});

t.test('events are queued only for enabled channels whose filter takes them', async (t) => {
  const defaults = await createAlertChannel(db, { name: 'd', type: 'webhook', url });
  const publishes = await createAlertChannel(db, {
    name: 'p',
    type: 'webhook',
    url,
    events: ['publish-done'],
  });
  await createAlertChannel(db, { name: 'off', type: 'webhook', url, enabled: false });
  t.same(await recordAlertEvent(db, { type: 'publish-done', message: 'Published M' }), [
    { channelId: publishes.id, digestSeconds: 60 },
  ]);
  t.same(await recordAlertEvent(db, { type: 'disk-full', message: 'full' }), [
    { channelId: defaults.id, digestSeconds: 60 },
  ]);
  t.same(await recordAlertEvent(db, { type: 'item-healed', message: 'healed' }), [
    { channelId: defaults.id, digestSeconds: 60 },
  ]);
  await db.deleteFrom('alert_channels').execute();
  const before = (await db.selectFrom('alert_events').select('id').execute()).length;
  t.same(await recordAlertEvent(db, { type: 'disk-full', message: 'nobody listens' }), []);
  t.equal((await db.selectFrom('alert_events').select('id').execute()).length, before, 'nothing stored');
  t.equal((await db.selectFrom('alert_outbox').select('event_id').execute()).length, 0, 'cascade');
});

t.test('player-unreachable: per channel threshold, once per outage, reset when reached', async (t) => {
  const groupId = await insertPlayerGroup(db, { name: 'G', type: 'kodi' });
  const player = await createPlayer(db, { groupId, name: 'Box', type: 'kodi', host: '10.0.0.5', port: 8080 });
  const fast = await createAlertChannel(db, {
    name: 'fast',
    type: 'webhook',
    url,
    unreachableMinutes: 2,
    digestSeconds: 5,
  });
  const slow = await createAlertChannel(db, { name: 'slow', type: 'webhook', url, unreachableMinutes: 10 });
  await createAlertChannel(db, { name: 'other', type: 'webhook', url, events: ['disk-full'] });
  const t0 = new Date('2026-12-05T10:00:00Z');
  const at = (min: number) => new Date(t0.getTime() + min * 60_000);
  const fail = (min: number) =>
    notePlayerReachability(db, {
      reached: [],
      failed: [{ playerId: player.id, error: 'PLAYER_UNREACHABLE connection refused' }],
      now: at(min),
    });

  t.same(await fail(0), [], 'just failed: nobody told');
  t.same(await fail(1), [], 'one minute');
  t.same(await fail(2), [{ channelId: fast.id, digestSeconds: 5 }], 'the 2-minute channel at 2 minutes');
  t.same(await fail(5), [], 'told once per outage');
  t.same(await fail(10), [{ channelId: slow.id, digestSeconds: 60 }], 'the 10-minute channel at 10');
  t.same(await fail(30), [], 'nothing more for this outage');
  const events = await db
    .selectFrom('alert_events')
    .select(['message', 'details'])
    .where('type', '=', 'player-unreachable')
    .orderBy('id')
    .execute();
  t.equal(events.length, 2);
  t.equal(
    events[0]?.message,
    'Player Box (kodi, 10.0.0.5:8080) unreachable for 2 minutes: PLAYER_UNREACHABLE connection refused',
  );
  t.match(events[0]?.details, { playerId: player.id, since: t0.toISOString(), minutes: 2 });

  // Reached again: the outage ends; a new one starts from its own first failure.
  t.same(await notePlayerReachability(db, { reached: [player.id], failed: [], now: at(31) }), []);
  t.equal((await db.selectFrom('player_outages').select('player_id').execute()).length, 0);
  t.same(await fail(40), []);
  t.same(await fail(41), []);
  t.same(await fail(42), [{ channelId: fast.id, digestSeconds: 5 }], 'a new outage alerts again');
});

t.test('the digest: counts per type, the first five lines, the worst level', async (t) => {
  const ev = (type: 'job-dead-lettered' | 'publish-done', i: number) => ({
    type,
    message: `${type} ${i}`,
    details: {},
    createdAt: new Date(0),
  });
  const events = [ev('publish-done', 1), ...Array.from({ length: 6 }, (_, i) => ev('job-dead-lettered', i))];
  const m = digestMessage(
    events,
    new Map([
      ['publish-done', 1],
      ['job-dead-lettered', 499],
    ]),
  );
  t.equal(m.title, 'Metarr: 1 movie published, 499 jobs dead-lettered');
  t.equal(m.level, 'failure');
  t.same(m.body.split('\n'), [
    '• publish-done 1',
    '• job-dead-lettered 0',
    '• job-dead-lettered 1',
    '• job-dead-lettered 2',
    '• job-dead-lettered 3',
    '… and 495 more',
  ]);
  t.equal(m.data.total, 500);
  t.equal(m.data.events.length, 5);
  const one = digestMessage([ev('publish-done', 1)], new Map([['publish-done', 1]]));
  t.equal(one.title, 'Metarr: movie published');
  t.equal(one.level, 'success');
  t.equal(one.body, '• publish-done 1');
});

t.test('requests: ntfy titles outside Latin-1 are encoded words; long Discord text is clipped', async (t) => {
  const m = {
    title: 'Metarr: Amélie ✓',
    body: 'x'.repeat(5000),
    level: 'info' as const,
    data: { total: 0, counts: {}, events: [] },
  };
  const ntfy = alertRequest({ name: 'n', type: 'ntfy', url: 'https://ntfy.sh/', token: null, topic: 't' }, m);
  t.equal(ntfy.url, 'https://ntfy.sh/t');
  t.equal(ntfy.headers['title'], `=?UTF-8?B?${Buffer.from('Metarr: Amélie ✓').toString('base64')}?=`);
  t.notOk('authorization' in ntfy.headers);
  const discord = JSON.parse(
    alertRequest(
      { name: 'd', type: 'discord', url: 'https://discord.com/api/webhooks/1/x', token: null, topic: null },
      m,
    ).body,
  );
  t.equal(discord.embeds[0].description.length, 4096);
  t.ok(discord.embeds[0].description.endsWith('…'));
  const apprise = alertRequest(
    { name: 'a', type: 'apprise', url: 'http://apprise:8000/', token: 'my key', topic: null },
    m,
  );
  t.equal(apprise.url, 'http://apprise:8000/notify/my%20key');
  const stored = await getAlertChannel(
    db,
    (await createAlertChannel(db, { name: 's', type: 'apprise', url: 'http://a', token: 'k' })).id,
  );
  t.equal(stored?.token, 'k', 'opened on read');
  const raw = await db
    .selectFrom('alert_channels')
    .select(['url', 'token'])
    .where('id', '=', stored?.id ?? 0)
    .executeTakeFirstOrThrow();
  t.match(raw, { url: /^enc:v1:/, token: /^enc:v1:/ });
});

t.test(
  'a delivery before the oldest event is one window old sends nothing and says when to come back',
  async (t) => {
    await db.deleteFrom('alert_channels').execute();
    // Port 9 on loopback: a send would fail, so an answer without an error proves nothing was sent.
    const ch = await createAlertChannel(db, { name: 'w', type: 'webhook', url, digestSeconds: 30 });
    await recordAlertEvent(db, { type: 'disk-full', message: 'full' });
    const r = await deliverAlerts({ db, log: silentLogger }, ch.id);
    t.match(r, { channelId: ch.id, waiting: 1 });
    t.ok('waitSeconds' in r && r.waitSeconds >= 29 && r.waitSeconds <= 30, 'about one window');
    await db
      .updateTable('alert_events')
      .set({ created_at: new Date(Date.now() - 31_000) })
      .execute();
    await t.rejects(
      deliverAlerts({ db, log: silentLogger }, ch.id),
      { code: 'ALERT_UNREACHABLE' },
      'one window later it sends',
    );
    const waiting = await db
      .selectFrom('alert_outbox')
      .select('event_id')
      .where('delivered_at', 'is', null)
      .execute();
    t.equal(waiting.length, 1, 'a failed send leaves the event waiting');
  },
);
