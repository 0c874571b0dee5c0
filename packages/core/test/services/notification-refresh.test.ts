import { type FakeKodi, startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import t from 'tap';
import { silentLogger } from '../../src/log.ts';
import {
  type ClientFactory,
  createMediaServerClient,
  type GroupTarget,
  notifyGroup,
  type PlayerConn,
  type RefreshOptions,
} from '../../src/services/notification.ts';

const clients: ClientFactory = (p) => createMediaServerClient(p, { timeoutMs: 1000 });
const FOLDER = '/mnt/movies/Heat (1995)';
const FILE = 'Heat (1995) [Bluray-1080p].mkv';
const republished: RefreshOptions = {
  mediaKind: 'video',
  change: 'modified',
  refreshItem: { videoFile: FILE, title: 'Heat' },
};

async function kodi(t: { teardown(fn: () => unknown): void }): Promise<FakeKodi> {
  const k = await startFakeKodi();
  t.teardown(() => k.close());
  return k;
}

const player = (id: number, k: FakeKodi): PlayerConn => ({
  id,
  name: `Kodi ${id}`,
  type: 'kodi',
  host: '127.0.0.1',
  port: k.port,
  useTls: false,
});

const target = (players: PlayerConn[], sharedLibrary: boolean): GroupTarget => ({
  groupId: 7,
  groupName: 'Living room',
  sharedLibrary,
  players,
  folder: FOLDER,
});

const methods = (k: FakeKodi) => k.calls.map((c) => c.method);

t.test('a republished movie Kodi holds is refreshed from its NFO, not scanned', async (t) => {
  const k = await kodi(t);
  k.addMovie('/mnt/movies/Other (2001)/Other (2001).mkv');
  const heat = k.addMovie(`${FOLDER}/${FILE}`);
  const res = await notifyGroup(
    { log: silentLogger, clientFor: clients },
    target([player(1, k)], false),
    republished,
  );
  t.same(res, { groupId: 7, notified: [1], failures: [], deferred: [], refreshed: [1] });
  t.same(methods(k), ['VideoLibrary.GetMovies', 'VideoLibrary.RefreshMovie']);
  t.same(k.calls[0]?.params, {
    properties: ['file'],
    filter: { field: 'path', operator: 'startswith', value: `${FOLDER}/` },
    limits: { start: 0, end: 50 },
  });
  t.same(k.refreshes, [{ movieid: heat.movieid, ignorenfo: false }], 'the NFO is read, not ignored');
});

t.test('a movie Kodi does not hold yet is scanned', async (t) => {
  const k = await kodi(t);
  k.addMovie('/mnt/movies/Other (2001)/Other (2001).mkv');
  const res = await notifyGroup(
    { log: silentLogger, clientFor: clients },
    target([player(1, k)], false),
    republished,
  );
  t.same(res, { groupId: 7, notified: [1], failures: [], deferred: [] });
  t.same(methods(k), ['VideoLibrary.GetMovies', 'VideoLibrary.Scan']);
  t.same(k.refreshes, []);
});

t.test(
  'an entry for the file an upgrade replaced is not refreshed: the new file is scanned in',
  async (t) => {
    const k = await kodi(t);
    k.addMovie(`${FOLDER}/Heat (1995) [DVD].avi`);
    await notifyGroup({ log: silentLogger, clientFor: clients }, target([player(1, k)], false), republished);
    t.same(methods(k), ['VideoLibrary.GetMovies', 'VideoLibrary.Scan']);
    t.same(k.refreshes, []);
  },
);

t.test('a shared group refreshes once, through the first Kodi that answers', async (t) => {
  const [k1, k2] = [await kodi(t), await kodi(t)];
  // One MySQL library behind both: each answers with the same movie.
  k1.addMovie(`${FOLDER}/${FILE}`);
  k2.addMovie(`${FOLDER}/${FILE}`);
  const res = await notifyGroup(
    { log: silentLogger, clientFor: clients },
    target([player(1, k1), player(2, k2)], true),
    republished,
  );
  t.same(res, { groupId: 7, notified: [1], failures: [], deferred: [], refreshed: [1] });
  t.equal(k1.refreshes.length, 1);
  t.same(k2.calls, [], 'the second Kodi is not asked');
});

t.test('each Kodi of a group without a shared library is refreshed or scanned as it needs', async (t) => {
  const [k1, k2] = [await kodi(t), await kodi(t)];
  k1.addMovie(`${FOLDER}/${FILE}`);
  const res = await notifyGroup(
    { log: silentLogger, clientFor: clients },
    target([player(1, k1), player(2, k2)], false),
    republished,
  );
  t.same(res, { groupId: 7, notified: [1, 2], failures: [], deferred: [], refreshed: [1] });
  t.same(methods(k1), ['VideoLibrary.GetMovies', 'VideoLibrary.RefreshMovie']);
  t.same(methods(k2), ['VideoLibrary.GetMovies', 'VideoLibrary.Scan']);
});

t.test('without a republish, or for a delete, Kodi is not asked what it holds', async (t) => {
  const k = await kodi(t);
  k.addMovie(`${FOLDER}/${FILE}`);
  const c = clients(player(1, k));
  await c.refreshFolder(FOLDER, { mediaKind: 'video', change: 'modified' });
  await c.refreshFolder(FOLDER, { ...republished, change: 'deleted', cleanAfterDelete: true });
  t.same(methods(k), ['VideoLibrary.Scan', 'VideoLibrary.Clean']);
  t.same(k.refreshes, []);
});

t.test('a Kodi down during a refresh fails retryably, like a scan', async (t) => {
  const k = await kodi(t);
  k.addMovie(`${FOLDER}/${FILE}`);
  k.setRpcError({ code: -32100, message: 'Failed to execute method.' });
  const err = await notifyGroup(
    { log: silentLogger, clientFor: clients },
    target([player(1, k)], false),
    republished,
  ).catch((e) => e);
  t.match(err, { code: 'NOTIFY_GROUP_FAILED', retryable: true });
  t.same(k.refreshes, []);
});

const server = (
  id: number,
  type: 'jellyfin' | 'emby' | 'plex',
  port: number,
  apiKey: string,
): PlayerConn => ({
  id,
  name: `${type} ${id}`,
  type,
  host: '127.0.0.1',
  port,
  useTls: false,
  apiKey,
});

for (const flavor of ['jellyfin', 'emby'] as const) {
  t.test(
    `${flavor}: a republished movie it holds is refreshed from local files, not re-announced`,
    async (t) => {
      const jf = await startFakeJellyfin();
      t.teardown(() => jf.close());
      // Same title, another folder: searched, then told apart by its path.
      jf.addItem({ name: 'Heat', path: '/mnt/movies/Heat (1986)/Heat (1986).mkv' });
      const heat = jf.addItem({ name: 'Heat', path: `${FOLDER}/${FILE}` });
      const p = server(1, flavor, jf.port, jf.apiKey);
      const res = await notifyGroup(
        { log: silentLogger, clientFor: clients },
        target([p], false),
        republished,
      );
      t.same(res, { groupId: 7, notified: [1], failures: [], deferred: [], refreshed: [1] });
      t.same(
        jf.calls.map((c) => `${c.flavor} ${c.method} ${c.path}`),
        [`${flavor} GET /Items`, `${flavor} POST /Items/${heat.Id}/Refresh`],
      );
      t.same(jf.calls[0]?.query, {
        Recursive: 'true',
        IncludeItemTypes: 'Movie',
        Fields: 'Path',
        SearchTerm: 'Heat',
        Limit: '50',
      });
      t.same(jf.itemRefreshes, [
        {
          id: heat.Id,
          query: {
            MetadataRefreshMode: 'Default',
            ImageRefreshMode: 'Default',
            ReplaceAllMetadata: 'false',
            ReplaceAllImages: 'false',
          },
        },
      ]);
      t.same(jf.updates, [], 'no folder announcement');
    },
  );
}

t.test('jellyfin: a movie it does not hold is announced as a modified folder', async (t) => {
  const jf = await startFakeJellyfin();
  t.teardown(() => jf.close());
  jf.addItem({ name: 'Heat', path: '/mnt/movies/Heat (1986)/Heat (1986).mkv' });
  const p = server(1, 'jellyfin', jf.port, jf.apiKey);
  const res = await notifyGroup({ log: silentLogger, clientFor: clients }, target([p], false), republished);
  t.same(res, { groupId: 7, notified: [1], failures: [], deferred: [] });
  t.same(jf.itemRefreshes, []);
  t.same(jf.updates, [{ flavor: 'jellyfin', path: FOLDER, updateType: 'Modified' }]);
});

t.test(
  'plex: a republished movie it holds is refreshed; one it does not hold gets a partial scan',
  async (t) => {
    const plex = await startFakePlex();
    t.teardown(() => plex.close());
    const folder = '/data/movies/Heat (1995)';
    plex.addMovie({ title: 'Heat', file: '/data/movies/Heat (1986)/Heat (1986).mkv' });
    const heat = plex.addMovie({ title: 'Heat', file: `${folder}/${FILE}` });
    const p = server(1, 'plex', plex.port, plex.token);
    const held = await notifyGroup(
      { log: silentLogger, clientFor: clients },
      { ...target([p], false), folder },
      republished,
    );
    t.same(held, { groupId: 7, notified: [1], failures: [], deferred: [], refreshed: [1] });
    const lookup = plex.calls.find((c) => c.path === '/library/sections/1/all');
    t.same(lookup?.query, { type: '1', title: 'Heat' });
    t.same(plex.itemRefreshes, [heat.ratingKey]);
    t.equal(plex.calls.find((c) => c.method === 'PUT')?.path, `/library/metadata/${heat.ratingKey}/refresh`);
    t.same(plex.refreshes, [], 'no partial scan');

    const other = await notifyGroup(
      { log: silentLogger, clientFor: clients },
      { ...target([p], false), folder: '/data/movies/Ronin (1998)' },
      { ...republished, refreshItem: { videoFile: 'Ronin (1998).mkv', title: 'Ronin' } },
    );
    t.same(other, { groupId: 7, notified: [1], failures: [], deferred: [] });
    t.same(plex.refreshes, [{ key: '1', path: '/data/movies/Ronin (1998)' }]);
    t.same(plex.itemRefreshes, [heat.ratingKey], 'nothing else refreshed');
  },
);
