/** fetch-provider-assets' alert: TMDB answers 401 to the configured key → `provider-key-rejected`. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { deliveriesSettled, pipeline, webhook } from './support/alerts.ts';
import { waitFor } from './support/stack.ts';

t.test('a rejected TMDB key alerts provider-key-rejected (and its dead letter) in one digest', async (t) => {
  const root = path.join(t.testdir({}), 'movies');
  await fs.mkdir(root, { recursive: true });
  const { stack, scan } = await pipeline(t, root, 'a-revoked-key');
  const rx = await startFakeAlertReceiver();
  t.teardown(() => rx.close());
  await webhook(stack, `${rx.url}/defaults`, 'Defaults');
  await webhook(stack, `${rx.url}/players`, 'Players', { events: ['player-unreachable'] });

  await scan();
  await waitFor(
    'fetch-provider-assets dead-lettered',
    async () => (await stack.jobs.count({ types: ['fetch-provider-assets'], states: ['failed'] })) === 1,
    30_000,
  );
  await waitFor('delivered', async () => rx.at('/defaults').length >= 1, 20_000);
  await deliveriesSettled(stack);
  const msgs = rx.at('/defaults');
  t.equal(msgs.length, 1, 'one digest');
  t.match(msgs[0]?.json, {
    title: 'Metarr: 1 provider key rejected, 1 job dead-lettered',
    counts: { 'provider-key-rejected': 1, 'job-dead-lettered': 1 },
    level: 'failure',
  });
  t.match(
    msgs[0]?.json.message,
    /^• The tmdb API key was rejected \(movie \d+\): TMDB refused the API key \(HTTP 401\)\n• Job fetch-provider-assets \S+ dead-lettered after 1 attempt: PROVIDER_AUTH /,
  );
  t.notOk(msgs[0]?.body.includes('a-revoked-key'), 'the key itself is never sent');
  t.equal(rx.at('/players').length, 0);
});
