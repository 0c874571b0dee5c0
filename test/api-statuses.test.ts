import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { WEBHOOK_BODY_LIMIT } from '@metarr/api';
import { storeApiKey } from '@metarr/core';
import { makeJpeg, startFakeAlertReceiver, startFakeTmdb } from '@metarr/testkit';
import t from 'tap';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { upgradeStatus } from './support/feed-client.ts';
import { API_KEY, request, startStack, waitFor } from './support/stack.ts';
import { at, fixture } from './support/webhook-fixtures.ts';

/**
 * Every route against its own declaration: a broad exercise of every documented operation with good
 * and bad input, and a hook in the app that records each answer. A status the operation does not
 * declare, or a body that does not match the schema declared for its status, fails the test.
 */

interface Seen {
  op: string;
  status: number;
  problem?: string;
}

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
};

const opOf = (method: string, url: string) => `${method} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;

t.test('every route answers only the statuses it declares, with the bodies it declares', async (t) => {
  const seen: Seen[] = [];
  const media = t.testdir({ movies: { 'Heat (1995)': {} }, tv: {}, music: {}, other: {} });
  const root = (p: string) => path.join(media, p);

  // TMDB for the identify search: no key at first (503), a wrong one (502), then its own (200).
  const tmdb = await startFakeTmdb({ apiKey: 'tmdb-fake-key-0123456789' });
  t.teardown(() => tmdb.close());
  const stack = await startStack(t, {
    worker: false,
    env: { METARR_TMDB_BASE_URL: tmdb.apiUrl, METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl },
    // One anonymous call per operation is far more than 10 failures from one address: the limit is
    // lifted here, and test/auth-brute-force.test.ts sees every operation's 429.
    authLimit: { maxFailures: 1_000_000 },
    instrument: (app) => {
      let validators: Map<TSchema, ReturnType<typeof Compile>> | null = null;
      app.addHook('onSend', async (req, reply, payload) => {
        const url = req.routeOptions.url;
        if (!url) return payload; // no route: the not-found handler
        const op = opOf(req.method === 'HEAD' ? 'GET' : req.method, url);
        const status = reply.statusCode;
        const schema = (req.routeOptions.schema?.response as Record<string, TSchema> | undefined)?.[status];
        const json = String(reply.getHeader('content-type') ?? '').startsWith('application/json');
        let problem: string | undefined;
        if (schema && json && typeof payload === 'string' && payload !== '') {
          // Shared schemas (`$ref: 'Error#'`) resolve against the app's own.
          validators ??= new Map();
          const context = Object.fromEntries(
            Object.entries(app.getSchemas()).map(([id, s]) => [`${id}#`, s]),
          );
          const v = validators.get(schema) ?? Compile(context as Record<string, TSchema>, schema);
          validators.set(schema, v);
          const body = JSON.parse(payload);
          if (!v.Check(body))
            problem = [...v.Errors(body)]
              .slice(0, 3)
              .map((e) => `${e.instancePath} ${e.message}`)
              .join('; ');
        }
        seen.push({ op, status, ...(problem && { problem }) });
        return payload;
      });
    },
  });
  const api = stack.api;
  const anon = (method: string, route: string, body?: unknown, headers?: Record<string, string>) =>
    request(stack.url, method, route, body, headers);
  const doc = (await api('GET', '/api/docs/json')).json as Doc;
  const ops = Object.entries(doc.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(([m, op]) => ({
      op: `${m.toUpperCase()} ${p}`,
      method: m.toUpperCase(),
      path: p,
      ...op,
    })),
  );
  t.ok(ops.length > 45, `${ops.length} documented operations`);

  // ── good and bad input, route by route ──
  await anon('GET', '/api/health');
  // Ready once this replica's feed connection is up (a 503 until then, which is declared too).
  await waitFor('readiness', async () => (await anon('GET', '/api/health/ready')).status === 200);

  const download = fixture('radarr-download');
  at(download, 'movie').folderPath = root('movies/Heat (1995)');
  const queued = await api('POST', '/api/webhooks/radarr', download);
  t.equal(queued.json?.status, 'success', queued.text);
  const webhookJob = queued.json.jobId as string;
  await api('POST', '/api/webhooks/radarr', download); // duplicate
  await api('PUT', '/api/webhooks/radarr', fixture('radarr-grab')); // ignored
  const noFolder = fixture('radarr-download');
  delete at(noFolder, 'movie').folderPath;
  await api('POST', '/api/webhooks/radarr', noFolder);
  for (const app of ['sonarr', 'lidarr']) {
    for (const method of ['POST', 'PUT']) await api(method, `/api/webhooks/${app}`, fixture(`${app}-test`));
  }
  await api('POST', '/api/webhooks/sonarr', fixture('radarr-download')); // no `series`: 400

  const deliveries = (await api('GET', '/api/webhooks/deliveries')).json as { id: number; status: string }[];
  await api('GET', '/api/webhooks/deliveries?source=plex');
  const replayable = deliveries.find((d) => d.status === 'queued');
  const test = deliveries.find((d) => d.status === 'test');
  await api('POST', `/api/webhooks/deliveries/${replayable?.id}/replay`);
  await api('POST', `/api/webhooks/deliveries/${test?.id}/replay`);

  const lib = (await api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root('movies') }))
    .json;
  const tv = (await api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: root('tv') })).json;
  await api('POST', '/api/libraries', { name: 'Inside', type: 'movie', path: root('movies/Heat (1995)') });
  await api('POST', '/api/libraries', { name: 'Books', type: 'books', path: root('other') });
  await api('GET', '/api/libraries');
  await api('GET', `/api/libraries/${lib.id}`);
  await api('PATCH', `/api/libraries/${tv.id}`, { name: 'Series' });
  await api('PATCH', `/api/libraries/${tv.id}`, { path: root('movies') });
  await api('POST', `/api/libraries/${lib.id}/scan`);
  await api('DELETE', `/api/libraries/${tv.id}`);

  const mapping = (
    await api('POST', '/api/path-mappings', { manager: 'radarr', from: '/data', to: root('movies') })
  ).json;
  const second = (
    await api('POST', '/api/path-mappings', { manager: 'radarr', from: '/d2', to: root('movies') })
  ).json;
  await api('POST', '/api/path-mappings', { manager: 'radarr', from: '/data', to: root('movies') });
  await api('GET', '/api/path-mappings');
  await api('PATCH', `/api/path-mappings/${mapping.id}`, { to: root('other') });
  await api('PATCH', `/api/path-mappings/${second.id}`, { from: '/data' });
  await api('DELETE', `/api/path-mappings/${second.id}`);

  const group = (
    await api('POST', '/api/player-groups', { name: 'Kodi', type: 'kodi', libraryIds: [lib.id] })
  ).json;
  const other = (await api('POST', '/api/player-groups', { name: 'Other', type: 'plex' })).json;
  await api('POST', '/api/player-groups', { name: 'Kodi', type: 'kodi' });
  await api('POST', '/api/player-groups', { name: 'Lost', type: 'kodi', libraryIds: [99999] });
  await api('GET', '/api/player-groups');
  await api('GET', `/api/player-groups/${group.id}`);
  await api('PATCH', `/api/player-groups/${group.id}`, { debounceSeconds: 0 });
  await api('PATCH', `/api/player-groups/${other.id}`, { name: 'Kodi' });
  await api('DELETE', `/api/player-groups/${other.id}`);

  // Port 9 (discard) on loopback: nothing listens, so the test reports an unreachable player quickly.
  const kodi = { groupId: group.id, name: 'Box', type: 'kodi', host: '127.0.0.1', port: 9 };
  const player = (await api('POST', '/api/players', kodi)).json;
  const spare = (await api('POST', '/api/players', { ...kodi, name: 'Spare' })).json;
  await api('POST', '/api/players', { ...kodi, type: 'plex' });
  await api('GET', '/api/players');
  await api('GET', `/api/players/${player.id}`);
  await api('PATCH', `/api/players/${player.id}`, { password: 'secret' });
  await api('PATCH', `/api/players/${player.id}`, { groupId: 99999 });
  await api('POST', `/api/players/${player.id}/test`);
  await api('GET', `/api/players/${player.id}/audit`); // never audited: 404
  await api('POST', `/api/players/${player.id}/audit`);
  await api('POST', `/api/players/${player.id}/audit?repair=true`); // still queued (no worker): 409
  await api('POST', `/api/players/${player.id}/audit?repair=maybe`);
  await stack.db.insertInto('player_audits').values({ player_id: player.id, status: 'done' }).execute();
  await api('GET', `/api/players/${player.id}/audit?kind=gone&limit=10`);
  await api('GET', `/api/players/${player.id}/audit?kind=lost`);
  await api('DELETE', `/api/players/${spare.id}`);

  const receiver = await startFakeAlertReceiver();
  t.teardown(() => receiver.close());
  const hook = (
    await api('POST', '/api/alerts', { name: 'Hook', type: 'webhook', url: `${receiver.url}/hook` })
  ).json;
  // Port 9 (discard) on loopback: nothing listens, so the test answers 502 quickly.
  const dead = (
    await api('POST', '/api/alerts', { name: 'Dead', type: 'discord', url: 'http://127.0.0.1:9/x' })
  ).json;
  await api('POST', '/api/alerts', { name: 'No topic', type: 'ntfy', url: receiver.url });
  await api('GET', '/api/alerts');
  await api('GET', `/api/alerts/${hook.id}`);
  await api('PUT', `/api/alerts/${hook.id}`, { name: 'Hook', type: 'webhook', events: ['publish-done'] });
  await api('POST', `/api/alerts/${hook.id}/test`);
  await api('POST', `/api/alerts/${dead.id}/test`);
  await api('DELETE', `/api/alerts/${dead.id}`);

  await api('GET', `/api/paths/explain?manager=radarr&path=${encodeURIComponent('/data/Heat (1995)')}`);
  await api('GET', `/api/paths/explain?manager=radarr&path=${encodeURIComponent('/nowhere')}`);
  await api('GET', '/api/paths/explain?manager=radarr&path=relative');
  await api('GET', '/api/paths/explain?path=/data');

  const movie = await stack.db
    .insertInto('movies')
    .values({ library_id: lib.id, path: root('movies/Heat (1995)'), title: 'Heat', year: 1995 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await api('GET', '/api/movies');
  await api('GET', `/api/movies?libraryId=${lib.id}&limit=10&offset=0`);
  await api('GET', '/api/movies?limit=0');
  await api('GET', `/api/movies/${movie.id}`);
  await api('POST', `/api/movies/${movie.id}/locks`, { field: 'title', locked: true });
  await api('POST', `/api/movies/${movie.id}/locks`, { field: 'colour', locked: true });
  const candidate = await stack.db
    .insertInto('movie_asset_candidates')
    .values({ movie_id: movie.id, type: 'poster', provider: 'tmdb', url: 'https://image.tmdb.org/t/p/x.jpg' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await api('GET', `/api/movies/${movie.id}/artwork`);
  await api('GET', `/api/movies/${movie.id}/files`);
  await api('GET', `/api/folders?path=${encodeURIComponent(media)}`);
  await api('GET', '/api/folders?path=/etc');
  await api('GET', `/api/movies/${movie.id}/artwork/poster/image`); // nothing published: 404
  await fs.writeFile(path.join(root('movies/Heat (1995)'), 'poster.jpg'), makeJpeg(20, 30));
  await stack.db
    .insertInto('movie_published_files')
    .values({ movie_id: movie.id, file: 'poster.jpg', kind: 'poster', content_hash: 'x', source_url: null })
    .execute();
  const poster = await api('GET', `/api/movies/${movie.id}/artwork/poster/image`);
  await api('GET', `/api/movies/${movie.id}/artwork/poster/image`, undefined, {
    'if-none-match': poster.headers.get('etag') ?? '',
  });
  await api('PUT', `/api/movies/${movie.id}/artwork/poster`, { candidateId: candidate.id });
  await api('PUT', `/api/movies/${movie.id}/artwork/fanart`, { candidateId: candidate.id });
  await api('PUT', `/api/movies/${movie.id}/artwork/poster`, { candidateId: 'one' });
  await api('PATCH', `/api/movies/${movie.id}/metadata`, { title: 'Heat' });
  await stack.db
    .insertInto('movie_metadata')
    .values({ movie_id: movie.id, data: JSON.stringify({ title: 'Heat' }) })
    .execute();
  await api('PATCH', `/api/movies/${movie.id}/metadata`, { title: 'Heat', plot: 'Cops and robbers.' });
  await api('PATCH', `/api/movies/${movie.id}/metadata`, { rating: 9 });
  await api('POST', `/api/movies/${movie.id}/refresh`); // no TMDB id yet: 409
  await api('GET', `/api/movies/${movie.id}/identify?query=heat`); // no TMDB key yet: 503
  await api('GET', `/api/movies/${movie.id}/identify?query=heat&year=12`);
  await api('GET', '/api/movies/99999/identify?query=heat');
  const series = await stack.db
    .insertInto('series')
    .values({ library_id: lib.id, path: root('tv/Severance (2022)'), title: 'Severance', year: 2022 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const season = await stack.db
    .insertInto('seasons')
    .values({ series_id: series.id, number: 1, folder: 'Season 01' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const episode = await stack.db
    .insertInto('episodes')
    .values({
      series_id: series.id,
      season_id: season.id,
      season_number: 1,
      number: 1,
      title: 'TBA',
      air_date: '2022-02-18',
      placeholder_fields: ['title'],
      placeholder_next_check: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await api('GET', '/api/series');
  await api('GET', `/api/series?libraryId=${lib.id}&limit=10&offset=0`);
  await api('GET', '/api/series?limit=0');
  await api('GET', `/api/series/${series.id}`);
  await api('GET', '/api/series/99999');
  await api('POST', `/api/series/${series.id}/locks`, { field: 'title', locked: true });
  await api('POST', `/api/episodes/${episode.id}/locks`, { field: 'plot', locked: true });
  await api('POST', `/api/series/${series.id}/refresh`); // no TMDB or TVDB id: 409
  await stack.db.updateTable('series').set({ tmdb_id: 95001 }).where('id', '=', series.id).execute();
  await api('POST', `/api/series/${series.id}/refresh`); // 202
  await api('POST', `/api/movies/${movie.id}/identify`, { tmdbId: 949 });
  await api('POST', `/api/movies/${movie.id}/refresh`); // identified: 202

  await api('GET', '/api/jobs');
  await api('GET', '/api/jobs?root=true&state=created&limit=5');
  await api('GET', '/api/jobs?deadLetter=true');
  await api('GET', '/api/jobs?state=bogus');
  await api('GET', '/api/jobs?bogus=1');
  await api('GET', '/api/jobs/dead-letter');
  await api('GET', '/api/jobs/dead-letter?type=bogus');
  await api('GET', '/api/jobs/stats');
  await api('GET', '/api/jobs/stats?hours=0');
  await api('GET', '/api/jobs/timeline?minutes=10');
  await api('GET', '/api/jobs/timeline?minutes=1');
  await api('GET', `/api/jobs/${webhookJob}`);
  await api('GET', `/api/jobs/${webhookJob}/tree`);
  await api('POST', `/api/jobs/${webhookJob}/retry`); // created: nothing to retry
  await api('POST', `/api/jobs/${webhookJob}/cancel`);
  await api('POST', `/api/jobs/${webhookJob}/cancel`); // already cancelled
  await api('POST', `/api/jobs/${webhookJob}/retry`); // cancelled: queued again

  await api('GET', '/api/workers');

  await api('GET', '/api/schedules');
  await api('PUT', '/api/schedules', {
    fileScan: { cron: '0 */4 * * *' },
    libraries: [{ libraryId: lib.id }],
  });
  await api('PUT', '/api/schedules', { fileScan: { cron: 'every minute' } });
  await api('PUT', '/api/schedules', { libraries: [{ libraryId: 99999, enabled: false }] });

  await api('GET', '/metrics');
  await api('GET', '/api/settings/providers');
  await api('PUT', '/api/settings/providers', { tmdbApiKey: 'tmdb-key-0123' });
  await api('PUT', '/api/settings/providers', { tmdbApiKey: 'short' });
  // The stored key reaches the identify search within the settings TTL; TMDB refuses it (502).
  await waitFor('the stored key is used', async () => {
    return (await api('GET', `/api/movies/${movie.id}/identify?query=heat`)).status === 502;
  });
  await api('PUT', '/api/settings/providers', { tmdbApiKey: 'tmdb-fake-key-0123456789' });
  await waitFor('the right key is used', async () => {
    return (await api('GET', `/api/movies/${movie.id}/identify?query=matrix`)).status === 200;
  });
  await api('POST', '/api/settings/api-key/rotate'); // the key is fixed: 409
  // The same app with a stored key: rotation answers the new key, then the fixed key comes back.
  await storeApiKey(stack.db, API_KEY);
  stack.auth.apiKey = undefined;
  const rotated = await api('POST', '/api/settings/api-key/rotate');
  t.equal(rotated.status, 200, 'a stored key rotates');
  stack.auth.apiKey = API_KEY;

  await api('GET', '/api/ws'); // not an upgrade
  await api('GET', '/api/ws?type=nope');
  await api('GET', '/api/ws', undefined, { origin: 'http://evil.example' });
  const ws = `${stack.url.replace(/^http/, 'ws')}/api/ws?apikey=${API_KEY}`;
  t.equal(await upgradeStatus(ws), 101, 'the feed upgrades (a 101 never reaches onSend)');

  await api('GET', '/api/docs/yaml');

  // ── what every operation shares: the key, its parameters, the body parser ──
  const tooBig = JSON.stringify({ pad: 'x'.repeat(WEBHOOK_BODY_LIMIT) });
  // A body each route with an id would accept, so an unknown id is what it answers to.
  const validBody: Record<string, unknown> = {
    'PATCH /api/libraries/{id}': { name: 'x' },
    'PATCH /api/path-mappings/{id}': { manager: 'sonarr' },
    'PATCH /api/player-groups/{id}': { debounceSeconds: 1 },
    'PATCH /api/players/{id}': { port: 1 },
    'PUT /api/alerts/{id}': { name: 'x', type: 'webhook' },
    'POST /api/movies/{id}/locks': { field: 'title', locked: true },
    'POST /api/series/{id}/locks': { field: 'title', locked: true },
    'POST /api/episodes/{id}/locks': { field: 'title', locked: true },
    'PUT /api/movies/{id}/artwork/{type}': { candidateId: 1 },
    'PATCH /api/movies/{id}/metadata': { title: 'x' },
    'POST /api/movies/{id}/identify': { tmdbId: 1 },
  };
  for (const op of ops) {
    const param = op.path.includes('{id}')
      ? op.path.startsWith('/api/jobs')
        ? { bad: 'not-a-uuid', unknown: randomUUID() }
        : { bad: 'abc', unknown: '99999' }
      : null;
    const withId = (id: string) => op.path.replace('{id}', id);
    const route = withId(param?.unknown ?? '');
    if (op.security?.length !== 0) await anon(op.method, route);
    if (param) {
      await api(op.method, withId(param.bad), validBody[op.op]);
      await api(op.method, route, validBody[op.op]);
    }
    if (op.method !== 'GET') {
      await api(op.method, route, 'not json', { 'content-type': 'text/plain' });
      await api(op.method, route, '{"unterminated": ', { 'content-type': 'application/json' });
      await api(op.method, route, tooBig);
    }
  }

  // ── the verdict ──
  const declared = new Map(ops.map((o) => [o.op, new Set(Object.keys(o.responses).map(Number))]));
  const undeclared = [
    ...new Set(seen.filter((s) => !declared.get(s.op)?.has(s.status)).map((s) => `${s.op} → ${s.status}`)),
  ];
  t.same(undeclared, [], 'no route answered a status it does not declare');
  const mismatched = [
    ...new Set(seen.filter((s) => s.problem).map((s) => `${s.op} ${s.status}: ${s.problem}`)),
  ];
  t.same(mismatched, [], 'every JSON body matched the schema declared for its status');
  t.same(
    seen.filter((s) => !declared.has(s.op)).map((s) => s.op),
    [],
    'every route that answered is in the document',
  );

  // The exercise reaches every declared outcome, so a declaration cannot go stale unnoticed. Not
  // reached here: a 503 (the database is up; test/intake-db-down.test.ts and the health tests cut it),
  // the feed's 101, which the upgrade above saw directly, and the brute-force 429 (lifted above).
  const unexercised = ops.flatMap((o) =>
    [...(declared.get(o.op) ?? [])]
      .filter((status) => status !== 503 && status !== 101 && status !== 429)
      .filter((status) => !seen.some((s) => s.op === o.op && s.status === status))
      .map((status) => `${o.op} → ${status}`),
  );
  t.same(unexercised, [], 'every declared status was seen at least once');
  t.equal(new Set(seen.map((s) => s.op)).size, ops.length, `${seen.length} answers from every operation`);
});
