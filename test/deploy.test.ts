import fs from 'node:fs/promises';
import path from 'node:path';
import { envVariables, loadConfig } from '@metarr/core';
import t from 'tap';
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
    const user = /^USER (\S+)$/m.exec(df)?.[1];
    t.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
    const port = /^EXPOSE (\d+)$/m.exec(df)?.[1];
    t.equal(Number(port), loadConfig({}).port, 'EXPOSE matches the default METARR_PORT');
    for (const m of df.matchAll(/^COPY (?!--from)(\S+) /gm)) {
      const src = m[1] as string;
      await t.resolves(fs.stat(path.join(ROOT, src)), `COPY source ${src} exists`);
    }
    const entry = await read('deploy/docker-entrypoint.sh');
    const targets = [...entry.matchAll(/exec node (\S+)/g)].map((m) => m[1] as string);
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
