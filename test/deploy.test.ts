import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { envVariables, loadConfig } from '@metarr/core';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { ROOT } from './support/stack.ts';

// No container engine runs here, so the packaging is checked by reading it: every script,
// entrypoint, port and variable it names must be real.
const read = (p: string) => fs.readFile(path.join(ROOT, p), 'utf8');

function configVariables(): string[] {
  return envVariables()
    .filter((v) => !v.meta.composeOnly)
    .map((v) => v.name)
    .sort();
}

t.test(
  'the Dockerfile builds on Node 24 slim, runs as a non-root user and starts a real entrypoint',
  async (t) => {
    const df = await read('Dockerfile');
    t.match(df, /^FROM node:24-slim AS deps$/m);
    t.match(df, /^FROM node:24-slim AS runtime$/m);
    t.match(df, /pnpm install --frozen-lockfile --prod/);
    t.notMatch(df, /^USER /m, 'starts as root only so the entrypoint can apply PUID/PGID, then drops it');
    t.match(df, /^ENV PUID=1000 PGID=1000 UMASK=022 TZ=\S+$/m, 'linuxserver.io-style defaults');
    t.match(
      /^HEALTHCHECK [\s\S]*?\n(?!\s)/m.exec(df)?.[0],
      /CMD \["metarr", "health"\]/,
      'a HEALTHCHECK on the readiness endpoint',
    );
    const port = /^EXPOSE (\d+)$/m.exec(df)?.[1];
    t.equal(Number(port), loadConfig({}).port, 'EXPOSE matches the default METARR_PORT');
    for (const m of df.matchAll(/^COPY (?!--from)(\S+) /gm)) {
      const src = m[1] as string;
      await t.resolves(fs.stat(path.join(ROOT, src)), `COPY source ${src} exists`);
    }
    const entry = await read('deploy/docker-entrypoint.sh');
    const targets = [...entry.matchAll(/\) main=(\S+) ;;/g)].map((m) => m[1] as string);
    t.same(targets.sort(), ['packages/api/src/main.ts', 'packages/worker/src/main.ts']);
    for (const target of targets) await t.resolves(fs.stat(path.join(ROOT, target)), `${target} exists`);
  },
);

t.test(
  'compose runs postgres ≥ 17, a healthchecked API, ≥ 3 workers and a proxy under /metarr',
  async (t) => {
    const compose = parse(await read('docker-compose.yml'), { merge: true });
    const s = compose.services;
    t.ok(Number(/postgres:(\d+)/.exec(s.postgres.image)?.[1]) >= 17, 'postgres 17 or newer');
    t.ok(s.postgres.healthcheck, 'postgres has a healthcheck');
    t.ok(
      s.postgres.volumes.some((v: string) => v.startsWith('pgdata:')),
      'postgres data on a volume',
    );
    t.same(s.api.command, ['api']);
    t.same(s.worker.command, ['worker']);
    t.ok(s.worker.deploy.replicas >= 3, 'workers are replicated');
    t.match(
      JSON.stringify(s.api.healthcheck.test),
      '/metarr/api/health',
      'API healthcheck hits /api/health under the base path',
    );
    t.match(JSON.stringify(s.api.healthcheck.test), '/metarr/api/health/ready', 'the readiness endpoint');
    t.same(
      s.worker.depends_on.api,
      { condition: 'service_healthy' },
      'workers start once the API is healthy',
    );
    t.equal(s.api.environment.METARR_BASE_PATH, '/metarr');
    for (const svc of [s.api, s.worker]) {
      t.ok(
        svc.volumes.some((v: string) => v.endsWith(':/data/media')),
        'the media library is mounted',
      );
    }
    const caddy = await read('deploy/Caddyfile');
    t.match(caddy, /handle \/metarr\*/);
    t.match(caddy, /reverse_proxy api:7979/);
    t.ok(
      s.proxy.volumes.some((v: string) => v.startsWith('./deploy/Caddyfile:')),
      'the proxy mounts the Caddyfile',
    );

    const known = new Set(configVariables());
    for (const name of Object.keys(s.api.environment))
      t.ok(known.has(name), `${name} is a variable Metarr reads`);
  },
);

t.test('.env.example and the README list every variable Metarr reads', async (t) => {
  const vars = configVariables();
  t.ok(vars.length >= 20, `found ${vars.length} declared variables`);
  const example = await read('.env.example');
  const readme = await read('README.md');
  for (const v of vars) {
    t.match(example, new RegExp(`^#? ?${v}=`, 'm'), `.env.example lists ${v}`);
    t.match(readme, v, `README documents ${v}`);
  }
});

