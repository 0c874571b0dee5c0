/**
 * Entry guard for `pnpm start` and `pnpm test`: `node scripts/node-check.mjs <entry.ts> [args…]`.
 * Plain JavaScript on purpose: an older Node cannot load a `.ts` file at all and would die with a stack
 * trace (ERR_UNKNOWN_FILE_EXTENSION), so the version is checked here before the entry is imported.
 */
import module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Node strips TypeScript types by default only from 22.18 (and in every 23.6+/24). */
export const MIN_NODE = '22.18.0';

/** Whether `version` (e.g. `20.20.2` or `v22.18.0`) is at least `min`. */
export function nodeSupports(version, min = MIN_NODE) {
  const parse = (v) =>
    String(v)
      .replace(/^v/, '')
      .split('-')[0]
      .split('.')
      .map((n) => Number.parseInt(n, 10) || 0);
  const a = parse(version);
  const b = parse(min);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** The one line printed instead of a stack trace on a Node that is too old. */
export function tooOldMessage(version) {
  return `Metarr needs Node.js ${MIN_NODE} or newer (this is ${version}): install a current Node (e.g. 24 LTS) and run again.`;
}

/**
 * Turns on Node's compile cache under `node_modules/.cache/metarr-node` (or `NODE_COMPILE_CACHE`)
 * for this process and, through the environment, for its children. A cache that cannot be written
 * (a read-only install) only means no cache.
 */
export function enableCompileCache() {
  const dir =
    process.env.NODE_COMPILE_CACHE ||
    path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'node_modules', '.cache', 'metarr-node');
  const result = module.enableCompileCache?.(dir);
  if (result && result.status !== module.constants.compileCacheStatus.FAILED)
    process.env.NODE_COMPILE_CACHE = dir;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  if (!nodeSupports(process.versions.node)) {
    process.stderr.write(`${tooOldMessage(process.versions.node)}\n`);
    process.exit(1);
  }
  const entry = process.argv[2];
  if (!entry) {
    process.stderr.write('usage: node scripts/node-check.mjs <entry.ts> [args…]\n');
    process.exit(2);
  }
  // Node keeps the type-stripped and compiled form of every module it loads here, so the next start
  // (and every process this one starts: API, worker, test files) skips TypeScript stripping and
  // compiling: about half the start time and ~20 MB of memory per process.
  enableCompileCache();
  // The entry sees its own arguments at argv[2…], as if it had been started directly.
  process.argv.splice(2, 1);
  process.argv[1] = path.resolve(entry);
  await import(pathToFileURL(path.resolve(entry)).href);
}
