import path from 'node:path';
import { createMediaServerClient, loadConfig, type Runtime, silentLogger, startRuntime } from '@metarr/core';
import { startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import { handlers, startWorkerRuntime } from '@metarr/worker';
import t from 'tap';
import {
  download,
  jobsOf,
  MOVIE,
  movieLibrary,
  notifyJobs,
  playerGroup,
  settled,
  startOfWindow,
} from './support/notify.ts';
import { startStack, waitFor } from './support/stack.ts';

/** Three groups on one library: shared Kodi (smb://), Jellyfin (/data/movies), Plex on Windows (D:\). */
async function threeGroups(
  t: Parameters<typeof movieLibrary>[0] & { teardown(fn: () => unknown): void },
  stack: Awaited<ReturnType<typeof startStack>>,
  window: number,
) {
  const kodiA = await startFakeKodi({ username: 'kodi', password: 'pw' });
  const kodiB = await startFakeKodi({ username: 'kodi', password: 'pw' });
  const jf = await startFakeJellyfin({ apiKey: 'jf-key' });
  const plex = await startFakePlex({
    token: 'plex-token',
    sections: [{ key: '7', type: 'movie', title: 'Films', locations: ['D:\\Media\\Movies'] }],
  });
  t.teardown(() => Promise.all([kodiA.close(), kodiB.close(), jf.close(), plex.close()]));
  const lib = await movieLibrary(t, stack);
  await playerGroup(
    t,
    stack,
    {
      name: 'Kodi boxes',
      type: 'kodi',
      sharedLibrary: true,
      debounceSeconds: window,
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: 'smb://nas/movies/' }],
    },
    [
      { name: 'Kodi A', port: kodiA.port, username: 'kodi', password: 'pw' },
      { name: 'Kodi B', port: kodiB.port, username: 'kodi', password: 'pw' },
    ],
  );
  await playerGroup(
    t,
    stack,
    {
      name: 'Jellyfin',
      type: 'jellyfin',
      debounceSeconds: window,
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: '/data/movies' }],
    },
    [{ name: 'Jellyfin', port: jf.port, apiKey: 'jf-key' }],
  );
  await playerGroup(
    t,
    stack,
    {
      name: 'Plex',
      type: 'plex',
      debounceSeconds: window,
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: 'D:\\Media\\Movies\\' }],
    },
    [{ name: 'Plex', port: plex.port, apiKey: 'plex-token' }],
  );
  return { kodiA, kodiB, jf, plex, lib };
}

t.test(
  'a 20-webhook burst into one folder becomes one or two calls per server, each in the group’s own form',
  async (t) => {
    const stack = await startStack(t);
    const window = 10;
    const { kodiA, kodiB, jf, plex, lib } = await threeGroups(t, stack, window);

    await startOfWindow(window);
    const acks = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        stack.api('POST', '/api/webhooks/radarr', await download(i)),
      ),
    );
    t.same(
      acks.map((a) => a.status),
      Array(20).fill(200),
      'every delivery accepted',
    );
    t.equal(new Set(acks.map((a) => a.json.jobId)).size, 20, '20 distinct deliveries');

    await waitFor('the first Kodi scan', async () =>
      kodiA.calls.some((c) => c.method === 'VideoLibrary.Scan'),
    );
    await waitFor('20 scan-movie jobs done', async () => {
      const jobs = await jobsOf(stack, 'scan-movie');
      return jobs.length === 20 && jobs.every((j) => j.state === 'completed');
    });
    await settled(stack, ['webhook', 'scan-movie', 'notify-players', 'notify-group'], 30_000);

    const kodiScans = [...kodiA.calls, ...kodiB.calls].filter((c) => c.method === 'VideoLibrary.Scan');
    t.ok(kodiScans.length >= 1 && kodiScans.length <= 2, `Kodi group: ${kodiScans.length} scan(s)`);
    t.equal(
      kodiB.calls.filter((c) => c.method === 'VideoLibrary.Scan').length,
      0,
      'a shared library is scanned by its first reachable member only',
    );
    for (const c of kodiScans)
      t.same(c.params, { directory: `smb://nas/movies/${MOVIE}/`, showdialogs: false });

    t.ok(jf.updates.length >= 1 && jf.updates.length <= 2, `Jellyfin: ${jf.updates.length} update(s)`);
    for (const u of jf.updates) t.match(u, { path: `/data/movies/${MOVIE}`, updateType: /Created|Modified/ });

    t.ok(
      plex.refreshes.length >= 1 && plex.refreshes.length <= 2,
      `Plex: ${plex.refreshes.length} refresh(es)`,
    );
    for (const r of plex.refreshes) t.same(r, { key: '7', path: `D:\\Media\\Movies\\${MOVIE}` });

    // 20 library-level jobs fanned out; per group at most two of the 20 children ran.
    const notify = await notifyJobs(stack);
    const perGroup = new Map<number, number>();
    for (const j of notify) {
      const g = j.data.payload['groupId'] as number | undefined;
      if (g !== undefined) perGroup.set(g, (perGroup.get(g) ?? 0) + 1);
    }
    t.equal(notify.filter((j) => j.data.payload['groupId'] === undefined).length, 20, '20 fan-out jobs');
    t.equal(perGroup.size, 3, 'children for each of the three groups');
    for (const [g, n] of perGroup) t.ok(n <= 2, `group ${g}: ${n} notification job(s)`);
    t.ok(
      notify.every((j) => j.state === 'completed'),
      'every notification completed',
    );
    t.equal(lib.folder, path.join(lib.root, MOVIE));
  },
);

