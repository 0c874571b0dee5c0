import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '@metarr/core';
import t from 'tap';
import { parse } from 'yaml';
import { upgradeStatus } from './support/feed-client.ts';
import { API_KEY, ROOT, startStack } from './support/stack.ts';

t.test('behind a trusted proxy, a forwarded host never makes a foreign Origin acceptable', async (t) => {
  // The test connects from 127.0.0.1, the trusted proxy, so its X-Forwarded-* headers are honoured.
  const stack = await startStack(t, { worker: false, trustProxy: ['127.0.0.1'] });
  const ws = `${stack.url.replace(/^http/, 'ws')}/api/ws?apikey=${API_KEY}`;
  const host = new URL(stack.url).host;

  t.equal(
    await upgradeStatus(ws, { origin: 'http://evil.example', 'x-forwarded-host': 'evil.example' }),
    403,
    'Origin evil.example with X-Forwarded-Host evil.example → 403',
  );
  t.equal(
    await upgradeStatus(ws, {
      origin: 'https://evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
    }),
    403,
    'also with a forwarded scheme',
  );
  t.equal(
    await upgradeStatus(ws, { origin: `http://${host}` }),
    101,
    'Origin naming the Host this hop received → 101',
  );
  t.equal(
    await upgradeStatus(ws, { origin: `http://${host}`, 'x-forwarded-host': 'evil.example' }),
    101,
    'a forwarded host does not spoil a same-host Origin either',
  );
  t.equal(await upgradeStatus(ws, { origin: 'http://evil.example' }), 403, 'a foreign Origin alone → 403');
  t.equal(await upgradeStatus(ws), 101, 'no Origin (not a browser) → 101');
});

t.test('with METARR_PUBLIC_URL the Origin may name the public address', async (t) => {
  const stack = await startStack(t, {
    worker: false,
    trustProxy: ['127.0.0.1'],
    publicUrl: 'https://metarr.example.org/metarr',
  });
  const ws = `${stack.url.replace(/^http/, 'ws')}/api/ws?apikey=${API_KEY}`;
  t.equal(await upgradeStatus(ws, { origin: 'https://metarr.example.org' }), 101, 'the public address → 101');
  t.equal(
    await upgradeStatus(ws, { origin: 'http://metarr.example.org' }),
    403,
    'the public host under another scheme → 403',
  );
  t.equal(
    await upgradeStatus(ws, { origin: 'https://evil.example', 'x-forwarded-host': 'evil.example' }),
    403,
  );
  t.equal(await upgradeStatus(ws, { origin: 'https://metarr.example.org:8443' }), 403, 'another port → 403');
});

t.test('METARR_PUBLIC_URL must be an http(s) URL', async (t) => {
  t.equal(
    loadConfig({ METARR_PUBLIC_URL: 'https://metarr.example.org' }).publicUrl,
    'https://metarr.example.org',
  );
  t.equal(loadConfig({}).publicUrl, undefined);
  t.throws(() => loadConfig({ METARR_PUBLIC_URL: 'metarr.example.org' }), /METARR_PUBLIC_URL/);
});

t.test('compose trusts only the proxy container, at its fixed address', async (t) => {
  const compose = parse(await fs.readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
  const proxyIps = Object.values(compose.services.proxy.networks ?? {}).map(
    (n) => (n as { ipv4_address?: string } | null)?.ipv4_address,
  );
  t.ok(proxyIps[0], 'the proxy has a fixed address');
  for (const svc of ['api', 'worker']) {
    t.equal(
      compose.services[svc].environment.METARR_TRUST_PROXY,
      proxyIps[0],
      `${svc} trusts exactly the proxy`,
    );
    t.same(
      compose.services[svc].networks,
      Object.keys(compose.services.proxy.networks),
      `${svc} is on its network`,
    );
  }
});
