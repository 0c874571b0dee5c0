/**
 * The web app (packages/web) built into packages/web/dist when it is missing or stale: `pnpm start`,
 * `pnpm test` and the browser tests call this before anything serves it. Stale means the sha256 of
 * the app's sources (src/, index.html, vite.config.ts, package.json) differs from the stamp the last
 * build wrote. A build goes to a temporary folder first and is then renamed into place, so a second
 * process never serves half a build.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const WEB_DIR = path.resolve(import.meta.dirname, '..', 'packages', 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');
const STAMP = '.source-hash';

function sourceHash(): string {
  const hash = createHash('sha256');
  const add = (rel: string) => {
    const full = path.join(WEB_DIR, rel);
    const st = fs.statSync(full);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) add(path.join(rel, name));
    } else {
      hash.update(`${rel}\0`).update(fs.readFileSync(full)).update('\0');
    }
  };
  for (const rel of ['src', 'index.html', 'vite.config.ts', 'package.json']) add(rel);
  return hash.digest('hex');
}

const builtHash = (dir: string) => {
  try {
    return fs.readFileSync(path.join(dir, STAMP), 'utf8').trim();
  } catch {
    return null;
  }
};

/** Builds the app unless dist is current; returns whether it built. Throws a one-line reason. */
export function ensureWebBuild(log: (line: string) => void = () => {}): boolean {
  const want = sourceHash();
  if (builtHash(WEB_DIST) === want && fs.existsSync(path.join(WEB_DIST, 'index.html'))) return false;
  const vite = path.join(WEB_DIR, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!fs.existsSync(vite))
    throw new Error(`the web app cannot be built: ${vite} is missing (run pnpm install)`);
  log('building the web app (packages/web) …');
  const tmp = `${WEB_DIST}.tmp-${process.pid}`;
  const res = spawnSync(process.execPath, [vite, 'build', '--outDir', tmp, '--logLevel', 'warn'], {
    cwd: WEB_DIR,
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Vite's own words, without its stack: the first lines name the file, line and error.
    const detail = `${res.stderr ?? ''}${res.stdout ?? ''}`
      .split('\n')
      .filter((line) => line.trim() && !/^\s+at /.test(line))
      .slice(0, 15)
      .join('\n');
    throw new Error(`the web app build failed (pnpm --filter @metarr/web build):\n${detail}`);
  }
  fs.writeFileSync(path.join(tmp, STAMP), want);
  const old = `${WEB_DIST}.old-${process.pid}`;
  if (fs.existsSync(WEB_DIST)) fs.renameSync(WEB_DIST, old);
  try {
    fs.renameSync(tmp, WEB_DIST);
  } catch (err) {
    // Another process put its (identical) build in place first.
    if (builtHash(WEB_DIST) !== want) throw err;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.rmSync(old, { recursive: true, force: true });
  return true;
}
