import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import t from 'tap';
import {
  download,
  jobsOf,
  MOVIE,
  movieLibrary,
  notifyJobs,
  playerGroup,
  radarrFixture,
  settled,
} from './support/notify.ts';
import { ROOT, startStack, waitFor } from './support/stack.ts';

const scans = (k: { calls: { method: string; params: unknown }[] }, method = 'VideoLibrary.Scan') =>
  k.calls.filter((c) => c.method === method);

t.test('while Kodi plays, the scan is deferred (not failed) and runs once playback stops', async (t) => {
  const stack = await startStack(t, { env: { METARR_NOTIFY_DEFER_SECONDS: '1' } });
  const kodi = await startFakeKodi();
  const always = await startFakeKodi();
  t.teardown(() => Promise.all([kodi.close(), always.close()]));
  const lib = await movieLibrary(t, stack);
  await playerGroup(
    t,
    stack,
    {
      name: 'Living room',
      type: 'kodi',
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: 'smb://nas/movies' }],
    },
    [{ name: 'Living room', port: kodi.port }],
  );
  await playerGroup(
    t,
    stack,
    { name: 'Bedroom', type: 'kodi', scanWhilePlaying: 'always', libraryIds: [lib.id] },
    [{ name: 'Bedroom', port: always.port }],
  );
  kodi.setPlaying(true);
  always.setPlaying(true);

  await stack.queue.enqueue('notify-players', { libraryId: lib.id, path: lib.folder, change: 'created' });
  await waitFor('the "always" group scanned despite playback', async () => scans(always).length === 1);
  t.notOk(
    always.calls.some((c) => c.method === 'Player.GetActivePlayers'),
    '"always" does not even ask what is playing',
  );
  const deferredJob = await waitFor('a deferred notification', async () =>
    (await notifyJobs(stack)).find((j) => j.state === 'completed' && j.output?.deferred),
  );
  t.match(deferredJob.output.deferred, { retryInSeconds: 1 });
  t.equal(scans(kodi).length, 0, 'no scan while a video plays');
  t.ok(scans(kodi, 'Player.GetActivePlayers').length >= 1);
  // Still playing for another round: deferred again, still nothing failed.
  await waitFor('a second deferral', async () => scans(kodi, 'Player.GetActivePlayers').length >= 2, 10_000);
  t.equal(scans(kodi).length, 0);

  kodi.setPlaying(false);
  await waitFor('the scan after playback stops', async () => scans(kodi).length === 1, 10_000);
  t.same(scans(kodi)[0]?.params, { directory: `smb://nas/movies/${MOVIE}/`, showdialogs: false });
  await settled(stack, ['notify-players', 'notify-group']);
  const jobs = await notifyJobs(stack);
  t.ok(
    jobs.every((j) => j.state === 'completed'),
    'no notification failed',
  );
  t.equal(scans(kodi).length, 1, 'exactly one scan in the end');
  t.equal(scans(always).length, 1);
});

t.test('a delete cleans the Kodi folder only when the group enables cleanAfterDelete', async (t) => {
  const stack = await startStack(t);
  const off = await startFakeKodi();
  const on = await startFakeKodi();
  const jf = await startFakeJellyfin({ apiKey: 'k' });
  t.teardown(() => Promise.all([off.close(), on.close(), jf.close()]));
  const lib = await movieLibrary(t, stack);
  const map = [{ from: lib.root, to: 'smb://nas/movies/' }];
  await playerGroup(t, stack, { name: 'Off', type: 'kodi', libraryIds: [lib.id], pathMappings: map }, [
    { name: 'Off', port: off.port },
  ]);
  const g = await playerGroup(
    t,
    stack,
    { name: 'On', type: 'kodi', libraryIds: [lib.id], pathMappings: map },
    [{ name: 'On', port: on.port }],
  );
  const patched = await stack.api('PATCH', `/api/player-groups/${g.id}`, { cleanAfterDelete: true });
  t.equal(patched.status, 200, patched.text);
  t.equal(patched.json.cleanAfterDelete, true);
  await playerGroup(t, stack, { name: 'JF', type: 'jellyfin', libraryIds: [lib.id] }, [
    { name: 'JF', port: jf.port, apiKey: 'k' },
  ]);

  const ack = await stack.api('POST', '/api/webhooks/radarr', await radarrFixture('radarr-download.json'));
  t.equal(ack.status, 200);
  await waitFor('both Kodis scanned', async () => scans(off).length === 1 && scans(on).length === 1);
  await settled(stack, ['webhook', 'scan-movie', 'notify-players', 'notify-group']);
  const offCallsBefore = off.calls.length;
  const del = JSON.parse(
    await fs.readFile(
      path.join(ROOT, 'packages/core/test/fixtures/webhooks/radarr-movie-delete.json'),
      'utf8',
    ),
  );
  const ack2 = await stack.api('POST', '/api/webhooks/radarr', del);
  t.equal(ack2.status, 200, ack2.text);
  await waitFor('Kodi clean', async () => scans(on, 'VideoLibrary.Clean').length === 1);
  await waitFor('Jellyfin told about the delete', async () =>
    jf.updates.some((u) => u.updateType === 'Deleted'),
  );
  await settled(stack, ['webhook', 'scan-movie', 'notify-players', 'notify-group']);
  t.same(scans(on, 'VideoLibrary.Clean')[0]?.params, {
    directory: `smb://nas/movies/${MOVIE}/`,
    showdialogs: false,
  });
  t.equal(scans(off, 'VideoLibrary.Clean').length, 0, 'no clean where the group leaves it off');
  t.equal(off.calls.length, offCallsBefore, 'and no other call either');
  const skipped = (await notifyJobs(stack)).find((j) => j.output?.skipped);
  t.match(skipped?.output.skipped, /cleanAfterDelete is off/);
});

