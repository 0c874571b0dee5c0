import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { startStack, waitFor } from './support/stack.ts';
import { at, fixture } from './support/webhook-fixtures.ts';

t.test(
  'a 24-episode Sonarr season pack → 24 deliveries, 24 webhook jobs, at most 2 Kodi scans of the season folder',
  async (t) => {
    const stack = await startStack(t);
    const kodi = await startFakeKodi({});
    t.teardown(() => kodi.close());
    const media = t.testdir({ tv: { Severance: { 'Season 02': {} } } });
    const tvRoot = path.join(media, 'tv');
    const lib = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: tvRoot });
    t.equal(lib.status, 201, lib.text);
    t.equal(
      (await stack.api('POST', '/api/path-mappings', { manager: 'sonarr', from: '/tv', to: tvRoot })).status,
      201,
    );
    const group = await stack.api('POST', '/api/player-groups', {
      name: 'Kodi',
      type: 'kodi',
      sharedLibrary: true,
      libraryIds: [lib.json.id],
      pathMappings: [{ from: tvRoot, to: 'smb://nas/tv/' }],
    });
    t.equal(group.status, 201, group.text);
    // The default window: what a user who never touched the setting gets.
    const window: number = group.json.debounceSeconds;
    t.ok(window > 0, `the group coalesces within ${window} s by default`);
    const player = await stack.api('POST', '/api/players', {
      groupId: group.json.id,
      name: 'Kodi',
      type: 'kodi',
      host: '127.0.0.1',
      port: kodi.port,
    });
    t.equal(player.status, 201, player.text);

    // Coalescing windows are aligned slots (pg-boss singleton slots): start the burst early in one, as
    // a burst that straddles a boundary is, by design, one scan per window it touches.
    const into = Date.now() % (window * 1000);
    if (into > 300) await new Promise((r) => setTimeout(r, window * 1000 - into + 20));

    // Sonarr sends one Download per imported episode file, all within a few seconds.
    const acks = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const body = fixture('sonarr-download');
        const n = String(i + 1).padStart(2, '0');
        const file = at(body, 'episodeFile');
        file.id = 120_000 + i;
        file.relativePath = `Season 02/Severance - S02E${n} - Episode ${n} [WEBDL-2160p].mkv`;
        file.path = `/tv/Severance/${file.relativePath}`;
        (body.episodes as { id: number; episodeNumber: number }[])[0] = {
          ...(body.episodes as object[])[0],
          id: 5000 + i,
          episodeNumber: i + 1,
        } as { id: number; episodeNumber: number };
        body.downloadId = `SABnzbd_nzo_pack_${n}`;
        return stack.api('POST', '/api/webhooks/sonarr', body);
      }),
    );
    t.same(
      acks.map((a) => a.json?.status),
      Array(24).fill('success'),
      'every episode is its own accepted delivery',
    );

    const folder = 'smb://nas/tv/Severance/Season 02/';
    const scans = () =>
      kodi.calls.filter(
        (c) => c.method === 'VideoLibrary.Scan' && (c.params as { directory?: string })?.directory === folder,
      );
    await waitFor('the first scan', async () => scans().length >= 1, 15_000);
    // Wait out two windows and until no notify-players job is left to run.
    await new Promise((r) => setTimeout(r, window * 2 * 1000 + 1000));
    await waitFor('notify jobs drained', async () => {
      const n = await stack.jobs.count({
        types: ['webhook', 'notify-players', 'notify-group'],
        states: ['created', 'retry', 'active'],
      });
      return n === 0;
    });
    const n = scans().length;
    t.ok(n >= 1 && n <= 2, `Kodi scanned the season folder ${n} time(s)`);
    t.equal(kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').length, n, 'and scanned nothing else');
  },
);
