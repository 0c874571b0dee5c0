import { type FakeKodi, startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import t from 'tap';
import { AppError } from '../../src/errors.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { kodiFolder, mapGroupPath, trimTrailingSeparators } from '../../src/paths.ts';
import {
  type ClientFactory,
  createMediaServerClient,
  type GroupTarget,
  type MediaServerClient,
  notifyGroup,
  PLEX_SECTIONS_TTL_MS,
  type PlayerConn,
  shareClients,
} from '../../src/services/notification.ts';

/** The part of a tap Test the helpers need. */
interface Tap {
  teardown(fn: () => unknown): void;
}

const realClients: ClientFactory = (p) => createMediaServerClient(p, { timeoutMs: 300 });
const video = { mediaKind: 'video', change: 'created' } as const;

function kodiPlayer(
  id: number,
  fake: FakeKodi | { port: number },
  extra: Partial<PlayerConn> = {},
): PlayerConn {
  return {
    id,
    name: `Kodi ${id}`,
    type: 'kodi',
    host: '127.0.0.1',
    port: fake.port,
    useTls: false,
    ...extra,
  };
}

async function kodis(t: Tap, n: number): Promise<FakeKodi[]> {
  const out: FakeKodi[] = [];
  for (let i = 0; i < n; i++) {
    const k = await startFakeKodi();
    t.teardown(() => k.close());
    out.push(k);
  }
  return out;
}

function group(
  players: PlayerConn[],
  sharedLibrary: boolean,
  folder = '/mnt/movies/Heat (1995)',
): GroupTarget {
  return { groupId: 11, groupName: 'Living room', sharedLibrary, players, folder };
}

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = createLogger({
    name: 'test',
    level: 'debug',
    destination: {
      write(msg: string) {
        raw.push(msg);
        lines.push(JSON.parse(msg) as Record<string, unknown>);
      },
    },
  });
  return { log, lines, raw };
}

t.test('falls back to the second Kodi when the first is down', async (t) => {
  const [k1, k2, k3] = await kodis(t, 3);
  k1!.setMode('reset');
  const res = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!), kodiPlayer(2, k2!), kodiPlayer(3, k3!)], true),
    video,
  );
  t.same(res.notified, [2]);
  t.match(res.failures, [{ playerId: 1, code: 'PLAYER_CONNECTION_RESET', retryable: true }]);
  t.equal(k1!.calls.length, 1, 'the first Kodi was tried first');
  t.same(
    k2!.calls.map((c) => [c.method, c.params]),
    [['VideoLibrary.Scan', { directory: '/mnt/movies/Heat (1995)/', showdialogs: false }]],
  );
  t.equal(k3!.calls.length, 0, 'the shared library was updated once: the third Kodi is not asked');
});

t.test('a shared group stops at the first Kodi that answers', async (t) => {
  const [k1, k2] = await kodis(t, 2);
  const res = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], true),
    video,
  );
  t.same(res, { groupId: 11, notified: [1], failures: [], deferred: [] });
  t.equal(k2!.calls.length, 0);
});

t.test('a shared group tries the players in the given order', async (t) => {
  const order: number[] = [];
  const clientFor: ClientFactory = (p) => ({
    async refreshFolder() {
      order.push(p.id);
      if (p.id !== 5)
        throw new AppError('PLAYER_TIMEOUT', `player ${p.name} did not answer`, { retryable: true });
    },
    test: async () => ({ version: '1' }),
  });
  const players = [9, 4, 5, 1].map((id) => kodiPlayer(id, { port: 1 }));
  const res = await notifyGroup({ log: silentLogger, clientFor }, group(players, true), video);
  t.same(order, [9, 4, 5]);
  t.same(res.notified, [5]);
  t.same(
    res.failures.map((f) => f.playerId),
    [9, 4],
  );
});

