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
