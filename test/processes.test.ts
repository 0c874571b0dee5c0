import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { API_KEY, ROOT, request, spawnProcess, waitFor } from './support/stack.ts';

t.test('the API and two workers as separate OS processes on one Postgres run the whole flow', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = {
    DATABASE_URL: database.url,
    METARR_API_KEY: API_KEY,
    METARR_PORT: '0',
    METARR_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };

  // Started together: migrations and queue creation must be safe when processes race.
  const [api, w1, w2] = await Promise.all([
    spawnProcess(t, 'api', env),
    spawnProcess(t, 'worker', { ...env, METARR_WORKER_CONCURRENCY: '2' }),
    spawnProcess(t, 'worker', { ...env, METARR_WORKER_CONCURRENCY: '2' }),
  ]);
  t.ok(api.address, 'the API reported its address');
  const base = String(api.address);
  const call = (method: string, route: string, body?: unknown) =>
    request(base, method, route, body, { 'x-api-key': API_KEY });

  const kodi = await startFakeKodi({});
  t.teardown(() => kodi.close());
  const media = t.testdir({ 'The Matrix (1999)': { 'The Matrix (1999).mkv': 'v' } });
  const lib = await call('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: media });
  t.equal(lib.status, 201, lib.text);
  await call('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: media });
  const group = await call('POST', '/api/player-groups', {
    name: 'Kodi',
    type: 'kodi',
    libraryIds: [lib.json.id],
    pathMappings: [{ from: media, to: 'nfs://nas/movies/' }],
  });
  await call('POST', '/api/players', {
    groupId: group.json.id,
    name: 'box',
    type: 'kodi',
    host: '127.0.0.1',
    port: kodi.port,
  });

  const body = JSON.parse(
    await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
  );
  const ack = await call('POST', '/api/webhooks/radarr', body);
  t.equal(ack.status, 200, ack.text);
  const scan = await waitFor(
    'Kodi scan',
    async () => kodi.calls.find((c) => c.method === 'VideoLibrary.Scan'),
    30_000,
  );
  t.same(scan.params, { directory: 'nfs://nas/movies/The Matrix (1999)/', showdialogs: false });

  const logs = w1.output() + w2.output();
  for (const line of ['Job started', 'Job completed']) t.match(logs, line, `workers log "${line}"`);
  t.notMatch(api.output() + logs, API_KEY, 'the API key never reaches a log');
  for (const l of logs.split('\n').filter((x) => x.startsWith('{'))) {
    const rec = JSON.parse(l);
    if (rec.msg === 'Job started' || rec.msg === 'Job completed') {
      t.ok(rec.service && rec.jobId && rec.type, `lifecycle line names service, jobId and type: ${rec.msg}`);
    }
  }
});