t.test(
  '.dockerignore keeps node_modules, the data dir, git, CI and test output out of the image',
  async (t) => {
    const lines = (await read('.dockerignore')).split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.metarr', '.tmp', '.git', '.ci', '.tap', 'coverage', 'test'])
      t.ok(lines.includes(entry), `ignores ${entry}`);
    t.ok(lines.includes('packages/testkit'), 'testkit is not shipped');
    t.ok(lines.includes('!packages/testkit/package.json'), 'but its manifest is, for the workspace install');
  },
);

/**
 * The entrypoint run under `sh` as the container would, with `id`, `groupmod`, `usermod`, `chown`
 * and `setpriv` replaced by scripts that log their arguments (and the umask in force).
 */
async function runEntrypoint(t: Test, env: Record<string, string>, ...args: string[]) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-entry-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  const log = path.join(dir, 'calls.log');
  const fake = async (name: string, body: string) =>
    fs.writeFile(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  await fake('id', `case "$1" in -u) [ -z "$2" ] && echo "$FAKE_UID" || echo 1000 ;; -g) echo 1000 ;; esac`);
  for (const cmd of ['groupmod', 'usermod', 'chown', 'setpriv', 'node'])
    await fake(cmd, `echo "${cmd} $* umask=$(umask)" >> ${log}`);
  const run = promisify(execFile);
  const r = await run('sh', [path.join(ROOT, 'deploy/docker-entrypoint.sh'), ...args], {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      METARR_APP_DIR: dir,
      METARR_DATA_DIR: path.join(dir, 'data'),
      FAKE_UID: '0',
      ...env,
    },
  })
    .then((ok) => ({ code: 0, stderr: ok.stderr }))
    .catch((e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
  const calls = await fs.readFile(log, 'utf8').catch(() => '');
  return { r, calls: calls.trim().split('\n').filter(Boolean), dir };
}

t.test('as root the entrypoint applies PUID/PGID/UMASK to the node user and drops root', async (t) => {
  const { calls, dir } = await runEntrypoint(t, { PUID: '99', PGID: '100', UMASK: '002' }, 'worker');
  t.same(calls, [
    'groupmod -o -g 100 node umask=0002',
    'usermod -o -u 99 node umask=0002',
    `chown -R 99:100 ${dir}/data umask=0002`,
    'setpriv --reuid=99 --regid=100 --init-groups node packages/worker/src/main.ts umask=0002',
  ]);
  await t.resolves(fs.stat(path.join(dir, 'data')), 'the data dir is created');

  const same = await runEntrypoint(t, { PUID: '1000', PGID: '1000' }, 'api');
  t.same(
    same.calls.filter((c) => !c.startsWith('chown')),
    ['setpriv --reuid=1000 --regid=1000 --init-groups node packages/api/src/main.ts umask=0022'],
    'ids already right: nothing modified, default umask 022',
  );
});

t.test('as a non-root user the entrypoint runs Metarr unchanged; bad values are refused', async (t) => {
  const user = await runEntrypoint(t, { FAKE_UID: '1234' }, 'api');
  t.same(user.calls, ['node packages/api/src/main.ts umask=0022'], 'no privilege change without root');
  const bad = await runEntrypoint(t, { PUID: 'nobody' }, 'api');
  t.equal(bad.r.code, 2);
  t.match(bad.r.stderr, 'PUID and PGID must be numeric ids');
  const umask = await runEntrypoint(t, { UMASK: '9' }, 'api');
  t.equal(umask.r.code, 2);
  const role = await runEntrypoint(t, {}, 'shell');
  t.equal(role.r.code, 2, 'only api or worker');
  t.same(role.calls, []);
});

t.test(
  'the image health check asks the API for readiness, a worker container its worker check',
  async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-health-'));
    t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
    const cmdline = path.join(dir, 'cmdline');
    const check = async (pid1: string) => {
      await fs.writeFile(cmdline, pid1);
      const { calls } = await runEntrypoint(t, { METARR_PID1_CMDLINE: cmdline }, 'health');
      return calls.join('\n');
    };
    t.match(await check('node\0packages/worker/src/main.ts\0'), /^node packages\/worker\/src\/health\.ts /);
    t.match(await check('node\0packages/api/src/main.ts\0'), /^node -e .*\/api\/health\/ready/);
  },
);
