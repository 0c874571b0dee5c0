import path from 'node:path';
import { buildApp, registeredRoutes } from '@metarr/api';
import { createJobQueue, silentLogger, startRuntime } from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { API_KEY, request, startStack } from './support/stack.ts';

t.test('management API validation matrix', async (t) => {
  const stack = await startStack(t, { worker: false });
  const media = t.testdir({ movies: { 'A (2000)': {} }, tv: {}, music: {}, 'a-file.txt': 'x' });
  const root = (p: string) => path.join(media, p);

  // ── libraries ──
  const lib = await stack.api('POST', '/api/libraries', {
    name: 'Movies',
    type: 'movie',
    path: root('movies'),
  });
  t.equal(lib.status, 201, lib.text);
  const libId = lib.json.id as number;

  const libraryCases: [string, unknown, number, RegExp][] = [
    ['missing name', { type: 'movie', path: root('tv') }, 400, /body.*name/],
    ['empty name', { name: '', type: 'movie', path: root('tv') }, 400, /body\/name/],
    ['bad type', { name: 'X', type: 'books', path: root('tv') }, 400, /body\/type/],
    ['relative path', { name: 'X', type: 'movie', path: 'movies' }, 400, /body\/path/],
    ['path with ..', { name: 'X', type: 'movie', path: `${media}/../x` }, 400, /body\/path/],
    [
      'path does not exist',
      { name: 'X', type: 'movie', path: root('nope') },
      400,
      /body\/path is not an allowed media directory/,
    ],
    [
      'path is a file',
      { name: 'X', type: 'movie', path: root('a-file.txt') },
      400,
      /body\/path is not an allowed media directory/,
    ],
    [
      'path inside another library',
      { name: 'X', type: 'movie', path: root('movies/A (2000)') },
      409,
      /overlaps library/,
    ],
    ['path containing another library', { name: 'X', type: 'movie', path: media }, 409, /overlaps library/],
    ['same path again', { name: 'X', type: 'movie', path: root('movies') }, 409, /overlaps library/],
    ['path is a number', { name: 'X', type: 'movie', path: 5 }, 400, /body\/path/],
  ];
  for (const [what, body, status, message] of libraryCases) {
    const r = await stack.api('POST', '/api/libraries', body);
    t.equal(r.status, status, `POST library, ${what}: ${r.text}`);
    t.match(r.json?.message, message, `POST library, ${what} names the problem`);
  }
  const overlap = await stack.api('POST', '/api/libraries', { name: 'X', type: 'movie', path: media });
  t.match(overlap.json.message, new RegExp(`library ${libId} "Movies"`), '409 names the other library');

  const tv = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: root('tv') });
  t.equal(tv.status, 201);
  t.equal((await stack.api('PATCH', `/api/libraries/${tv.json.id}`, { path: root('movies') })).status, 409);
  t.equal((await stack.api('PATCH', `/api/libraries/${tv.json.id}`, { path: root('nope') })).status, 400);
  t.equal(
    (await stack.api('PATCH', `/api/libraries/${tv.json.id}`, { path: root('tv') })).status,
    200,
    'own path is no overlap',
  );
  t.equal((await stack.api('PATCH', `/api/libraries/${tv.json.id}`, {})).status, 400, 'empty patch');
  t.equal((await stack.api('PATCH', '/api/libraries/9999', { name: 'Y' })).status, 404);
  t.equal((await stack.api('GET', '/api/libraries/9999')).status, 404);
  t.equal((await stack.api('GET', '/api/libraries/abc')).status, 400);
  t.equal((await stack.api('DELETE', '/api/libraries/9999')).status, 404);
  t.equal((await stack.api('POST', '/api/libraries/9999/scan')).status, 404);

  // ── manager path mappings ──
  const mappingCases: [string, unknown, RegExp][] = [
    ['bad manager', { manager: 'plex', from: '/m', to: root('movies') }, /body\/manager/],
    ['relative from', { manager: 'radarr', from: 'm', to: root('movies') }, /body\/from/],
    ['windows to', { manager: 'radarr', from: '/m', to: 'C:\\movies' }, /body\/to/],
    ['missing to', { manager: 'radarr', from: '/m' }, /body.*to/],
  ];
  for (const [what, body, message] of mappingCases) {
    const r = await stack.api('POST', '/api/path-mappings', body);
    t.equal(r.status, 400, `POST mapping, ${what}`);
    t.match(r.json?.message, message, `POST mapping, ${what} names the field`);
  }
  const m = await stack.api('POST', '/api/path-mappings', {
    manager: 'radarr',
    from: 'D:\\Movies',
    to: root('movies'),
  });
  t.equal(m.status, 201, m.text);
  const dup = await stack.api('POST', '/api/path-mappings', {
    manager: 'radarr',
    from: 'D:\\Movies',
    to: root('tv'),
  });
  t.equal(dup.status, 409, 'the same manager prefix twice');
  t.equal((await stack.api('PATCH', '/api/path-mappings/9999', { from: '/x' })).status, 404);
  t.equal((await stack.api('DELETE', '/api/path-mappings/9999')).status, 404);

  // ── player groups ──
  const groupCases: [string, unknown, RegExp][] = [
    ['bad type', { name: 'G', type: 'vlc' }, /body\/type/],
    ['sharedLibrary not bool', { name: 'G', type: 'kodi', sharedLibrary: 'yes' }, /body\/sharedLibrary/],
    ['unknown library', { name: 'G', type: 'kodi', libraryIds: [9999] }, /body\/libraryIds/],
    ['library id not int', { name: 'G', type: 'kodi', libraryIds: ['x'] }, /body\/libraryIds/],
    [
      'relative mapping from',
      { name: 'G', type: 'kodi', pathMappings: [{ from: 'x', to: 'smb://a/' }] },
      /body\/pathMappings\/0\/from/,
    ],
  ];
  for (const [what, body, message] of groupCases) {
    const r = await stack.api('POST', '/api/player-groups', body);
    t.equal(r.status, 400, `POST group, ${what}: ${r.text}`);
    t.match(r.json?.message, message, `POST group, ${what} names the field`);
  }
  const g = await stack.api('POST', '/api/player-groups', {
    name: 'Living room',
    type: 'kodi',
    libraryIds: [libId],
  });
  t.equal(g.status, 201, g.text);
  t.equal((await stack.api('POST', '/api/player-groups', { name: 'Living room', type: 'kodi' })).status, 409);
  t.equal((await stack.api('PATCH', '/api/player-groups/9999', { name: 'x' })).status, 404);
  t.equal((await stack.api('GET', '/api/player-groups/9999')).status, 404);

  // ── players ──
  const base = { groupId: g.json.id, name: 'Kodi', type: 'kodi', host: '127.0.0.1', port: 8080 };
  const playerCases: [string, unknown, RegExp][] = [
    ['port out of range', { ...base, port: 70000 }, /body\/port/],
    ['host with spaces', { ...base, host: 'a b' }, /body\/host/],
    ['unknown group', { ...base, groupId: 9999 }, /body\/groupId/],
    ['type differs from group', { ...base, type: 'plex' }, /body\/type/],
    ['useTls not bool', { ...base, useTls: 1 }, /body\/useTls/],
  ];
  for (const [what, body, message] of playerCases) {
    const r = await stack.api('POST', '/api/players', body);
    t.equal(r.status, 400, `POST player, ${what}: ${r.text}`);
    t.match(r.json?.message, message, `POST player, ${what} names the field`);
  }
  const p = await stack.api('POST', '/api/players', {
    ...base,
    username: 'kodi',
    password: 's3cret-pass',
    apiKey: 'k-123',
  });
  t.equal(p.status, 201, p.text);
  t.notOk(JSON.stringify(p.json).includes('s3cret-pass'), 'password never returned');
  t.notOk(JSON.stringify(p.json).includes('k-123'), 'api key never returned');
  t.equal(p.json.hasPassword, true);
  const list = await stack.api('GET', '/api/players');
  t.notOk(list.text.includes('s3cret-pass'), 'list never shows secrets');
  const badPatch = await stack.api('PATCH', `/api/players/${p.json.id}`, { groupId: 9999 });
  t.equal(badPatch.status, 400);
  t.match(badPatch.json.message, /body\/groupId/);
  const typePatch = await stack.api('PATCH', `/api/players/${p.json.id}`, { type: 'emby' });
  t.equal(typePatch.status, 400);
  t.match(typePatch.json.message, /body\/type/);
  t.equal((await stack.api('PATCH', '/api/players/9999', { name: 'x' })).status, 404);
  t.equal((await stack.api('DELETE', '/api/players/9999')).status, 404);
});

