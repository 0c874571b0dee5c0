import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMediaServerClient, createPlayer } from '@metarr/core';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { startStack } from './support/stack.ts';

const FORBIDDEN = [
  '169.254.169.254',
  '2852039166', // decimal
  '0xa9fea9fe', // hex
  '0251.0376.0251.0376', // octal
  '169.254.43518', // short form
  '::ffff:169.254.169.254',
  '[::ffff:169.254.169.254]',
  '::ffff:a9fe:a9fe',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  '::169.254.169.254',
  '64:ff9b::a9fe:a9fe',
  '0.0.0.0',
  '0',
  '0.1.2.3',
  '::',
  '[::]',
  '0:0:0:0:0:0:0:0',
  '::ffff:0.0.0.0',
  'fe80::1',
  'febf:ffff::1',
];
const ALLOWED = ['127.0.0.1', '192.168.1.20', '10.0.0.5', '::1', 'fec0::1', 'kodi.invalid'];

t.test(
  'link-local, metadata and unspecified hosts are refused in every spelling, naming the field',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const group = await stack.api('POST', '/api/player-groups', { name: 'K', type: 'kodi' });
    const player = (host: string) =>
      stack.api('POST', '/api/players', {
        groupId: group.json.id,
        name: host,
        type: 'kodi',
        host,
        port: 8080,
      });

    for (const host of FORBIDDEN) {
      const r = await player(host);
      t.equal(r.status, 400, `${host} is refused`);
      t.match(r.json?.message, /^body\/host /, `${host}: the message names the field`);
    }
    let id = 0;
    for (const host of ALLOWED) {
      const r = await player(host);
      t.equal(r.status, 201, `${host} is accepted: ${r.text}`);
      id = r.json.id;
    }
    const patched = await stack.api('PATCH', `/api/players/${id}`, { host: '::ffff:169.254.169.254' });
    t.equal(patched.status, 400, 'a PATCH to a metadata address is refused');
    t.match(patched.json?.message, /^body\/host /);
  },
);

t.test('at call time a stored forbidden host is refused before any connection', async (t) => {
  const stack = await startStack(t, { worker: false });
  // 0.0.0.0 reaches this host's own listeners: a fake Kodi proves whether anything connected.
  const kodi = await startFakeKodi({});
  t.teardown(() => kodi.close());
  const group = await stack.api('POST', '/api/player-groups', { name: 'K', type: 'kodi' });
  // Stored around the API's check, as a row written before it existed would be.
  const p = await createPlayer(stack.db, {
    groupId: group.json.id,
    name: 'Sneaky',
    type: 'kodi',
    host: '0.0.0.0',
    port: kodi.port,
  });
  const r = await stack.api('POST', `/api/players/${p.id}/test`);
  t.equal(r.status, 200, r.text);
  t.match(r.json, { status: 'refused', reachable: false, authOk: false });
  t.equal(kodi.calls.length, 0, 'nothing reached the server');

  const client = createMediaServerClient({ ...p, host: '::ffff:0.0.0.0' });
  await t.rejects(client.refreshFolder('/movies/A', { change: 'modified', mediaKind: 'video' } as never), {
    code: 'PLAYER_FORBIDDEN_ADDRESS',
    retryable: false,
  });
  t.equal(kodi.calls.length, 0, 'a notification does not connect either');
});

t.test('the player test reports a status and never echoes what the remote said', async (t) => {
  const stack = await startStack(t, { worker: false });
  const kodi = await startFakeKodi({});
  // A server that answers JSON-RPC with an error text of its own choosing.
  const talker = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -1, message: 'REMOTE-SECRET-TEXT ami-0abc' } }),
    );
  });
  await new Promise<void>((resolve) => talker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => Promise.all([kodi.close(), new Promise((r) => talker.close(r))]));
  const group = await stack.api('POST', '/api/player-groups', { name: 'K', type: 'kodi' });
  const add = async (name: string, port: number) =>
    (
      await stack.api('POST', '/api/players', {
        groupId: group.json.id,
        name,
        type: 'kodi',
        host: '127.0.0.1',
        port,
      })
    ).json.id as number;
  const test = async (id: number) => (await stack.api('POST', `/api/players/${id}/test`)).json;

  t.match(await test(await add('Good', kodi.port)), { status: 'ok', reachable: true, authOk: true });
  t.match(await test(await add('Gone', 1)), { status: 'unreachable', reachable: false });
  const chatty = await test(await add('Chatty', (talker.address() as AddressInfo).port));
  t.match(chatty, { status: 'error', reachable: true, authOk: false });
  t.notMatch(JSON.stringify(chatty), /REMOTE-SECRET-TEXT|ami-0abc/, "the remote's text is not echoed");
});