t.test('a non-shared group asks every player, each in its own path form', async (t) => {
  const [k1] = await kodis(t, 1);
  const jf = await startFakeJellyfin({ apiKey: 'jf-key' });
  t.teardown(() => jf.close());
  const plex = await startFakePlex({
    sections: [{ key: '4', type: 'movie', title: 'Movies', locations: ['/mnt/movies'] }],
  });
  t.teardown(() => plex.close());
  const players: PlayerConn[] = [
    kodiPlayer(1, k1!),
    {
      id: 2,
      name: 'JF',
      type: 'jellyfin',
      host: '127.0.0.1',
      port: jf.port,
      useTls: false,
      apiKey: 'jf-key',
    },
    {
      id: 3,
      name: 'Plex',
      type: 'plex',
      host: '127.0.0.1',
      port: plex.port,
      useTls: false,
      apiKey: plex.token,
    },
  ];
  const res = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group(players, false, '/mnt/movies/Heat (1995)/'),
    video,
  );
  t.same(res, { groupId: 11, notified: [1, 2, 3], failures: [], deferred: [] });
  t.equal((k1!.calls[0]!.params as { directory: string }).directory, '/mnt/movies/Heat (1995)/');
  t.same(jf.updates, [{ flavor: 'jellyfin', path: '/mnt/movies/Heat (1995)', updateType: 'Created' }]);
  t.same(plex.refreshes, [{ key: '4', path: '/mnt/movies/Heat (1995)' }]);
});

t.test('a non-shared group with one player down still succeeds and reports the failure', async (t) => {
  const [k1, k2] = await kodis(t, 2);
  k2!.setMode('500');
  const res = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], false),
    video,
  );
  t.same(res.notified, [1]);
  t.match(res.failures, [{ playerId: 2, code: 'PLAYER_SERVER_ERROR' }]);
});

t.test(
  'all players down is a retryable NOTIFY_GROUP_FAILED naming players and errors, without secrets',
  async (t) => {
    const [k1, k2] = await kodis(t, 2);
    k1!.setMode('hang');
    k2!.setMode('reset');
    const players = [
      kodiPlayer(1, k1!, { name: 'Lounge', username: 'kodi', password: 'hunter2' }),
      kodiPlayer(2, k2!, { name: 'Attic', username: 'kodi', password: 'hunter2' }),
    ];
    const err = await notifyGroup(
      { log: silentLogger, clientFor: realClients },
      group(players, true),
      video,
    ).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof AppError);
    t.match(err, { code: 'NOTIFY_GROUP_FAILED', retryable: true });
    const msg = (err as Error).message;
    t.match(msg, /Living room/);
    t.match(msg, /Lounge.*PLAYER_TIMEOUT/);
    t.match(msg, /Attic.*PLAYER_CONNECTION_RESET/);
    t.notMatch(msg, /hunter2/);
  },
);

t.test('all players rejecting credentials is a permanent NOTIFY_GROUP_FAILED', async (t) => {
  const [k1, k2] = await kodis(t, 2);
  k1!.setMode('401');
  k2!.setMode('401');
  await t.rejects(
    notifyGroup(
      { log: silentLogger, clientFor: realClients },
      group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], false),
      video,
    ),
    { code: 'NOTIFY_GROUP_FAILED', retryable: false },
  );
});

t.test('one retryable failure among permanent ones keeps the group failure retryable', async (t) => {
  const [k1, k2] = await kodis(t, 2);
  k1!.setMode('redirect');
  k2!.setMode('500');
  await t.rejects(
    notifyGroup(
      { log: silentLogger, clientFor: realClients },
      group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], true),
      video,
    ),
    { code: 'NOTIFY_GROUP_FAILED', retryable: true },
  );
});

t.test('a group with no enabled players returns nothing notified and logs a warning', async (t) => {
  const { log, lines } = captureLogs();
  const res = await notifyGroup({ log, clientFor: realClients }, group([], true), video);
  t.same(res, { groupId: 11, notified: [], failures: [], deferred: [] });
  t.match(lines, [{ level: 'warn', service: 'MediaPlayerNotificationService', groupId: 11 }]);
});

