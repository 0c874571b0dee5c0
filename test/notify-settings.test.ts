import { startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import t from 'tap';
import { playerGroup } from './support/notify.ts';
import { startStack } from './support/stack.ts';

t.test('player-group notification settings: defaults, updates and field-named 400s', async (t) => {
  const stack = await startStack(t, { worker: false });
  const created = await stack.api('POST', '/api/player-groups', { name: 'Kodi', type: 'kodi' });
  t.equal(created.status, 201, created.text);
  t.match(created.json, { debounceSeconds: 10, cleanAfterDelete: false, scanWhilePlaying: 'defer' });

  const custom = await stack.api('POST', '/api/player-groups', {
    name: 'Plex',
    type: 'plex',
    debounceSeconds: 0,
    cleanAfterDelete: true,
    scanWhilePlaying: 'always',
  });
  t.equal(custom.status, 201, custom.text);
  t.match(custom.json, { debounceSeconds: 0, cleanAfterDelete: true, scanWhilePlaying: 'always' });

  const patched = await stack.api('PATCH', `/api/player-groups/${created.json.id}`, { debounceSeconds: 30 });
  t.equal(patched.status, 200, patched.text);
  t.match(patched.json, { debounceSeconds: 30, cleanAfterDelete: false, scanWhilePlaying: 'defer' });
  const fetched = await stack.api('GET', `/api/player-groups/${created.json.id}`);
  t.equal(fetched.json.debounceSeconds, 30, 'stored');

  for (const [body, field] of [
    [{ debounceSeconds: -1 }, 'debounceSeconds'],
    [{ debounceSeconds: 3601 }, 'debounceSeconds'],
    [{ debounceSeconds: 1.5 }, 'debounceSeconds'],
    [{ cleanAfterDelete: 'yes' }, 'cleanAfterDelete'],
    [{ scanWhilePlaying: 'never' }, 'scanWhilePlaying'],
  ] as const) {
    const r = await stack.api('PATCH', `/api/player-groups/${created.json.id}`, body);
    t.equal(r.status, 400, `${JSON.stringify(body)} → 400`);
    t.match(r.json?.message, new RegExp(field), `the message names ${field}`);
  }
  const post = await stack.api('POST', '/api/player-groups', {
    name: 'X',
    type: 'kodi',
    debounceSeconds: 'ten',
  });
  t.equal(post.status, 400);
  t.match(post.json.message, /debounceSeconds/);
});

t.test('POST /api/players/:id/test reports reachable, version and auth for each player type', async (t) => {
  const stack = await startStack(t, { worker: false });
  const kodi = await startFakeKodi({
    username: 'kodi',
    password: 'right-pass',
    version: { major: 13, minor: 5, patch: 0 },
  });
  const jf = await startFakeJellyfin({ apiKey: 'jf-right', version: '10.10.3' });
  const emby = await startFakeJellyfin({ apiKey: 'emby-right', version: '4.8.10.0' });
  const plex = await startFakePlex({ token: 'plex-right', version: '1.41.3.9314-a0bfb8370' });
  t.teardown(() => Promise.all([kodi.close(), jf.close(), emby.close(), plex.close()]));

  const k = await playerGroup(t, stack, { name: 'K', type: 'kodi' }, [
    { name: 'Kodi ok', port: kodi.port, username: 'kodi', password: 'right-pass' },
    { name: 'Kodi bad', port: kodi.port, username: 'kodi', password: 'wrong-pass' },
  ]);
  const j = await playerGroup(t, stack, { name: 'J', type: 'jellyfin' }, [
    { name: 'JF ok', port: jf.port, apiKey: 'jf-right' },
    { name: 'JF bad', port: jf.port, apiKey: 'jf-wrong' },
  ]);
  const e = await playerGroup(t, stack, { name: 'E', type: 'emby' }, [
    { name: 'Emby ok', port: emby.port, apiKey: 'emby-right' },
  ]);
  const p = await playerGroup(t, stack, { name: 'P', type: 'plex' }, [
    { name: 'Plex ok', port: plex.port, apiKey: 'plex-right' },
    { name: 'Plex bad', port: plex.port, apiKey: 'plex-wrong' },
    // A port nobody listens on (the fake's, after it is closed below would race; use port 1).
    { name: 'Plex gone', port: 1, apiKey: 'plex-right' },
  ]);
  const test = async (id: number | undefined) => stack.api('POST', `/api/players/${id}/test`);

  const kOk = await test(k.playerIds[0]);
  t.equal(kOk.status, 200, kOk.text);
  t.same(kOk.json, {
    status: 'ok',
    reachable: true,
    version: '13.5.0',
    authOk: true,
    message: 'Connected to Kodi (JSON-RPC 13.5.0).',
  });
  t.ok(
    kodi.calls.some((c) => c.method === 'JSONRPC.Version'),
    'Kodi was asked JSONRPC.Version',
  );
  const kBad = await test(k.playerIds[1]);
  t.match(kBad.json, {
    reachable: true,
    version: null,
    authOk: false,
    message: /check the username and password of player Kodi bad/,
  });

  const jOk = await test(j.playerIds[0]);
  t.same(jOk.json, {
    status: 'ok',
    reachable: true,
    version: '10.10.3',
    authOk: true,
    message: 'Connected to Jellyfin 10.10.3.',
  });
  t.ok(jf.calls.some((c) => c.path.toLowerCase() === '/system/info/public'));
  const jBad = await test(j.playerIds[1]);
  t.match(jBad.json, {
    reachable: true,
    version: '10.10.3',
    authOk: false,
    message: /check the API key of player JF bad/,
  });

  const eOk = await test(e.playerIds[0]);
  t.same(eOk.json, {
    status: 'ok',
    reachable: true,
    version: '4.8.10.0',
    authOk: true,
    message: 'Connected to Emby 4.8.10.0.',
  });
  t.ok(
    emby.calls.every((c) => c.flavor === 'emby'),
    'Emby is asked under /emby',
  );

  const pOk = await test(p.playerIds[0]);
  t.same(pOk.json, {
    status: 'ok',
    reachable: true,
    version: '1.41.3.9314-a0bfb8370',
    authOk: true,
    message: 'Connected to Plex Media Server 1.41.3.9314-a0bfb8370.',
  });
  t.ok(plex.calls.some((c) => c.path === '/identity'));
  const pBad = await test(p.playerIds[1]);
  t.match(pBad.json, {
    reachable: true,
    version: '1.41.3.9314-a0bfb8370',
    authOk: false,
    message: /check the API key of player Plex bad/,
  });
  const gone = await test(p.playerIds[2]);
  t.match(gone.json, { reachable: false, version: null, authOk: false, message: /check the host and port/ });

  plex.setMode('redirect');
  const redirected = await test(p.playerIds[0]);
  t.match(redirected.json, { authOk: false, message: /redirect, which Metarr does not follow/ });
  plex.setMode('500');
  const broken = await test(p.playerIds[0]);
  t.match(broken.json, { reachable: true, authOk: false, message: /server error/ });

  const all = JSON.stringify(
    [kOk, kBad, jOk, jBad, eOk, pOk, pBad, gone, redirected, broken].map((r) => r.json),
  );
  for (const secret of [
    'right-pass',
    'wrong-pass',
    'jf-right',
    'jf-wrong',
    'emby-right',
    'plex-right',
    'plex-wrong',
  ])
    t.notOk(all.includes(secret), `${secret} is never returned`);

  for (const host of ['kodi:secret@nas', 'ftp://nas', 'http://user:pw@nas']) {
    const r = await stack.api('POST', '/api/players', {
      groupId: k.id,
      name: 'X',
      type: 'kodi',
      host,
      port: 8080,
    });
    t.equal(r.status, 400, `host ${host} is refused`);
    t.match(r.json.message, /body\/host/);
  }

  const missing = await test(9999);
  t.equal(missing.status, 404);
  t.match(missing.json, { statusCode: 404, message: 'player 9999 not found' });
  t.equal((await stack.api('POST', '/api/players/abc/test')).status, 400, 'a non-integer id is a 400');
});
