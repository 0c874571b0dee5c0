/**
 * `pnpm start` on its own data dir (the embedded PostgreSQL), as real processes: what the data dir
 * holds, with which modes, and which database role the application runs as.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { CREDENTIALS_FILE, startEmbeddedPostgres } from '@metarr/core';
import pg from 'pg';
import t from 'tap';
import { API_KEY, ROOT, waitFor } from './support/stack.ts';
import { mountTmpfs } from './support/tmpfs.ts';

type TestT = Pick<typeof t, 'teardown'>;

const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

/** `node scripts/start.ts` on `dataDir`; `ready` resolves once the API answers /api/health/ready. */
/**
 * A free port outside Linux's ephemeral range (32768–60999) for the API: the launcher picks the
 * embedded PostgreSQL's port with listen(0), which could otherwise hand out the very port freed here.
 */
async function apiPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function launch(t: TestT, dataDir: string, env: Record<string, string> = {}) {
  const port = await apiPort();
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.ts')], {
    cwd: ROOT,
    env: {
      ...inherited,
      METARR_DATA_DIR: dataDir,
      METARR_PORT: String(port),
      METARR_HOST: '127.0.0.1',
      METARR_API_KEY: API_KEY,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 40_000).unref();
    }
    return exited;
  };
  t.teardown(stop);
  const ready = async () => {
    await waitFor(
      `the API on ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`start exited with ${child.exitCode}:\n${out}`);
        const r = await fetch(`http://127.0.0.1:${port}/api/health/ready`).catch(() => null);
        return r?.status === 200;
      },
      120_000,
    );
  };
  return { child, port, ready, stop, exited, output: () => out };
}

async function credentials(dataDir: string) {
  return JSON.parse(await fs.readFile(path.join(dataDir, CREDENTIALS_FILE), 'utf8')) as {
    superuser: string;
    app: string;
  };
}

async function query(url: string, text: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

t.test(
  'a new data dir: 0700, a per-install password file 0600, the application as a role without superuser',
  async (t) => {
    const dataDir = path.join(t.testdir({}), 'data');
    const app = await launch(t, dataDir);
    await app.ready();
    t.equal(await mode(dataDir), 0o700, 'data dir is 0700');
    t.equal(await mode(path.join(dataDir, CREDENTIALS_FILE)), 0o600, 'password file is 0600');
    t.equal(await mode(path.join(dataDir, 'postgres.port')), 0o600, 'port file is 0600');
    const creds = await credentials(dataDir);
    t.not(creds.superuser, 'metarr-embedded', 'no fixed superuser password');
    t.ok(creds.superuser.length >= 24 && creds.app.length >= 24, 'random passwords');
    const port = Number((await fs.readFile(path.join(dataDir, 'postgres.port'), 'utf8')).trim());
    const appUrl = `postgres://metarr:${encodeURIComponent(creds.app)}@127.0.0.1:${port}/metarr`;

    const roles = await query(
      appUrl,
      'select current_user, rolsuper from pg_roles where rolname = current_user',
    );
    t.same(roles.rows, [{ current_user: 'metarr', rolsuper: false }], 'the app role is not a superuser');
    const running = await query(
      appUrl,
      "select count(*)::int as n from pg_stat_activity where usename = 'metarr' and application_name like 'metarr-%'",
    );
    t.ok(running.rows[0].n > 0, 'the API and the worker are connected as metarr');
    const tables = await query(
      appUrl,
      "select count(*)::int as n from pg_tables where schemaname = 'pgboss'",
    );
    t.ok(tables.rows[0].n > 0, 'the job queue lives in the metarr database');
    await t.rejects(
      query(appUrl, "copy (select 1) to program 'id'"),
      { code: '42501' },
      'COPY TO PROGRAM refused',
    );
    await t.rejects(
      query(`postgres://postgres:metarr-embedded@127.0.0.1:${port}/postgres`, 'select 1'),
      { code: '28P01' },
      'the old fixed password is refused',
    );
    t.equal(await app.stop(), 0, 'stops cleanly');
  },
);

t.test('a data dir of the old layout (fixed password, data in postgres) is upgraded on start', async (t) => {
  const dataDir = path.join(t.testdir({}), 'data');
  await fs.mkdir(dataDir, { mode: 0o755 });
  // The old layout: superuser with the fixed password, the application's tables in `postgres`.
  const old = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    persistent: true,
  });
  await query(old.url, 'create table public.kept (v text); insert into public.kept values ($$mine$$)');
  await query(old.url, 'create schema pgboss; create table pgboss.j (id serial primary key)');
  await old.stop();
  await fs.chmod(dataDir, 0o755);

  const app = await launch(t, dataDir);
  await app.ready();
  t.equal(await mode(dataDir), 0o700, 'data dir tightened to 0700');
  const creds = await credentials(dataDir);
  const port = Number((await fs.readFile(path.join(dataDir, 'postgres.port'), 'utf8')).trim());
  const appUrl = `postgres://metarr:${encodeURIComponent(creds.app)}@127.0.0.1:${port}/metarr`;
  t.same(
    (await query(appUrl, 'select v from public.kept')).rows,
    [{ v: 'mine' }],
    'old data readable by metarr',
  );
  const owners = await query(
    appUrl,
    "select distinct tableowner from pg_tables where schemaname in ('public', 'pgboss')",
  );
  t.same(owners.rows, [{ tableowner: 'metarr' }], 'everything is owned by the app role');
  await t.rejects(
    query(`postgres://postgres:metarr-embedded@127.0.0.1:${port}/postgres`, 'select 1'),
    { code: '28P01' },
    'the old password no longer works',
  );
  t.equal(await app.stop(), 0);
  // A second start of the upgraded dir uses the new passwords.
  const again = await launch(t, dataDir);
  await again.ready();
  t.equal(await again.stop(), 0);
});

