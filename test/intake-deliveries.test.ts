import t from 'tap';
import { startStack, waitFor } from './support/stack.ts';
import { at, fixture } from './support/webhook-fixtures.ts';

t.test('GET /api/webhooks/deliveries filters by source, eventType and status, and pages', async (t) => {
  const stack = await startStack(t, { worker: false });
  const sent: [string, string][] = [
    ['radarr', 'radarr-test'],
    ['radarr', 'radarr-download'],
    ['radarr', 'radarr-health'],
    ['sonarr', 'sonarr-download'],
    ['sonarr', 'sonarr-grab'],
    ['lidarr', 'lidarr-download'],
    ['lidarr', 'lidarr-health'],
  ];
  for (const [source, name] of sent) {
    const r = await stack.api('POST', `/api/webhooks/${source}`, fixture(name));
    t.equal(r.status, 200, name);
  }
  const list = async (q: string) => {
    const r = await stack.api('GET', `/api/webhooks/deliveries${q}`);
    t.equal(r.status, 200, q);
    return r.json as {
      id: number;
      source: string;
      eventType: string;
      status: string;
      jobId: string | null;
    }[];
  };
  const all = await list('');
  t.equal(all.length, 7);
  t.ok(
    all.every((d, i) => i === 0 || (all[i - 1]?.id ?? 0) > d.id),
    'newest first',
  );
  t.same(
    (await list('?source=sonarr')).map((d) => d.eventType),
    ['Grab', 'Download'],
  );
  t.same(
    (await list('?eventType=Health')).map((d) => d.source),
    ['lidarr', 'radarr'],
  );
  const queued = await list('?status=queued');
  t.equal(queued.length, 3);
  t.ok(
    queued.every((d) => d.jobId),
    'a queued delivery names its job',
  );
  t.same(
    (await list('?status=test')).map((d) => d.source),
    ['radarr'],
  );
  t.same(
    (await list('?source=lidarr&status=ignored')).map((d) => d.eventType),
    ['Health'],
  );
  const page1 = await list('?limit=3');
  const page2 = await list('?limit=3&offset=3');
  const page3 = await list('?limit=3&offset=6');
  t.same(
    [...page1, ...page2, ...page3].map((d) => d.id),
    all.map((d) => d.id),
    'pages cover the list once, in order',
  );
  t.equal(page3.length, 1);

  for (const bad of ['?status=nope', '?source=plex', '?limit=0', '?limit=501', '?offset=-1', '?limit=abc']) {
    const r = await stack.api('GET', `/api/webhooks/deliveries${bad}`);
    t.equal(r.status, 400, bad);
    t.match(r.json.message, /querystring\//, `${bad}: names the parameter`);
  }
});

t.test('replay makes a new webhook job that the handler runs again; 404 and 409 otherwise', async (t) => {
  const stack = await startStack(t);
  const body = fixture('radarr-download');
  at(body, 'movie').folderPath = '/nowhere/The Matrix (1999)';
  const ack = await stack.api('POST', '/api/webhooks/radarr', body);
  const done = (jobId: string) =>
    waitFor(`job ${jobId} completed`, async () => {
      const r = await stack.api('GET', `/api/jobs/${jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
  const first = await done(ack.json.jobId);
  t.match(first.output.skipped, /is in no library/);
  const [delivery] = (await stack.api('GET', '/api/webhooks/deliveries')).json;

  const replay = await stack.api('POST', `/api/webhooks/deliveries/${delivery.id}/replay`);
  t.equal(replay.status, 202, replay.text);
  t.match(replay.json, { jobId: /^[0-9a-f-]{36}$/ });
  t.not(replay.json.jobId, ack.json.jobId, 'a new job');
  const again = await done(replay.json.jobId);
  t.equal(again.type, 'webhook');
  t.match(again.payload, { deliveryId: String(delivery.id), source: 'radarr', eventType: 'Download' });
  t.match(again.output.skipped, /is in no library/, 'the handler ran the same delivery again');

  // With the library in place the replay now does the work the first run could not.
  const media = t.testdir({ movies: { 'The Matrix (1999)': { 'm.mkv': 'v' } } });
  await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: `${media}/movies` });
  await stack.api('POST', '/api/path-mappings', {
    manager: 'radarr',
    from: '/nowhere',
    to: `${media}/movies`,
  });
  const third = await stack.api('POST', `/api/webhooks/deliveries/${delivery.id}/replay`);
  t.equal(third.status, 202);
  const ran = await done(third.json.jobId);
  t.match(ran.children, [{ type: 'scan-movie' }]);

  t.equal((await stack.api('POST', '/api/webhooks/deliveries/999999/replay')).status, 404);
  const notNumber = await stack.api('POST', '/api/webhooks/deliveries/abc/replay');
  t.equal(notNumber.status, 400);
  t.match(notNumber.json.message, /params\/id/);

  await stack.api('POST', '/api/webhooks/radarr', fixture('radarr-health'));
  await stack.api('POST', '/api/webhooks/radarr', fixture('radarr-test'));
  const list = (await stack.api('GET', '/api/webhooks/deliveries')).json as { id: number; status: string }[];
  for (const status of ['ignored', 'test']) {
    const d = list.find((x) => x.status === status);
    const r = await stack.api('POST', `/api/webhooks/deliveries/${d?.id}/replay`);
    t.equal(r.status, 409, `a ${status} delivery cannot be replayed`);
    t.match(r.json, { statusCode: 409, error: 'Conflict', message: new RegExp(status) });
  }
  t.equal(
    (
      await stack.api('POST', `/api/webhooks/deliveries/${delivery.id}/replay`, undefined, {
        'x-api-key': 'wrong-key-00000000',
      })
    ).status,
    401,
    'replay needs the API key',
  );
});