t.test('an event during a window after the first notification brings exactly one more call', async (t) => {
  const stack = await startStack(t, { worker: true });
  const jf = await startFakeJellyfin({ apiKey: 'k' });
  t.teardown(() => jf.close());
  const lib = await movieLibrary(t, stack);
  await playerGroup(t, stack, { name: 'JF', type: 'jellyfin', debounceSeconds: 4, libraryIds: [lib.id] }, [
    { name: 'JF', port: jf.port, apiKey: 'k' },
  ]);
  await startOfWindow(4);
  const payload = { libraryId: lib.id, path: lib.folder, change: 'modified' as const };
  await stack.queue.enqueue('notify-players', payload);
  await waitFor('the first update', async () => jf.updates.length === 1);
  // The folder changes three more times while its first notification is done: one more call.
  for (let i = 0; i < 3; i++) await stack.queue.enqueue('notify-players', payload);
  await settled(stack, ['notify-players', 'notify-group'], 20_000);
  t.equal(jf.updates.length, 2, 'exactly one more call after the window');
});

t.test('two worker runtimes on one database still coalesce per group and folder', async (t) => {
  const stack = await startStack(t);
  const window = 10;
  const { kodiA, jf, plex, lib } = await threeGroups(t, stack, window);

  // A second, independent worker process-equivalent: its own pool, pg-boss instance and handlers.
  const rt2: Runtime = await startRuntime({
    url: stack.database.url,
    log: silentLogger,
    instanceName: 'worker-2',
    poolMax: 4,
    supervise: false,
  });
  t.teardown(() => rt2.close());
  await startWorkerRuntime({
    boss: rt2.boss,
    db: rt2.dbh.db,
    log: silentLogger,
    handlers,
    concurrency: 4,
    deps: {
      db: rt2.dbh.db,
      log: silentLogger,
      clientFor: (p) => createMediaServerClient(p),
      clock: () => new Date(),
      config: loadConfig({ METARR_DATA_DIR: '.tmp/unused' }),
    },
  });

  await startOfWindow(window);
  await Promise.all(
    Array.from({ length: 20 }, () =>
      stack.queue.enqueue('notify-players', { libraryId: lib.id, path: lib.folder, change: 'modified' }),
    ),
  );
  await waitFor('fan-out done', async () => {
    const jobs = await notifyJobs(stack);
    return (
      jobs.filter((j) => j.data.payload['groupId'] === undefined && j.state === 'completed').length === 20
    );
  });
  await settled(stack, ['notify-players', 'notify-group'], 30_000);

  const kodiScans = kodiA.calls.filter((c) => c.method === 'VideoLibrary.Scan').length;
  t.ok(kodiScans >= 1 && kodiScans <= 2, `Kodi: ${kodiScans}`);
  t.ok(jf.updates.length >= 1 && jf.updates.length <= 2, `Jellyfin: ${jf.updates.length}`);
  t.ok(plex.refreshes.length >= 1 && plex.refreshes.length <= 2, `Plex: ${plex.refreshes.length}`);
  const groupJobs = (await notifyJobs(stack)).filter((j) => j.data.payload['groupId'] !== undefined);
  t.ok(
    groupJobs.length >= 3 && groupJobs.length <= 6,
    `${groupJobs.length} group jobs for 20 events × 3 groups`,
  );
});
