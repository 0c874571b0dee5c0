/** Start-up failures a person must fix say what to change in one line, without a stack or a secret. */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { API_KEY, ROOT, waitFor } from './support/stack.ts';

function runApi(env: Record<string, string>) {
  const { DATABASE_URL: _d, ...inherited } = process.env;
  const child = spawn(process.execPath, [path.join(ROOT, 'packages', 'api', 'src', 'main.ts')], {
    env: { ...inherited, METARR_API_KEY: API_KEY, METARR_HOST: '127.0.0.1', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { child, exited, out: () => ({ stdout, stderr }) };
}

t.test('EADDRINUSE names METARR_PORT and the port in one line, no stack', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const api = runApi({ DATABASE_URL: database.url, METARR_PORT: String(port) });
  t.teardown(() => api.child.kill('SIGKILL'));
  t.equal(await api.exited, 1);
  const lines = api.out().stderr.trim().split('\n');
  t.equal(lines.length, 1, api.out().stderr);
  t.match(lines[0], 'METARR_PORT');
  t.match(lines[0], String(port));
  t.notMatch(api.out().stderr, /\n\s+at /);
});

t.test('an unreachable database is named by host:port, never with its password', async (t) => {
  const port = await freePort();
  const api = runApi({
    DATABASE_URL: `postgres://metarr:s3cret-pw@127.0.0.1:${port}/metarr`,
    METARR_PORT: '0',
  });
  t.teardown(() => api.child.kill('SIGKILL'));
  await waitFor('a retry line', async () => api.out().stdout.includes('not reachable'), 30_000);
  const all = `${api.out().stdout}${api.out().stderr}`;
  const line = all.split('\n').find((l) => l.includes('not reachable')) ?? '';
  const o = JSON.parse(line);
  t.equal(o.database, `127.0.0.1:${port}`);
  t.notMatch(all, 's3cret-pw');
});
