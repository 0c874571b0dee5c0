/**
 * `player-unreachable`: a real notification to a closed port, the outage start kept in the database
 * (what every worker measures from), one alert once the outage lasts the channel's minutes.
 */
import { startFakeAlertReceiver, startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { deliveriesSettled } from './support/alerts.ts';
import { movieLibrary, playerGroup } from './support/notify.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('player unreachable: alerted once the outage lasts unreachableMinutes, once per outage', async (t) => {
  const stack = await startStack(t, {
    env: { METARR_NOTIFY_RETRY_DELAY_SECONDS: '1', METARR_ALERT_RETRY_DELAY_SECONDS: '1' },
  });
  const rx = await startFakeAlertReceiver();
  const kodi = await startFakeKodi();
  const port = kodi.port;
  await kodi.close(); // nothing listens there any more: ECONNREFUSED, a retryable failure
  t.teardown(() => rx.close());
  const lib = await movieLibrary(t, stack);
  const g = await playerGroup(t, stack, { name: 'Living room', type: 'kodi', libraryIds: [lib.id] }, [
    { name: 'Living room Kodi', port },
  ]);
  const playerId = g.playerIds[0] as number;
  const ch = await stack.api('POST', '/api/alerts', {
    name: 'Players',
    type: 'webhook',
    url: `${rx.url}/players`,
    events: ['player-unreachable'],
    unreachableMinutes: 2,
    digestSeconds: 1,
  });
  t.equal(ch.status, 201);

  await stack.queue.enqueue('notify-players', { libraryId: lib.id, path: lib.folder, change: 'created' });
  const outage = await waitFor('the outage recorded', async () =>
    stack.db.selectFrom('player_outages').selectAll().where('player_id', '=', playerId).executeTakeFirst(),
  );
  // The first failures are recent: no alert yet, however many attempts fail.
  await waitFor(
    'a retried attempt',
    async () => (await stack.jobs.count({ types: ['notify-group'], retried: true })) > 0,
  );
  t.equal(
    await stack.db
      .selectFrom('alert_events')
      .select('id')
      .execute()
      .then((r) => r.length),
    0,
    'no alert yet',
  );
  const still = await stack.db
    .selectFrom('player_outages')
    .select('since')
    .where('player_id', '=', playerId)
    .executeTakeFirstOrThrow();
  t.same(still.since, outage.since, 'the outage start is kept across attempts');

  // The outage has lasted 3½ minutes (its start, in the database, moved back: the clock every worker
  // reads). A half minute of slack: an attempt that read its clock just before this update measures
  // from then, and must still count 3 whole minutes.
  await stack.db
    .updateTable('player_outages')
    .set({ since: new Date(Date.now() - 3.5 * 60_000) })
    .where('player_id', '=', playerId)
    .execute();
  await waitFor('the alert', async () => rx.at('/players').length === 1, 20_000);
  const [msg] = rx.at('/players');
  t.match(msg?.json, {
    title: 'Metarr: player unreachable',
    counts: { 'player-unreachable': 1 },
    level: 'warning',
  });
  t.match(
    msg?.json.message,
    /^• Player Living room Kodi \(kodi, 127\.0\.0\.1:\d+\) unreachable for 3 minutes: PLAYER_UNREACHABLE/,
  );
  // Later failed attempts of the same outage add nothing.
  const retries = async () =>
    Math.max(0, ...(await stack.jobs.rows({ types: ['notify-group'] })).map((j) => j.retry_count));
  const atAlert = await retries();
  await waitFor('another failed attempt after the alert', async () => (await retries()) > atAlert, 20_000);
  await deliveriesSettled(stack);
  const events = await stack.db.selectFrom('alert_events').select('type').execute();
  t.same(
    events.map((e) => e.type),
    ['player-unreachable'],
    'one player-unreachable event for the outage',
  );
  t.equal(rx.at('/players').length, 1, 'one alert');
});
