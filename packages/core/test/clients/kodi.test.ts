import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { createKodiClient } from '../../src/clients/kodi.ts';
import { AppError } from '../../src/errors.ts';

const conn = (port: number, extra: { username?: string; password?: string } = {}) => ({
  name: 'Living room',
  host: '127.0.0.1',
  port,
  useTls: false,
  ...extra,
});

t.test('scanning a folder sends the exact JSON-RPC body with Basic auth', async (t) => {
  const kodi = await startFakeKodi({ username: 'kodi', password: 's3cret' });
  t.teardown(() => kodi.close());
  const client = createKodiClient(conn(kodi.port, { username: 'kodi', password: 's3cret' }));

  await client.scanVideo('/mnt/movies/Heat (1995)/');

  t.equal(kodi.calls.length, 1);
  const call = kodi.calls[0]!;
  t.same(JSON.parse(call.body), {
    jsonrpc: '2.0',
    method: 'VideoLibrary.Scan',
    params: { directory: '/mnt/movies/Heat (1995)/', showdialogs: false },
    id: 1,
  });
  t.equal(call.headers['authorization'], `Basic ${Buffer.from('kodi:s3cret').toString('base64')}`);
  t.match(call.headers['content-type'], /^application\/json/);
});

t.test('sends no Authorization header when no username is set', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  await createKodiClient(conn(kodi.port)).scanAudio('/mnt/music/Artist/');
  t.equal(kodi.calls[0]!.method, 'AudioLibrary.Scan');
  t.same(kodi.calls[0]!.params, { directory: '/mnt/music/Artist/', showdialogs: false });
  t.equal(kodi.calls[0]!.headers['authorization'], undefined);
});

t.test(
  'cleans a removed folder with VideoLibrary.Clean and the music library with AudioLibrary.Clean',
  async (t) => {
    const kodi = await startFakeKodi();
    t.teardown(() => kodi.close());
    const client = createKodiClient(conn(kodi.port));
    await client.cleanVideo('/mnt/movies/Heat (1995)/');
    await client.cleanAudio();
    t.same(
      kodi.calls.map((c) => [c.method, c.params]),
      [
        ['VideoLibrary.Clean', { directory: '/mnt/movies/Heat (1995)/', showdialogs: false }],
        ['AudioLibrary.Clean', { showdialogs: false }],
      ],
    );
  },
);

t.test('answers ping, version and the active players', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  const client = createKodiClient(conn(kodi.port));
  t.equal(await client.ping(), 'pong');
  t.same(await client.version(), { major: 21, minor: 1, patch: 0 });
  t.same(await client.activePlayers(), []);
  kodi.setPlaying(true);
  t.match(await client.activePlayers(), [{ playerid: 1, type: 'video' }]);
  t.same(
    kodi.calls.map((c) => c.method),
    ['JSONRPC.Ping', 'JSONRPC.Version', 'Player.GetActivePlayers', 'Player.GetActivePlayers'],
  );
  t.same(
    kodi.calls.map((c) => c.id),
    [1, 2, 3, 4],
    'every request carries its own id',
  );
});

t.test('a JSON-RPC error object is a failure, permanent for a bad request', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  const client = createKodiClient(conn(kodi.port));
  kodi.setRpcError({ code: -32602, message: 'Invalid params.' });
  const err = await client.scanVideo('/mnt/movies/').then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof AppError);
  t.match(err, { code: 'KODI_RPC_ERROR', retryable: false });
  t.match((err as Error).message, /Living room.*VideoLibrary\.Scan.*Invalid params/);
});

t.test('a JSON-RPC "failed to execute" error is retryable', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  kodi.setRpcError({ code: -32100, message: 'Failed to execute method.' });
  await t.rejects(createKodiClient(conn(kodi.port)).scanVideo('/mnt/movies/'), {
    code: 'KODI_RPC_ERROR',
    retryable: true,
  });
});

t.test('an unknown method is reported with Kodi’s method-not-found code', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  await t.rejects(createKodiClient(conn(kodi.port)).call('Foo.Bar'), {
    code: 'KODI_RPC_ERROR',
    retryable: false,
    details: { rpcCode: -32601 },
  });
});

t.test('wrong credentials are a permanent PLAYER_AUTH naming the player', async (t) => {
  const kodi = await startFakeKodi({ username: 'kodi', password: 's3cret' });
  t.teardown(() => kodi.close());
  const err = await createKodiClient(conn(kodi.port, { username: 'kodi', password: 'wrong' }))
    .scanVideo('/mnt/movies/')
    .then(
      () => null,
      (e: unknown) => e,
    );
  t.match(err, {
    code: 'PLAYER_AUTH',
    retryable: false,
    message: 'check the credentials of player Living room',
  });
  t.notMatch((err as Error).message, /wrong|s3cret/, 'no password in the message');
  t.equal(kodi.calls.length, 1, 'no retry');
});

t.test('missing credentials are rejected too', async (t) => {
  const kodi = await startFakeKodi({ username: 'kodi', password: 's3cret' });
  t.teardown(() => kodi.close());
  await t.rejects(createKodiClient(conn(kodi.port)).ping(), { code: 'PLAYER_AUTH', retryable: false });
});
