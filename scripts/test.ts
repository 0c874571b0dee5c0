/**
 * `pnpm test`: the whole suite on a real PostgreSQL. With no TEST_DATABASE_URL/DATABASE_URL it
 * starts a throwaway embedded server, hands its URL to every test file, and removes it afterwards.
 * Ends with `N passed, M failed` counted from tap's own results.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres } from '@metarr/core';
import { cleanStaleTestServers } from '@metarr/testkit/db';
import { ensureWebBuild } from './web-build.ts';

const root = path.resolve(import.meta.dirname, '..');
process.chdir(root);

// The browser tests serve the built web app: build it once here rather than in each test file.
try {
  ensureWebBuild((line) => process.stdout.write(`${line}\n`));
} catch (err) {
  process.stderr.write(`pnpm test: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

let stopDb = async () => {};
const env = { ...process.env };
// A previous run that was killed left its embedded servers running: stop them first.
await cleanStaleTestServers(path.join(root, '.tmp'), ['test-pg', 'pg-solo']);
if (!env.TEST_DATABASE_URL && !env.DATABASE_URL) {
  const dataDir = path.join(root, '.tmp', `test-pg-${process.pid}`);
  const pg = await startEmbeddedPostgres({ dataDir, persistent: false, tuning: 'fast' });
  env.TEST_DATABASE_URL = pg.url;
  stopDb = async () => {
    await pg.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  process.stdout.write(`embedded PostgreSQL for tests on port ${pg.port}\n`);
} else {
  env.TEST_DATABASE_URL ??= env.DATABASE_URL;
}
delete env.DATABASE_URL;

const args = process.argv.slice(2);
let tail = '';
const code: number = await new Promise((resolve) => {
  const child = spawn(
    process.execPath,
    [path.join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), ...args],
    {
      env,
      stdio: ['inherit', 'pipe', 'inherit'],
    },
  );
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('close', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
});

await stopDb().catch(() => {});

// tap's own closing summary: `# { total: 18, pass: 17, fail: 1, skip: 0 }`.
const summary = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/.exec(tail);
const passed = Number(summary?.[2] ?? 0);
const failed = summary ? Number(summary[3] ?? 0) : 1;
if (!summary) process.stdout.write('tap printed no summary: counting the run as failed\n');
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
