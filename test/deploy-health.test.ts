import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { ROOT, spawnProcess } from './support/stack.ts';

const exec = promisify(execFile);

async function health(env: Record<string, string>, pid: string): Promise<{ code: number; stdout: string }> {
  try {
    const r = await exec(process.execPath, [path.join(ROOT, 'packages/worker/src/health.ts'), pid], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

t.test('the worker health check passes while its worker heartbeats and fails once it stops', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = { DATABASE_URL: database.url };
  const worker = await spawnProcess(t, 'worker', env);
  const pid = String(worker.child.pid);

  const live = await health(env, pid);
  t.equal(live.code, 0, live.stdout);
  t.match(live.stdout, 'worker live');
  const other = await health(env, String(Number(pid) + 100000));
  t.equal(other.code, 1, 'another process in the container is not the worker');

  await new Promise<void>((resolve) => {
    worker.child.once('exit', () => resolve());
    worker.child.kill('SIGTERM');
  });
  const stopped = await health(env, pid);
  t.equal(stopped.code, 1, 'a stopped worker is unhealthy');
  t.match(stopped.stdout, 'worker not live');
});