t.test('logs every attempt with the service and player fields, never a password or key', async (t) => {
  const [k1, k2] = await kodis(t, 2);
  k1!.setMode('401');
  const jf = await startFakeJellyfin({ apiKey: 'jf-secret-key' });
  t.teardown(() => jf.close());
  const { log, lines, raw } = captureLogs();
  await notifyGroup(
    { log, clientFor: realClients },
    group(
      [
        kodiPlayer(1, k1!, { username: 'kodi', password: 'hunter2' }),
        kodiPlayer(2, k2!, { username: 'kodi', password: 'hunter2' }),
        {
          id: 3,
          name: 'JF',
          type: 'jellyfin',
          host: '127.0.0.1',
          port: jf.port,
          useTls: false,
          apiKey: 'jf-secret-key',
        },
      ],
      false,
    ),
    video,
  );
  const attempts = lines.filter((l) => 'playerId' in l);
  t.match(attempts, [
    {
      service: 'MediaPlayerNotificationService',
      playerId: 1,
      playerName: 'Kodi 1',
      groupId: 11,
      folder: '/mnt/movies/Heat (1995)/',
      ok: false,
      code: 'PLAYER_AUTH',
    },
    { service: 'MediaPlayerNotificationService', playerId: 2, ok: true, folder: '/mnt/movies/Heat (1995)/' },
    { service: 'MediaPlayerNotificationService', playerId: 3, ok: true, folder: '/mnt/movies/Heat (1995)' },
  ]);
  const all = raw.join('\n');
  t.notMatch(all, /hunter2/);
  t.notMatch(all, /jf-secret-key/);
});

t.test('Kodi gets Windows-form folders with a trailing backslash', async (t) => {
  const seen: string[] = [];
  const clientFor: ClientFactory = (): MediaServerClient => ({
    async refreshFolder(folder) {
      seen.push(folder);
    },
    test: async () => ({ version: '1' }),
  });
  await notifyGroup(
    { log: silentLogger, clientFor },
    group([kodiPlayer(1, { port: 1 })], true, 'D:\\Movies\\Heat'),
    video,
  );
  await notifyGroup(
    { log: silentLogger, clientFor },
    group([{ ...kodiPlayer(2, { port: 1 }), type: 'jellyfin' }], true, 'D:\\Movies\\Heat\\'),
    video,
  );
  t.same(seen, ['D:\\Movies\\Heat\\', 'D:\\Movies\\Heat']);
});

t.test('a removed movie makes Kodi clean that folder when the group enables cleaning', async (t) => {
  const [k1] = await kodis(t, 1);
  await notifyGroup({ log: silentLogger, clientFor: realClients }, group([kodiPlayer(1, k1!)], true), {
    mediaKind: 'video',
    change: 'deleted',
    cleanAfterDelete: true,
  });
  t.same(
    k1!.calls.map((c) => [c.method, c.params]),
    [['VideoLibrary.Clean', { directory: '/mnt/movies/Heat (1995)/', showdialogs: false }]],
  );
});

t.test('with cleaning off, a removed movie sends Kodi nothing and says why', async (t) => {
  const [k1] = await kodis(t, 1);
  const res = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!)], true),
    { mediaKind: 'video', change: 'deleted' },
  );
  t.equal(k1!.calls.length, 0);
  t.match(res, { notified: [], skipped: /cleanAfterDelete is off for group Living room/ });
});

t.test('a playing Kodi is deferred, not failed; a shared group uses a free member instead', async (t) => {
  const [k1, k2] = await kodis(t, 2);
  k1!.setPlaying(true);
  const own = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], false),
    { ...video, deferWhilePlaying: true },
  );
  t.same(own, { groupId: 11, notified: [2], failures: [], deferred: [1] });
  t.equal(k1!.calls.filter((c) => c.method === 'VideoLibrary.Scan').length, 0, 'no scan during playback');

  const shared = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], true),
    { ...video, deferWhilePlaying: true },
  );
  t.same(shared, { groupId: 11, notified: [2], failures: [], deferred: [] }, 'the free member scans');

  k2!.setPlaying(true);
  const allBusy = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!), kodiPlayer(2, k2!)], true),
    { ...video, deferWhilePlaying: true },
  );
  t.same(allBusy, { groupId: 11, notified: [], failures: [], deferred: [1, 2] }, 'all playing → deferred');

  const always = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!)], true),
    video,
  );
  t.same(always.notified, [1], 'without deferral the scan runs during playback');
  k1!.setPlaying('audio');
  const music = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group([kodiPlayer(1, k1!)], true),
    { ...video, deferWhilePlaying: true },
  );
  t.same(music.notified, [1], 'music playing does not defer a scan');
});

