/** What a new user meets on a fresh machine: an old Node, no Chromium. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { MIN_NODE, nodeSupports } from '../scripts/node-check.mjs';
import { browserSkip } from './support/browser.ts';
import { ROOT } from './support/stack.ts';

t.test('the Node version check: 22.18 strips types by default, earlier releases do not', async (t) => {
  t.equal(MIN_NODE, '22.18.0');
  t.notOk(nodeSupports('20.20.2'));
  t.notOk(nodeSupports('22.12.0'));
  t.notOk(nodeSupports('22.17.1'));
  t.ok(nodeSupports('22.18.0'));
  t.ok(nodeSupports('v22.19.0'));
  t.ok(nodeSupports('23.0.0'));
  t.ok(nodeSupports('24.1.0-pre'));
});

t.test('package.json: engines states the real minimum and start/test go through the check', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  t.equal(pkg.engines.node, '>=22.18');
  t.equal(pkg.scripts.start, 'node scripts/node-check.mjs scripts/start.ts');
  t.equal(pkg.scripts.test, 'node scripts/node-check.mjs scripts/test.ts');
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  t.match(readme, 'Node.js ≥ 22.18');
  t.match(readme, /apt install chromium/);
  t.match(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8'), /^export CI=true$/m);
});

const OLD_NODE = '/usr/bin/node';
const oldVersion = fs.existsSync(OLD_NODE)
  ? spawnSync(OLD_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim()
  : '';

for (const entry of ['start', 'test']) {
  t.test(
    `pnpm ${entry} on an older Node prints one line naming the Node needed, no stack`,
    { skip: oldVersion && !nodeSupports(oldVersion) ? false : `no Node older than 22.18 at ${OLD_NODE}` },
    async (t) => {
      const r = spawnSync(OLD_NODE, ['scripts/node-check.mjs', `scripts/${entry}.ts`], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      t.equal(r.status, 1);
      t.equal(r.stdout, '');
      const lines = r.stderr.trim().split('\n');
      t.equal(lines.length, 1, r.stderr);
      t.match(lines[0], `Node.js 22.18.0 or newer (this is ${oldVersion})`);
      t.notMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION|\n\s+at /);
    },
  );
}

t.test('the guard passes arguments through to the entry on a supported Node', async (t) => {
  const dir = t.testdir({
    'entry.ts': 'const n: number = 1;\nconsole.log(JSON.stringify(process.argv.slice(2)), n);\n',
  });
  const r = spawnSync(process.execPath, ['scripts/node-check.mjs', path.join(dir, 'entry.ts'), 'a', '--b'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), '["a","--b"] 1');
});

t.test('browser tests: skipped and named without Chromium, failing under CI=true', async (t) => {
  const none = () => false;
  const skip = browserSkip({}, none);
  t.type(skip, 'string');
  t.match(skip, 'apt install chromium');
  t.match(skip, 'CHROMIUM_PATH');
  t.equal(browserSkip({ CI: 'true' }, none), false, 'not skipped in CI: the launch fails');
  t.equal(
    browserSkip({}, () => true),
    false,
    'run when Chromium is there',
  );
  t.match(browserSkip({ CHROMIUM_PATH: '/opt/chrome' }, none), '/opt/chrome');
});