t.test(
  'Jellyfin and Plex down for a while: their notify jobs retry alone and succeed once back',
  async (t) => {
    const stack = await startStack(t, { env: { METARR_NOTIFY_RETRY_DELAY_SECONDS: '1' } });
    const kodi = await startFakeKodi();
    const jf = await startFakeJellyfin({ apiKey: 'k' });
    const jf2 = await startFakeJellyfin({ apiKey: 'k' });
    const plex = await startFakePlex({ token: 'p' });
    t.teardown(() => Promise.all([kodi.close(), jf.close(), jf2.close(), plex.close()]));
    const lib = await movieLibrary(t, stack);
    await playerGroup(t, stack, { name: 'Kodi', type: 'kodi', libraryIds: [lib.id] }, [
      { name: 'Kodi', port: kodi.port },
    ]);
    await playerGroup(
      t,
      stack,
      {
        name: 'JF',
        type: 'jellyfin',
        libraryIds: [lib.id],
        pathMappings: [{ from: lib.root, to: '/data/movies' }],
      },
      [
        { name: 'JF', port: jf.port, apiKey: 'k' },
        { name: 'JF healthy', port: jf2.port, apiKey: 'k' },
      ],
    );
    await playerGroup(
      t,
      stack,
      {
        name: 'Plex',
        type: 'plex',
        libraryIds: [lib.id],
        pathMappings: [{ from: lib.root, to: '/data/movies' }],
      },
      [{ name: 'Plex', port: plex.port, apiKey: 'p' }],
    );
    jf.setMode('500');
    plex.setMode('reset');

    const ack = await stack.api('POST', '/api/webhooks/radarr', await download(1));
    t.equal(ack.status, 200);
    await waitFor('Kodi scanned', async () => scans(kodi).length === 1);
    const retrying = await waitFor('Jellyfin and Plex jobs retrying', async () => {
      const jobs = (await notifyJobs(stack)).filter((j) => j.data.payload['groupId'] !== undefined);
      const failing = jobs.filter((j) => j.retry_count >= 1);
      return failing.length === 2 ? failing : null;
    });
    t.equal(retrying.length, 2);
    jf.setMode('ok');
    plex.setMode('ok');
    await waitFor('Jellyfin updated', async () => jf.updates.length === 1, 20_000);
    await waitFor('Plex refreshed', async () => plex.refreshes.length === 1, 20_000);
    await settled(stack, ['notify-players', 'notify-group']);

    t.same(jf.updates[0], { flavor: 'jellyfin', path: `/data/movies/${MOVIE}`, updateType: 'Created' });
    t.same(plex.refreshes[0], { key: '1', path: `/data/movies/${MOVIE}` });
    t.equal(scans(kodi).length, 1, 'the healthy group was told once, not again on the others’ retries');
    t.equal(jf2.updates.length, 1, 'the healthy member of the failing group was told once too');
    const scanJobs = await jobsOf(stack, 'scan-movie');
    t.equal(scanJobs.length, 1, 'the scan ran once');
    t.equal(scanJobs[0]?.retry_count, 0, 'and was never rerun');
    const groupJobs = (await notifyJobs(stack)).filter((j) => j.data.payload['groupId'] !== undefined);
    t.ok(
      groupJobs.every((j) => j.state === 'completed'),
      'every group job completed in the end',
    );
  },
);

