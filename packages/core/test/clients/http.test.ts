import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { httpCall, playerBaseUrl } from '../../src/clients/http.ts';
import { createKodiClient } from '../../src/clients/kodi.ts';

async function kodiWithMode(t: Tap, mode: 'ok' | '500' | 'hang' | 'reset' | '401' | 'redirect') {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  kodi.setMode(mode);
  const client = createKodiClient(
    { name: 'Bedroom', host: '127.0.0.1', port: kodi.port, useTls: false },
    { timeoutMs: 300 },
  );
  return { kodi, client };
}
/** The part of a tap Test the helpers need. */
interface Tap {
  teardown(fn: () => unknown): void;
}

t.test('HTTP 500 is a retryable server error', async (t) => {
  const { kodi, client } = await kodiWithMode(t, '500');
  await t.rejects(client.scanVideo('/m/'), {
    code: 'PLAYER_SERVER_ERROR',
    retryable: true,
    details: { status: 500 },
  });
  t.equal(kodi.calls.length, 1);
});

t.test('a reset connection is retryable', async (t) => {
  const { client } = await kodiWithMode(t, 'reset');
  await t.rejects(client.scanVideo('/m/'), { code: 'PLAYER_CONNECTION_RESET', retryable: true });
});

t.test('a hanging player times out after the configured timeout, retryably', async (t) => {
  const { kodi, client } = await kodiWithMode(t, 'hang');
  const started = Date.now();
  await t.rejects(client.scanVideo('/m/'), { code: 'PLAYER_TIMEOUT', retryable: true });
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 250 && elapsed < 2000, `gave up after ${elapsed} ms`);
  t.equal(kodi.calls.length, 1);
});

t.test('a redirect is not followed and is a permanent failure', async (t) => {
  const { kodi, client } = await kodiWithMode(t, 'redirect');
  await t.rejects(client.scanVideo('/m/'), {
    code: 'PLAYER_REDIRECT',
    retryable: false,
    details: { status: 302 },
  });
  t.equal(kodi.calls.length, 1, 'only the first request reached the server');
});

t.test('HTTP 401 is a permanent PLAYER_AUTH', async (t) => {
  const { client } = await kodiWithMode(t, '401');
  await t.rejects(client.ping(), {
    code: 'PLAYER_AUTH',
    retryable: false,
    message: 'check the credentials of player Bedroom',
  });
});

t.test('a refused connection is retryable', async (t) => {
  const kodi = await startFakeKodi();
  const port = kodi.port;
  await kodi.close();
  const client = createKodiClient(
    { name: 'Gone', host: '127.0.0.1', port, useTls: false },
    { timeoutMs: 300 },
  );
  await t.rejects(client.ping(), { code: 'PLAYER_UNREACHABLE', retryable: true });
});

t.test('other 4xx answers are permanent', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  const endpoint = { name: 'Bedroom', baseUrl: kodi.url, timeoutMs: 300 };
  await t.rejects(httpCall(endpoint, { method: 'GET', path: '/nope' }), {
    code: 'PLAYER_HTTP_ERROR',
    retryable: false,
    details: { status: 404 },
  });
});

t.test('the caller’s signal cancels a call before the timeout', async (t) => {
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  kodi.setMode('hang');
  const client = createKodiClient(
    { name: 'Bedroom', host: '127.0.0.1', port: kodi.port, useTls: false },
    { timeoutMs: 5000 },
  );
  const started = Date.now();
  await t.rejects(client.ping(AbortSignal.timeout(100)), { code: 'PLAYER_ABORTED' });
  t.ok(Date.now() - started < 2000);
});

t.test('player addresses: only http and https, IPv6 bracketed, base paths kept', async (t) => {
  t.equal(playerBaseUrl('p', { host: 'kodi.lan', port: 8080, useTls: false }), 'http://kodi.lan:8080');
  t.equal(playerBaseUrl('p', { host: 'jf.lan', port: 8920, useTls: true }), 'https://jf.lan:8920');
  t.equal(playerBaseUrl('p', { host: 'fd00::5', port: 8096, useTls: false }), 'http://[fd00::5]:8096');
  t.equal(
    playerBaseUrl('p', { host: 'https://u:pw@jf.example/jellyfin/', port: 443, useTls: true }),
    'https://jf.example/jellyfin',
    'credentials in a host URL are dropped',
  );
  t.throws(() => playerBaseUrl('p', { host: 'ftp://nas', port: 21, useTls: false }), {
    code: 'PLAYER_BAD_URL',
    retryable: false,
  });
  t.throws(() => playerBaseUrl('p', { host: 'file:///etc/passwd', port: 0, useTls: false }), {
    code: 'PLAYER_BAD_URL',
  });
});

t.test('providers and players share the transport; the peer names the codes', async (t) => {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/limited')) {
      res.writeHead(429, { 'retry-after': '7' }).end();
    } else if (req.url?.startsWith('/reset')) {
      req.socket.destroy();
    } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  const provider = { name: 'TMDB', id: 'tmdb', peer: 'provider' as const, baseUrl, timeoutMs: 1000 };
  const player = { name: 'Bedroom', baseUrl, timeoutMs: 1000 };
  await t.rejects(httpCall(provider, { method: 'GET', path: '/limited' }), {
    code: 'PROVIDER_RATE_LIMITED',
    retryable: true,
    details: { provider: 'tmdb', status: 429, retryAfterMs: 7000 },
  });
  await t.rejects(httpCall(player, { method: 'GET', path: '/limited' }), {
    code: 'PLAYER_HTTP_ERROR',
    retryable: true,
  });
  await t.rejects(httpCall(provider, { method: 'GET', path: '/reset' }), {
    code: 'PROVIDER_CONNECTION_RESET',
    retryable: true,
  });
  const big = { ...provider, maxResponseBytes: 4 };
  await t.rejects(httpCall(big, { method: 'GET', path: '/ok' }), {
    code: 'PROVIDER_BAD_RESPONSE',
    retryable: false,
  });
  t.match(await httpCall(provider, { method: 'GET', path: '/ok' }), { status: 200, text: '{"ok":true}' });
});
