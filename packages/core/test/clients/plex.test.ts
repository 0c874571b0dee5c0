import { startFakePlex } from '@metarr/testkit';
import t from 'tap';
import { findSectionForPath } from '../../src/clients/plex.ts';
import { containsPath } from '../../src/paths.ts';
import { createMediaServerClient, type PlayerConn } from '../../src/services/notification.ts';

const player = (port: number, apiKey = 'plex-test-token'): PlayerConn => ({
  id: 3,
  name: 'Plex',
  type: 'plex',
  host: '127.0.0.1',
  port,
  useTls: false,
  apiKey,
});

t.test('refreshes exactly the folder in the section whose location holds it', async (t) => {
  const plex = await startFakePlex();
  t.teardown(() => plex.close());
  await createMediaServerClient(player(plex.port)).refreshFolder('/data/movies/Heat (1995)/', {
    mediaKind: 'video',
    change: 'created',
  });
  t.same(plex.refreshes, [{ key: '1', path: '/data/movies/Heat (1995)' }]);
  t.same(
    plex.calls.map((c) => c.path),
    ['/library/sections', '/library/sections/1/refresh'],
  );
  for (const c of plex.calls) {
    t.equal(c.headers['x-plex-token'], 'plex-test-token');
    t.match(c.headers['accept'], /application\/json/);
    t.notOk('X-Plex-Token' in c.query, 'the token travels in a header, not the URL');
  }
});

t.test('picks the music section for music and the TV section for shows', async (t) => {
  const plex = await startFakePlex();
  t.teardown(() => plex.close());
  const client = createMediaServerClient(player(plex.port));
  await client.refreshFolder('/data/music/Artist/Album', { mediaKind: 'music', change: 'created' });
  await client.refreshFolder('/data/tv/Show/Season 02', { mediaKind: 'video', change: 'modified' });
  t.same(plex.refreshes, [
    { key: '3', path: '/data/music/Artist/Album' },
    { key: '2', path: '/data/tv/Show/Season 02' },
  ]);
});

t.test('matches a Windows-style location case-insensitively on segment boundaries', async (t) => {
  const plex = await startFakePlex({
    sections: [
      { key: '8', type: 'movie', title: 'Films 2', locations: ['C:\\Media\\Movies2'] },
      { key: '9', type: 'movie', title: 'Films', locations: ['C:\\Media\\Movies'] },
    ],
  });
  t.teardown(() => plex.close());
  await createMediaServerClient(player(plex.port)).refreshFolder('c:\\media\\movies\\Heat (1995)\\', {
    mediaKind: 'video',
    change: 'created',
  });
  t.same(plex.refreshes, [{ key: '9', path: 'c:\\media\\movies\\Heat (1995)' }]);
});

t.test('a folder outside every section is a permanent error naming the path and the locations', async (t) => {
  const plex = await startFakePlex();
  t.teardown(() => plex.close());
  const err = await createMediaServerClient(player(plex.port))
    .refreshFolder('/data/movies2/Heat (1995)', { mediaKind: 'video', change: 'created' })
    .then(
      () => null,
      (e: unknown) => e,
    );
  t.match(err, { code: 'PLEX_NO_SECTION', retryable: false });
  const msg = (err as Error).message;
  t.match(msg, '/data/movies2/Heat (1995)');
  t.match(msg, '/data/movies');
  t.match(msg, '/data/tv');
  t.same(plex.refreshes, [], 'nothing was refreshed');
});

t.test('a removed folder refreshes its parent inside the section', async (t) => {
  const plex = await startFakePlex();
  t.teardown(() => plex.close());
  const client = createMediaServerClient(player(plex.port));
  await client.refreshFolder('/data/tv/Show/Season 01', { mediaKind: 'video', change: 'deleted' });
  await client.refreshFolder('/data/movies/Old (1980)', { mediaKind: 'video', change: 'deleted' });
  t.same(plex.refreshes, [
    { key: '2', path: '/data/tv/Show' },
    { key: '1', path: '/data/movies' },
  ]);
});

t.test('a wrong token is a permanent PLAYER_AUTH', async (t) => {
  const plex = await startFakePlex();
  t.teardown(() => plex.close());
  await t.rejects(
    createMediaServerClient(player(plex.port, 'nope')).refreshFolder('/data/movies/X', {
      mediaKind: 'video',
      change: 'created',
    }),
    { code: 'PLAYER_AUTH', retryable: false, message: 'check the credentials of player Plex' },
  );
});

t.test('the connection test reads /identity and proves the token', async (t) => {
  const plex = await startFakePlex({ version: '1.41.0.1' });
  t.teardown(() => plex.close());
  t.same(await createMediaServerClient(player(plex.port)).test(), { version: '1.41.0.1' });
  await t.rejects(createMediaServerClient(player(plex.port, 'nope')).test(), { code: 'PLAYER_AUTH' });
});

t.test('section lookup: deepest location wins, whole segments only', async (t) => {
  const sections = [
    { key: '1', type: 'movie', title: 'All', locations: [{ path: '/media' }] },
    { key: '2', type: 'movie', title: 'Kids', locations: [{ path: '/media/kids' }] },
  ];
  t.equal(findSectionForPath('Plex', sections, '/media/kids/Up (2009)', 'video').section.key, '2');
  t.equal(findSectionForPath('Plex', sections, '/media/kidsclub/X', 'video').section.key, '1');
  t.throws(() => findSectionForPath('Plex', sections, '/media/kids/X', 'music'), { code: 'PLEX_NO_SECTION' });
  t.equal(containsPath('/data/movies', '/data/movies'), 2);
  t.equal(containsPath('/data/movies', '/data/movies2'), -1);
  t.equal(containsPath('C:\\Movies', 'c:/movies/x'), 2);
  t.equal(containsPath('/Movies', '/movies/x'), -1, 'POSIX paths are case-sensitive');
  t.equal(containsPath('\\\\nas\\media', '\\\\NAS\\Media\\x'), 2);
});