t.test('a cancelled notification stops before asking the next player', async (t) => {
  const asked: number[] = [];
  const ctrl = new AbortController();
  const clientFor: ClientFactory = (p) => ({
    async refreshFolder() {
      asked.push(p.id);
      ctrl.abort();
      throw new AppError('PLAYER_ABORTED', 'cancelled', { retryable: true });
    },
    test: async () => ({ version: '1' }),
  });
  await t.rejects(
    notifyGroup(
      { log: silentLogger, clientFor },
      group([kodiPlayer(1, { port: 1 }), kodiPlayer(2, { port: 1 })], true),
      { ...video, signal: ctrl.signal },
    ),
    { code: 'NOTIFY_ABORTED' },
  );
  t.same(asked, [1]);
});

t.test('a client that cannot even be built counts as that player’s failure', async (t) => {
  const res = await notifyGroup(
    { log: silentLogger, clientFor: realClients },
    group(
      [
        { id: 1, name: 'JF', type: 'jellyfin', host: '127.0.0.1', port: 1, useTls: false, apiKey: null },
        { id: 2, name: 'K', type: 'kodi', host: 'ftp://nas', port: 1, useTls: false },
      ],
      false,
    ),
    video,
  ).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(res, { code: 'NOTIFY_GROUP_FAILED', retryable: false });
});

t.test('mapGroupPath maps to an smb:// URL with forward slashes', async (t) => {
  const mappings = [{ from: '/data/movies', to: 'smb://nas/movies/' }];
  t.equal(mapGroupPath('/data/movies/Heat (1995)', mappings), 'smb://nas/movies/Heat (1995)');
  t.equal(mapGroupPath('/data/movies/Heat (1995)/Extras/', mappings), 'smb://nas/movies/Heat (1995)/Extras');
  t.equal(mapGroupPath('/data/movies', mappings), 'smb://nas/movies');
  t.equal(kodiFolder(mapGroupPath('/data/movies/Heat (1995)', mappings)), 'smb://nas/movies/Heat (1995)/');
});

t.test('mapGroupPath maps to a Windows path with backslashes', async (t) => {
  const mappings = [{ from: '/data/movies/', to: 'D:\\Movies\\' }];
  t.equal(mapGroupPath('/data/movies/Heat (1995)/Extras', mappings), 'D:\\Movies\\Heat (1995)\\Extras');
  t.equal(kodiFolder(mapGroupPath('/data/movies/Heat (1995)', mappings)), 'D:\\Movies\\Heat (1995)\\');
  t.equal(mapGroupPath('/data/movies', [{ from: '/data', to: 'D:\\' }]), 'D:\\movies');
});

t.test('mapGroupPath: longest whole-segment prefix wins, otherwise unchanged', async (t) => {
  const mappings = [
    { from: '/data', to: '/srv' },
    { from: '/data/movies', to: 'nfs://nas/export/movies' },
  ];
  t.equal(mapGroupPath('/data/movies/X', mappings), 'nfs://nas/export/movies/X');
  t.equal(mapGroupPath('/data/movies2/X', mappings), '/srv/movies2/X', 'movies2 is not under movies');
  t.equal(mapGroupPath('/other/X', mappings), '/other/X');
  t.equal(mapGroupPath('/other/X', []), '/other/X');
  t.equal(
    mapGroupPath('C:\\Media\\Movies\\X', [{ from: 'c:/media', to: '/mnt/media' }]),
    '/mnt/media/Movies/X',
  );
});

t.test('trailing separators: Kodi needs one, the others none, roots stay roots', async (t) => {
  t.equal(kodiFolder('/mnt/movies/X'), '/mnt/movies/X/');
  t.equal(kodiFolder('/mnt/movies/X//'), '/mnt/movies/X/');
  t.equal(kodiFolder('C:\\Movies\\X'), 'C:\\Movies\\X\\');
  t.equal(kodiFolder('\\\\nas\\movies\\X'), '\\\\nas\\movies\\X\\');
  t.equal(kodiFolder('/'), '/');
  t.equal(trimTrailingSeparators('/mnt/movies/X/'), '/mnt/movies/X');
  t.equal(trimTrailingSeparators('C:\\Movies\\X\\'), 'C:\\Movies\\X');
  t.equal(trimTrailingSeparators('C:\\'), 'C:\\');
  t.equal(trimTrailingSeparators('/'), '/');
});