/** A read-only file system (a tmpfs mounted ro) when this machine lets the test mount one. */
async function readOnlyDir(t: Pick<typeof tap, 'teardown' | 'testdir'>): Promise<string | null> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    // Not root: a folder without write permission is refused just the same.
    const dir = path.join(t.testdir({}), 'ro');
    await fs.mkdir(dir, { mode: 0o555 });
    return dir;
  }
  return mountTmpfs(t, 64, { readOnly: true });
}
const tap = t;

t.test('a read-only data dir: one line naming the dir, exit 1, no uncaught undefined', async (t) => {
  const ro = await readOnlyDir(t);
  if (!ro) {
    t.plan(0, 'cannot make a read-only directory here');
    return;
  }
  for (const dataDir of [ro, path.join(ro, 'data')]) {
    const app = await launch(t, dataDir);
    t.equal(await app.exited, 1, `exits 1 (${dataDir})`);
    const out = app.output();
    const lines = out.split('\n').filter((l) => l.includes(dataDir));
    t.equal(lines.length, 1, `one line names the dir:\n${out}`);
    t.match(lines[0], /cannot write to its data dir .*(read-only|permission denied)/);
    t.notMatch(out, /undefined|triggerUncaughtException|\n\s+at /, 'no uncaught undefined, no stack');
  }
});

t.test(
  'two starts on one data dir: the second says another Metarr owns it; a stale lock is taken over',
  async (t) => {
    const dataDir = path.join(t.testdir({}), 'data');
    const first = await launch(t, dataDir);
    await first.ready();
    t.equal((await fs.readFile(path.join(dataDir, 'metarr.lock'), 'utf8')).trim(), String(first.child.pid));

    const second = await launch(t, dataDir);
    t.equal(await second.exited, 1, 'the second exits 1');
    t.match(second.output(), `Another Metarr (pid ${first.child.pid}) owns the data dir ${dataDir}`);
    const health = await fetch(`http://127.0.0.1:${first.port}/api/health/ready`);
    t.equal(health.status, 200, 'the first keeps running, undisturbed');
    t.equal(await first.stop(), 0);
    t.rejects(
      fs.stat(path.join(dataDir, 'metarr.lock')),
      { code: 'ENOENT' },
      'a clean stop releases the lock',
    );

    // A lock left by a process that died without releasing it.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    await fs.writeFile(path.join(dataDir, 'metarr.lock'), `${dead}\n`);
    const third = await launch(t, dataDir);
    await third.ready();
    t.equal(
      (await fs.readFile(path.join(dataDir, 'metarr.lock'), 'utf8')).trim(),
      String(third.child.pid),
      'taken over',
    );
    t.equal(await third.stop(), 0);
  },
);