t.test('401 and redirects are permanent: dead letter at once, no retries, a clear message', async (t) => {
  const stack = await startStack(t, { env: { METARR_NOTIFY_RETRY_DELAY_SECONDS: '1' } });
  const plex = await startFakePlex({ token: 'p' });
  const jf = await startFakeJellyfin({ apiKey: 'k' });
  t.teardown(() => Promise.all([plex.close(), jf.close()]));
  const lib = await movieLibrary(t, stack);
  const pg = await playerGroup(t, stack, { name: 'Plex', type: 'plex', libraryIds: [lib.id] }, [
    { name: 'Office Plex', port: plex.port, apiKey: 'wrong-token' },
  ]);
  const jg = await playerGroup(t, stack, { name: 'JF', type: 'jellyfin', libraryIds: [lib.id] }, [
    { name: 'Attic Jellyfin', port: jf.port, apiKey: 'k' },
  ]);
  jf.setMode('redirect');

  await stack.queue.enqueue('notify-players', { libraryId: lib.id, path: lib.folder, change: 'modified' });
  await settled(stack, ['notify-players', 'notify-group']);
  const jobs = await notifyJobs(stack);
  const plexJob = jobs.find((j) => j.data.payload['groupId'] === pg.id);
  const jfJob = jobs.find((j) => j.data.payload['groupId'] === jg.id);
  t.equal(plexJob?.state, 'failed');
  t.equal(plexJob?.retry_count, 0, 'no retry for bad credentials');
  t.match(plexJob?.output, { code: 'NOTIFY_GROUP_FAILED', retryable: false });
  t.match(plexJob?.output.error, /check the credentials of player Office Plex/);
  t.notMatch(JSON.stringify(plexJob?.output), /wrong-token/, 'the token is never in the error');
  t.equal(jfJob?.state, 'failed');
  t.equal(jfJob?.retry_count, 0, 'no retry for a redirect');
  t.match(jfJob?.output.error, /redirect/);
  t.equal(
    jf.calls.filter((c) => c.path.toLowerCase() === '/library/media/updated').length,
    1,
    'the redirect was not followed',
  );
  const dead = await waitFor('both in the dead-letter queue', async () => {
    const n = await stack.jobs.count({ types: ['dead-letter'] });
    return n >= 2 ? n : null;
  });
  t.equal(dead, 2);
});

t.test(
  'fallback order: a shared group asks the next member when the first is down; others ask all',
  async (t) => {
    const stack = await startStack(t);
    const a = await startFakeKodi();
    const b = await startFakeKodi();
    const c = await startFakeKodi();
    const d = await startFakeKodi();
    const e = await startFakeKodi();
    t.teardown(() => Promise.all([a, b, c, d, e].map((k) => k.close())));
    const lib = await movieLibrary(t, stack);
    await playerGroup(t, stack, { name: 'Shared', type: 'kodi', sharedLibrary: true, libraryIds: [lib.id] }, [
      { name: 'A', port: a.port },
      { name: 'B', port: b.port },
      { name: 'C', port: c.port },
    ]);
    await playerGroup(t, stack, { name: 'Own', type: 'kodi', sharedLibrary: false, libraryIds: [lib.id] }, [
      { name: 'D', port: d.port },
      { name: 'E', port: e.port },
    ]);
    a.setMode('500');

    await stack.queue.enqueue('notify-players', { libraryId: lib.id, path: lib.folder, change: 'modified' });
    await settled(stack, ['notify-players', 'notify-group']);
    t.equal(a.calls.length, 1, 'A was tried first (and failed)');
    t.equal(scans(a).length, 0);
    t.equal(scans(b).length, 1, 'B, the next in order, scanned');
    t.equal(scans(c).length, 0, 'C was not needed');
    t.equal(scans(d).length, 1, 'a non-shared group tells every member');
    t.equal(scans(e).length, 1);
    const jobs = await notifyJobs(stack);
    t.ok(
      jobs.every((j) => j.state === 'completed'),
      'no job failed: one member answering is enough for a shared library',
    );
  },
);