t.test(
  'a Plex client reuses its section list for PLEX_SECTIONS_TTL_MS; a changed list is seen once it is older',
  async (t) => {
    const plex = await startFakePlex({
      sections: [{ key: '1', type: 'movie', title: 'Movies', locations: ['/data/movies'] }],
    });
    t.teardown(() => plex.close());
    let now = 1_000_000;
    const client = createMediaServerClient(
      {
        id: 3,
        name: 'Plex',
        type: 'plex',
        host: '127.0.0.1',
        port: plex.port,
        useTls: false,
        apiKey: plex.token,
      },
      { timeoutMs: 300, now: () => now },
    );
    const sectionReads = () => plex.calls.filter((c) => c.path === '/library/sections').length;
    await client.refreshFolder('/data/movies/A (2000)', video);
    await client.refreshFolder('/data/movies/B (2001)', video);
    t.equal(sectionReads(), 1, 'two notifications, one section list');

    // The user adds a deeper section for part of the library; within the TTL the old list still
    // answers (the old section still takes the folder), after it the new one is used.
    plex.setSections([
      { key: '1', type: 'movie', title: 'Movies', locations: ['/data/movies'] },
      { key: '2', type: 'movie', title: 'Kids', locations: ['/data/movies/kids'] },
    ]);
    now += PLEX_SECTIONS_TTL_MS - 1;
    await client.refreshFolder('/data/movies/kids/C (2002)', video);
    t.equal(sectionReads(), 1);
    now += 1;
    await client.refreshFolder('/data/movies/kids/D (2003)', video);
    t.equal(sectionReads(), 2, 'read again once the list is as old as the TTL');
    t.same(
      plex.refreshes.map((r) => r.key),
      ['1', '1', '1', '2'],
      'the changed list is used after the TTL, never later',
    );

    // A section removed within the TTL: the stale list's refresh fails (404), so the list is read
    // again at once and the notification goes to the section that holds the folder now.
    plex.setSections([{ key: '9', type: 'movie', title: 'Films', locations: ['/data/movies'] }]);
    now += 1;
    await client.refreshFolder('/data/movies/E (2004)', video);
    t.equal(sectionReads(), 3, 'a failure on a reused list reads it again');
    t.same(plex.refreshes.at(-1), { key: '9', path: '/data/movies/E (2004)' });

    // A failed read is not kept: the next notification asks again.
    const down = createMediaServerClient(
      {
        id: 4,
        name: 'Plex',
        type: 'plex',
        host: '127.0.0.1',
        port: plex.port,
        useTls: false,
        apiKey: 'wrong',
      },
      { timeoutMs: 300, now: () => now },
    );
    const before = sectionReads();
    await t.rejects(down.refreshFolder('/data/movies/A (2000)', video), { code: 'PLAYER_AUTH' });
    await t.rejects(down.refreshFolder('/data/movies/A (2000)', video), { code: 'PLAYER_AUTH' });
    t.equal(sectionReads() - before, 2);

    const fresh = createMediaServerClient(
      {
        id: 5,
        name: 'Plex',
        type: 'plex',
        host: '127.0.0.1',
        port: plex.port,
        useTls: false,
        apiKey: plex.token,
      },
      { timeoutMs: 300, sectionsTtlMs: 0 },
    );
    const b0 = sectionReads();
    await fresh.refreshFolder('/data/movies/A (2000)', video);
    await fresh.refreshFolder('/data/movies/B (2001)', video);
    t.equal(sectionReads() - b0, 2, 'TTL 0 reads the list every time');
  },
);

t.test(
  'shareClients: one client per player for a batch, and a Kodi asked once whether it plays',
  async (t) => {
    let made = 0;
    let asked = 0;
    const stub: ClientFactory = () => {
      made++;
      return {
        refreshFolder: async () => undefined,
        test: async () => ({ version: '1' }),
        isPlaying: async () => {
          asked++;
          return false;
        },
      };
    };
    const shared = shareClients(stub);
    const [k1, k2] = [kodiPlayer(1, { port: 1 }), kodiPlayer(2, { port: 2 })];
    const a = shared(k1!);
    t.equal(shared(k1!), a, 'the same instance for the same player');
    shared(k2!);
    t.equal(made, 2);
    await Promise.all([a.isPlaying?.(), a.isPlaying?.(), shared(k1!).isPlaying?.()]);
    t.equal(asked, 1, 'one GetActivePlayers for the batch');
    const plain = shareClients(() => ({
      refreshFolder: async () => undefined,
      test: async () => ({ version: '1' }),
    }));
    t.equal(plain(k1!).isPlaying, undefined, 'a client that never plays stays so');
  },
);