t.test('provider keys are stored, masked on read, and the environment wins', async (t) => {
  const stack = await startStack(t, { worker: false });
  const empty = await stack.api('GET', '/api/settings/providers');
  t.same(empty.json.tmdb, { configured: false, source: null, masked: null });
  const bad = await stack.api('PUT', '/api/settings/providers', { tmdbApiKey: 'has spaces in it' });
  t.equal(bad.status, 400);
  t.match(bad.json.message, /body\/tmdbApiKey/);
  t.equal((await stack.api('PUT', '/api/settings/providers', { other: 'x' })).status, 400);
  const put = await stack.api('PUT', '/api/settings/providers', { tmdbApiKey: 'tmdb-secret-key-1234' });
  t.equal(put.status, 200, put.text);
  t.same(put.json.tmdb, { configured: true, source: 'database', masked: '••••1234' });
  const read = await stack.api('GET', '/api/settings/providers');
  t.notOk(read.text.includes('tmdb-secret-key'), 'the key is never returned');
  const row = await stack.db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'tmdb_api_key')
    .executeTakeFirst();
  t.match(row?.value, /^enc:v1:/, 'stored, sealed');
  t.notOk(row?.value.includes('tmdb-secret-key'), 'not in plaintext');
  const cleared = await stack.api('PUT', '/api/settings/providers', { tmdbApiKey: null });
  t.equal(cleared.json.tmdb.configured, false);

  // An API built with TMDB_API_KEY in its environment reports that, whatever is stored.
  await stack.api('PUT', '/api/settings/providers', { tmdbApiKey: 'tmdb-secret-key-1234' });
  const app = await buildApp({
    db: stack.db,
    boss: stack.boss,
    queue: stack.queue,
    log: silentLogger,
    auth: { apiKey: API_KEY },
    config: { basePath: '', trustProxy: undefined, tmdbApiKey: 'env-key-abcd' },
  });
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'GET',
    url: '/api/settings/providers',
    headers: { 'x-api-key': API_KEY },
  });
  t.same(res.json().tmdb, { configured: true, source: 'environment', masked: '••••abcd' });
});

