import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import tap from 'tap';
import { type Stack, startStack, waitFor } from './support/stack.ts';
import { fixture } from './support/webhook-fixtures.ts';

/** Movies, TV and music libraries under one media root that Kodi sees as smb://nas/. */
type SubTest = Pick<typeof tap, 'teardown' | 'testdir' | 'equal'>;

async function setup(t: SubTest) {
  const stack = await startStack(t);
  const kodi = await startFakeKodi({});
  t.teardown(() => kodi.close());
  const media = t.testdir({
    movies: { 'The Matrix (1999)': { 'The Matrix (1999) [Bluray-1080p].mkv': 'video' } },
    tv: { Severance: { 'Season 01': {}, 'Season 02': {} } },
    music: { 'Daft Punk': { 'Random Access Memories (2013)': {} } },
  });
  const libs: Record<string, number> = {};
  for (const [name, type] of [
    ['movies', 'movie'],
    ['tv', 'tv'],
    ['music', 'music'],
  ] as const) {
    const r = await stack.api('POST', '/api/libraries', { name, type, path: path.join(media, name) });
    t.equal(r.status, 201, r.text);
    libs[name] = r.json.id;
  }
  for (const [manager, from, to] of [
    ['radarr', '/movies', 'movies'],
    ['sonarr', '/tv', 'tv'],
    ['lidarr', '/music', 'music'],
  ] as const) {
    const r = await stack.api('POST', '/api/path-mappings', { manager, from, to: path.join(media, to) });
    t.equal(r.status, 201, r.text);
  }
  const group = await stack.api('POST', '/api/player-groups', {
    name: 'Kodi boxes',
    type: 'kodi',
    sharedLibrary: true,
    libraryIds: Object.values(libs),
    pathMappings: [{ from: media, to: 'smb://nas/' }],
  });
  t.equal(group.status, 201, group.text);
  const player = await stack.api('POST', '/api/players', {
    groupId: group.json.id,
    name: 'Kodi',
    type: 'kodi',
    host: '127.0.0.1',
    port: kodi.port,
  });
  t.equal(player.status, 201, player.text);
  return { stack, kodi, media, libs };
}

async function settled(stack: Stack, jobId: string) {
  return waitFor(`job ${jobId} settled`, async () => {
    const r = await stack.api('GET', `/api/jobs/${jobId}`);
    return r.json?.state === 'completed' || r.json?.state === 'failed' ? r.json : null;
  });
}

async function jobsOfType(stack: Stack, name: string) {
  return stack.jobs.count({ types: [name] });
}

tap.test('Sonarr and Lidarr downloads tell Kodi to scan exactly the season or album folder', async (t) => {
  const { stack, kodi } = await setup(t);
  const cases = [
    ['sonarr', 'sonarr-download', 'VideoLibrary.Scan', 'smb://nas/tv/Severance/Season 02/'],
    ['sonarr', 'sonarr-import-complete', 'VideoLibrary.Scan', 'smb://nas/tv/Severance/Season 01/'],
    [
      'lidarr',
      'lidarr-download',
      'AudioLibrary.Scan',
      'smb://nas/music/Daft Punk/Random Access Memories (2013)/',
    ],
  ] as const;
  for (const [source, name, method, directory] of cases) {
    const ack = await stack.api('POST', `/api/webhooks/${source}`, fixture(name));
    t.equal(ack.status, 200, `${name}: ${ack.text}`);
    t.equal(ack.json.status, 'success');
    const hook = await settled(stack, ack.json.jobId);
    t.equal(hook.state, 'completed', name);
    // A Sonarr delivery also records the series (scan-series); the players are told the folder.
    const types = hook.children.map((c: { type: string }) => c.type).sort();
    t.same(types, source === 'sonarr' ? ['notify-players', 'scan-series'] : ['notify-players'], name);
    const notify = await settled(
      stack,
      hook.children.find((c: { type: string }) => c.type === 'notify-players').id,
    );
    t.equal(notify.state, 'completed');
    const call = await waitFor(`${method} ${directory}`, async () =>
      kodi.calls.find(
        (c) => c.method === method && (c.params as { directory?: string })?.directory === directory,
      ),
    );
    t.ok(call, `${name}: Kodi ${method} of ${directory}`);
  }
  const scans = kodi.calls.filter((c) => /Library\.Scan$/.test(c.method));
  t.equal(scans.length, 3, 'one scan per delivery, nothing broader');
  t.equal(await jobsOfType(stack, 'scan-movie'), 0, 'TV and music never start a movie scan');
});

