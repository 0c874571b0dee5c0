import { startFakeJellyfin } from '@metarr/testkit';
import t from 'tap';
import { createJellyfinClient } from '../../src/clients/jellyfin.ts';
import { createMediaServerClient, type PlayerConn } from '../../src/services/notification.ts';

const player = (port: number, type: 'jellyfin' | 'emby', apiKey: string): PlayerConn => ({
  id: 7,
  name: type === 'emby' ? 'Emby' : 'Jellyfin',
  type,
  host: '127.0.0.1',
  port,
  useTls: false,
  apiKey,
});

t.test('reports a changed folder to Jellyfin with a MediaBrowser token', async (t) => {
  const jf = await startFakeJellyfin({ apiKey: 'k1' });
  t.teardown(() => jf.close());
  await createMediaServerClient(player(jf.port, 'jellyfin', 'k1')).refreshFolder(
    '/data/movies/Heat (1995)/',
    {
      mediaKind: 'video',
      change: 'created',
    },
  );

  t.equal(jf.calls.length, 1);
  const call = jf.calls[0]!;
  t.equal(call.method, 'POST');
  t.equal(call.flavor, 'jellyfin');
  t.equal(call.path, '/Library/Media/Updated');
  t.equal(call.headers['authorization'], 'MediaBrowser Token="k1"');
  t.equal(call.headers['x-emby-token'], undefined);
  t.same(
    call.body,
    { Updates: [{ Path: '/data/movies/Heat (1995)', UpdateType: 'Created' }] },
    'no trailing slash',
  );
  t.same(jf.updates, [{ flavor: 'jellyfin', path: '/data/movies/Heat (1995)', updateType: 'Created' }]);
});

t.test('reports to Emby under /emby with X-Emby-Token', async (t) => {
  const jf = await startFakeJellyfin({ apiKey: 'k2' });
  t.teardown(() => jf.close());
  await createMediaServerClient(player(jf.port, 'emby', 'k2')).refreshFolder('/data/tv/Show/Season 01', {
    mediaKind: 'video',
    change: 'modified',
  });
  const call = jf.calls[0]!;
  t.equal(call.flavor, 'emby');
  t.equal(call.path, '/Library/Media/Updated');
  t.equal(call.headers['x-emby-token'], 'k2');
  t.equal(call.headers['authorization'], undefined);
  t.same(call.body, { Updates: [{ Path: '/data/tv/Show/Season 01', UpdateType: 'Modified' }] });
});

t.test('a removed folder is reported as Deleted', async (t) => {
  const jf = await startFakeJellyfin({ apiKey: 'k1' });
  t.teardown(() => jf.close());
  await createMediaServerClient(player(jf.port, 'jellyfin', 'k1')).refreshFolder('/data/movies/Old (1980)', {
    mediaKind: 'video',
    change: 'deleted',
  });
  t.same(jf.updates, [{ flavor: 'jellyfin', path: '/data/movies/Old (1980)', updateType: 'Deleted' }]);
});

t.test('a wrong API key is a permanent PLAYER_AUTH', async (t) => {
  const jf = await startFakeJellyfin({ apiKey: 'right' });
  t.teardown(() => jf.close());
  for (const type of ['jellyfin', 'emby'] as const) {
    await t.rejects(
      createMediaServerClient(player(jf.port, type, 'wrong')).refreshFolder('/x', {
        mediaKind: 'video',
        change: 'created',
      }),
      {
        code: 'PLAYER_AUTH',
        retryable: false,
        message: `check the credentials of player ${player(0, type, '').name}`,
      },
    );
  }
  t.same(jf.updates, []);
});

t.test('the connection test reads /System/Info/Public and proves the key', async (t) => {
  const jf = await startFakeJellyfin({ apiKey: 'k1', serverName: 'Den', version: '10.10.7' });
  t.teardown(() => jf.close());
  t.same(await createMediaServerClient(player(jf.port, 'jellyfin', 'k1')).test(), {
    version: '10.10.7',
    name: 'Den',
  });
  t.same(
    jf.calls.map((c) => `${c.method} ${c.path}`),
    ['GET /System/Info/Public', 'GET /System/Info'],
  );
  await t.rejects(createMediaServerClient(player(jf.port, 'jellyfin', 'bad')).test(), {
    code: 'PLAYER_AUTH',
  });
});

t.test('the Emby connection test goes through /emby', async (t) => {
  const jf = await startFakeJellyfin({ apiKey: 'k2' });
  t.teardown(() => jf.close());
  const info = await createJellyfinClient(
    { name: 'Emby', host: '127.0.0.1', port: jf.port, useTls: false, apiKey: 'k2' },
    'emby',
  ).publicInfo();
  t.equal(info.name, 'Fake Emby');
  t.equal(jf.calls[0]!.flavor, 'emby');
});

t.test('a player without an API key fails permanently before any request', async (t) => {
  t.throws(
    () =>
      createJellyfinClient(
        { name: 'JF', host: '127.0.0.1', port: 1, useTls: false, apiKey: null },
        'jellyfin',
      ),
    {
      code: 'PLAYER_AUTH',
      retryable: false,
    },
  );
});