t.test('the OpenAPI document lists every registered route', async (t) => {
  const database = await createTestDatabase();
  const rt = await startRuntime({
    url: database.url,
    log: silentLogger,
    instanceName: 'api',
    poolMax: 4,
    supervise: false,
  });
  t.teardown(async () => {
    await rt.close();
    await database.drop().catch(() => {});
  });
  const app = await buildApp({
    db: rt.dbh.db,
    boss: rt.boss,
    queue: createJobQueue({ boss: rt.boss, db: rt.dbh.db, log: silentLogger }),
    log: silentLogger,
    auth: { apiKey: API_KEY },
    config: { basePath: '/metarr', trustProxy: undefined },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/metarr`;
  t.equal((await request(url, 'GET', '/api/docs/json')).status, 401, 'the document needs the API key');
  const doc = await request(url, 'GET', '/api/docs/json', undefined, { 'x-api-key': API_KEY });
  t.equal(doc.status, 200);
  t.equal(doc.json.openapi, '3.0.3');
  const routes = (registeredRoutes.get(app) ?? []).filter((r) => r.method !== 'HEAD');
  t.ok(routes.length > 30, `collected ${routes.length} routes`);
  const missing: string[] = [];
  for (const r of routes) {
    const p = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/$/, '') || '/';
    const op = doc.json.paths[p]?.[r.method.toLowerCase()];
    if (!op) missing.push(`${r.method} ${p}`);
  }
  t.same(missing, [], 'every route is in the document');
  t.ok(doc.json.paths['/metarr/api/libraries'].post.requestBody, 'bodies come from the TypeBox schemas');
  t.ok(doc.json.paths['/metarr/api/schedules'].put, 'schedules are documented');
});
