/** Log line format of real processes: JSON for collectors, readable text for a terminal. */
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { API_KEY, spawnProcess, waitFor } from './support/stack.ts';

async function startApi(t: { teardown(fn: () => unknown): void }, format: string) {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const api = await spawnProcess(t, 'api', {
    DATABASE_URL: database.url,
    METARR_API_KEY: API_KEY,
    METARR_PORT: '0',
    METARR_HOST: '127.0.0.1',
    METARR_BASE_PATH: '/metarr',
    LOG_FORMAT: format,
  });
  await waitFor('the API docs line', async () => api.output().includes('API docs'), 10_000);
  const port = new URL(api.address ?? '').port;
  const lines = api.output().split('\n').filter(Boolean);
  return { lines, port };
}

t.test('LOG_FORMAT=pretty: readable lines, no JSON, and where the jobs page and API docs are', async (t) => {
  const { lines, port } = await startApi(t, 'pretty');
  for (const line of lines) {
    t.notOk(line.trimStart().startsWith('{'), `not JSON: ${line}`);
  }
  const listening = lines.find((l) => l.includes('Metarr API listening'));
  t.match(listening, /^\d\d:\d\d:\d\d\.\d{3} INFO +\[api\] Api: Metarr API listening address=http:\/\//);
  const jobs = lines.filter((l) => l.includes('Jobs page'));
  t.equal(jobs.length, 1, 'one line for the jobs page');
  t.match(jobs[0], `url=http://127.0.0.1:${port}/metarr/`);
  const docs = lines.filter((l) => l.includes('API docs'));
  t.equal(docs.length, 1, 'one line for the API docs');
  t.match(docs[0], `url=http://127.0.0.1:${port}/metarr/api/docs`);
});

t.test('LOG_FORMAT=json: every line is one JSON object, the URLs as fields', async (t) => {
  const { lines, port } = await startApi(t, 'json');
  const objects = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      t.fail(`not JSON: ${l}`);
      return {};
    }
  });
  const docs = objects.find((o) => o.msg === 'API docs');
  t.equal(docs?.url, `http://127.0.0.1:${port}/metarr/api/docs`);
  t.equal(docs?.level, 'info');
  t.equal(docs?.service, 'Api');
  const jobs = objects.find((o) => o.msg === 'Jobs page');
  t.equal(jobs?.url, `http://127.0.0.1:${port}/metarr/`);
});

t.test('an invalid LOG_FORMAT is refused at start and named', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const path = await import('node:path');
  const { ROOT } = await import('./support/stack.ts');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'packages', 'api', 'src', 'main.ts')], {
    env: { ...process.env, METARR_API_KEY: API_KEY, LOG_FORMAT: 'xml' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(r.status, 2);
  t.match(r.stderr, 'LOG_FORMAT');
});