tap.test(
  'Radarr MovieDelete marks the movie removed and tells the players; a file deleted for an upgrade does nothing',
  async (t) => {
    const { stack } = await setup(t);
    const dl = await stack.api('POST', '/api/webhooks/radarr', fixture('radarr-download'));
    const hook = await settled(stack, dl.json.jobId);
    await settled(stack, hook.children[0].id);
    const before = await stack.api('GET', '/api/movies');
    t.match(before.json, [{ title: 'The Matrix', status: 'present' }]);

    const upgrade = await stack.api(
      'POST',
      '/api/webhooks/radarr',
      fixture('radarr-movie-file-delete-upgrade'),
    );
    t.equal(upgrade.status, 200);
    t.equal(upgrade.json.status, 'success', 'recorded and queued: the handler decides');
    const upgradeJob = await settled(stack, upgrade.json.jobId);
    t.equal(upgradeJob.state, 'completed');
    t.same(upgradeJob.children, [], 'no job beyond the webhook: the Download that follows rescans');

    const del = await stack.api('POST', '/api/webhooks/radarr', fixture('radarr-movie-delete'));
    t.equal(del.status, 200, del.text);
    const delJob = await settled(stack, del.json.jobId);
    t.equal(delJob.state, 'completed');
    t.match(delJob.children, [{ type: 'notify-players' }]);
    t.equal(delJob.children.length, 1, 'no scan of a deleted folder');
    const notify = await settled(stack, delJob.children[0].id);
    t.equal(notify.state, 'completed');
    t.match(notify.payload, { change: 'deleted', path: /The Matrix \(1999\)$/ });
    const after = await stack.api('GET', '/api/movies');
    t.match(after.json, [{ title: 'The Matrix', status: 'removed' }], 'the row is kept, marked removed');
  },
);

tap.test('Grab, Health and the other non-actionable events: 200 ignored, recorded, no job', async (t) => {
  const stack = await startStack(t, { worker: false });
  const ignored = [
    ['radarr', 'radarr-grab', 'Grab'],
    ['radarr', 'radarr-health', 'Health'],
    ['radarr', 'radarr-health-restored', 'HealthRestored'],
    ['radarr', 'radarr-application-update', 'ApplicationUpdate'],
    ['radarr', 'radarr-manual-interaction-required', 'ManualInteractionRequired'],
    ['sonarr', 'sonarr-grab', 'Grab'],
    ['sonarr', 'sonarr-health', 'Health'],
    ['lidarr', 'lidarr-grab', 'Grab'],
    ['lidarr', 'lidarr-health', 'Health'],
  ] as const;
  for (const [source, name, eventType] of ignored) {
    const r = await stack.api('POST', `/api/webhooks/${source}`, fixture(name));
    t.equal(r.status, 200, name);
    t.match(r.json, { status: 'ignored', eventType }, name);
  }
  const unknown = fixture('radarr-grab');
  unknown.eventType = 'SomethingNew';
  const u = await stack.api('POST', '/api/webhooks/radarr', unknown);
  t.equal(u.status, 200, 'an unknown eventType is never a 4xx');
  t.equal(u.json.status, 'ignored');

  t.equal(await stack.jobs.count(), 0, 'no job');
  const health = await stack.api('GET', '/api/webhooks/deliveries?eventType=Health');
  t.equal(health.json.length, 3, 'Health is visible in the deliveries list');
  t.match(health.json[0], { eventType: 'Health', status: 'ignored', jobId: null });
  const all = await stack.api('GET', '/api/webhooks/deliveries?limit=100');
  t.equal(all.json.length, ignored.length + 1, 'every one is recorded');
});
