import fs from 'node:fs/promises';
import path from 'node:path';
import { createJobInspector } from '@metarr/core';
import { startFakeKodi } from '@metarr/testkit';
import { sql } from 'kysely';
import t from 'tap';
import { ROOT, request, startStack, waitFor } from './support/stack.ts';

const fixture = async (name: string) =>
  JSON.parse(await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', name), 'utf8'));

async function jobCount(db: import('@metarr/core').Db) {
  return createJobInspector(db).count();
}

t.test(
  'Radarr Download → webhook → scan → movie row → notify → Kodi scans the group-mapped folder',
  async (t) => {
    const stack = await startStack(t);
    const kodi = await startFakeKodi({ username: 'kodi', password: 'secret-pass' });
    t.teardown(() => kodi.close());
    const media = t.testdir({
      movies: { 'The Matrix (1999)': { 'The Matrix (1999) [Bluray-1080p].mkv': 'video-bytes' } },
    });
    const moviesRoot = path.join(media, 'movies');

    const lib = await stack.api('POST', '/api/libraries', {
      name: 'Movies',
      type: 'movie',
      path: moviesRoot,
    });
    t.equal(lib.status, 201, lib.text);
    t.equal(
      (await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: moviesRoot }))
        .status,
      201,
    );
    const group = await stack.api('POST', '/api/player-groups', {
      name: 'Living room',
      type: 'kodi',
      sharedLibrary: true,
      libraryIds: [lib.json.id],
      pathMappings: [{ from: moviesRoot, to: 'smb://nas/movies/' }],
    });
    t.equal(group.status, 201, group.text);
    const player = await stack.api('POST', '/api/players', {
      groupId: group.json.id,
      name: 'Kodi',
      type: 'kodi',
      host: '127.0.0.1',
      port: kodi.port,
      username: 'kodi',
      password: 'secret-pass',
    });
    t.equal(player.status, 201, player.text);
    t.notOk('password' in player.json, 'the password is never returned');

    const ack = await stack.api('POST', '/api/webhooks/radarr', await fixture('radarr-download.json'));
    t.equal(ack.status, 200);
    t.match(ack.json, {
      status: 'success',
      message: 'Webhook queued for processing',
      jobId: /^[0-9a-f-]{36}$/,
    });

    const scanCall = await waitFor('Kodi VideoLibrary.Scan', async () =>
      kodi.calls.find((c) => c.method === 'VideoLibrary.Scan'),
    );
    t.same(scanCall.params, { directory: 'smb://nas/movies/The Matrix (1999)/', showdialogs: false });
    t.equal(kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').length, 1, 'exactly one scan');

    const movies = await stack.api('GET', '/api/movies');
    t.equal(movies.json.length, 1);
    t.match(movies.json[0], {
      title: 'The Matrix',
      year: 1999,
      tmdbId: 603,
      imdbId: 'tt0133093',
      path: path.join(moviesRoot, 'The Matrix (1999)'),
    });

    // The lineage: webhook → scan-movie → notify-players, each recording its parent.
    const webhookJob = await waitFor('webhook job completed', async () => {
      const r = await stack.api('GET', `/api/jobs/${ack.json.jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    t.equal(webhookJob.type, 'webhook');
    t.equal(webhookJob.priority, 1);
    t.equal(webhookJob.children.length, 1);
    t.equal(webhookJob.children[0].type, 'scan-movie');
    const scanJob = await waitFor('scan job completed', async () => {
      const r = await stack.api('GET', `/api/jobs/${webhookJob.children[0].id}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    t.equal(scanJob.parentId, webhookJob.id);
    t.match(scanJob.output, { status: 'created' });
    t.equal(scanJob.children[0]?.type, 'notify-players');
    const notifyJob = await waitFor('notify job completed', async () => {
      const r = await stack.api('GET', `/api/jobs/${scanJob.children[0].id}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    t.equal(notifyJob.parentId, scanJob.id);
    t.equal(notifyJob.priority, 3);
  },
);

t.test('a path in no library is accepted, and the webhook job ends skipped with the reason', async (t) => {
  const stack = await startStack(t);
  const ack = await stack.api('POST', '/api/webhooks/radarr', await fixture('radarr-download.json'));
  t.equal(ack.status, 200);
  const job = await waitFor('webhook job completed', async () => {
    const r = await stack.api('GET', `/api/jobs/${ack.json.jobId}`);
    return r.json?.state === 'completed' ? r.json : null;
  });
  t.match(job.output.skipped, /is in no library/);
  t.equal(job.children.length, 0, 'no follow-up job');
  const deliveries = await stack.api('GET', '/api/webhooks/deliveries');
  t.match(deliveries.json[0], {
    source: 'radarr',
    eventType: 'Download',
    status: 'queued',
    outcome: /skipped: .*is in no library/,
  });
});

t.test('bad input gets its status and creates no job', async (t) => {
  const stack = await startStack(t, { worker: false });
  const download = await fixture('radarr-download.json');
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request(stack.url, 'POST', '/api/webhooks/radarr', body, { 'x-api-key': stack.apiKey, ...headers });

  const invalidJson = await post('{"eventType": "Download", "movie": ', {});
  t.equal(invalidJson.status, 400, 'truncated JSON');
  t.match(invalidJson.json, { statusCode: 400, error: 'Bad Request' });

  const noFolder = structuredClone(download);
  delete noFolder.movie.folderPath;
  const r1 = await post(noFolder);
  t.equal(r1.status, 400);
  t.match(r1.json.message, /body\/movie\/folderPath/);

  const wrongType = structuredClone(download);
  wrongType.movie.folderPath = 123;
  const r2 = await post(wrongType);
  t.equal(r2.status, 400);
  t.match(r2.json.message, 'body/movie/folderPath must be string');

  const wrongTmdb = structuredClone(download);
  wrongTmdb.movie.tmdbId = '603abc';
  const r3 = await post(wrongTmdb);
  t.equal(r3.status, 400);
  t.match(r3.json.message, /body\/movie\/tmdbId/);

  const noKey = await request(stack.url, 'POST', '/api/webhooks/radarr', download);
  t.equal(noKey.status, 401);
  const wrongKey = await request(stack.url, 'POST', '/api/webhooks/radarr', download, {
    'x-api-key': 'nope-nope-nope-nope',
  });
  t.equal(wrongKey.status, 401);
  t.notMatch(wrongKey.text, /stack|at .*\.ts/, 'no internals in the error body');

  const plain = await post('hello', { 'content-type': 'text/plain' });
  t.equal(plain.status, 415);

  t.equal(await jobCount(stack.db), 0, 'no job was created');
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries`.execute(
    stack.db,
  );
  t.equal(rows[0]?.n, 0, 'no delivery was stored');
});

t.test('Test events answer "Test received" and create no job', async (t) => {
  const stack = await startStack(t, { worker: false });
  const r = await stack.api('POST', '/api/webhooks/radarr', await fixture('radarr-test.json'));
  t.equal(r.status, 200);
  t.same(r.json, { status: 'success', message: 'Test received' });
  t.equal(await jobCount(stack.db), 0);
});

t.test('a repeated delivery is a duplicate of the first job', async (t) => {
  const stack = await startStack(t, { worker: false });
  const body = await fixture('radarr-download.json');
  const first = await stack.api('POST', '/api/webhooks/radarr', body);
  const again = await stack.api('POST', '/api/webhooks/radarr', body);
  t.equal(again.status, 200);
  t.same(again.json, { status: 'duplicate', message: 'Delivery already accepted', jobId: first.json.jobId });
  t.equal(await jobCount(stack.db), 1);
});

t.test('health answers without a key; other routes need one', async (t) => {
  const stack = await startStack(t, { worker: false });
  const h = await request(stack.url, 'GET', '/api/health');
  t.equal(h.status, 200);
  t.same(h.json, { status: 'ok', db: 'ok', queue: 'ok' });
  t.equal((await request(stack.url, 'GET', '/api/libraries')).status, 401);
  t.equal((await request(stack.url, 'GET', `/api/libraries?apikey=${stack.apiKey}`)).status, 200);
});
