/**
 * PathMappingService — turns a path as an *arr app sees it into the path Metarr sees.
 * Pure functions: the caller loads the mappings and libraries.
 */

export interface PathRule {
  id?: number;
  from: string;
  to: string;
}

export interface NormalizedPath {
  /** POSIX-style path with single separators and no trailing slash (except the root). */
  path: string;
  /** Windows drive or UNC paths compare case-insensitively, as Windows does. */
  caseInsensitive: boolean;
}

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
const UNC = /^\\\\[^\\]+\\[^\\]+/;

export function isWindowsPath(p: string): boolean {
  return WINDOWS_DRIVE.test(p) || UNC.test(p) || p.startsWith('//');
}

/**
 * `C:\Movies\X` → `C:/Movies/X`, `\\nas\media\X` → `//nas/media/X`, `/movies/./X//Y/` → `/movies/X/Y`.
 * `..` is rejected earlier, at intake; here it is never resolved upwards.
 */
export function normalizePath(input: string): NormalizedPath {
  const windows = isWindowsPath(input);
  let p = windows ? input.replace(/\\/g, '/') : input;
  const unc = p.startsWith('//');
  const body = p
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
  if (unc) p = `//${body}`;
  else if (windows) p = body.replace(/^([a-z]):/, (_m, d: string) => `${d.toUpperCase()}:`);
  else p = `/${body}`;
  return { path: p, caseInsensitive: windows };
}

function segments(p: string): string[] {
  return p.split('/').filter(Boolean);
}

/** Whether `root` is `path` or one of its ancestors, on whole segments (`/movies` ≠ `/movies2`). */
export function isWithin(path: string, root: string, caseInsensitive = false): boolean {
  const a = segments(caseInsensitive ? path.toLowerCase() : path);
  const b = segments(caseInsensitive ? root.toLowerCase() : root);
  if (b.length > a.length) return false;
  if (path.startsWith('//') !== root.startsWith('//')) return false;
  return b.every((seg, i) => seg === a[i]);
}

export interface MappedPath {
  input: string;
  path: string;
  rule: PathRule | null;
}

/**
 * Applies the longest matching rule (whole segments). With no matching rule the path is used
 * as is — Metarr and the *arr often see the same mount — but a Windows path with no rule cannot be
 * used on this host, so it maps to null.
 */
export function applyPathMapping(input: string, rules: PathRule[]): MappedPath | null {
  const src = normalizePath(input);
  let best: { rule: PathRule; from: NormalizedPath } | null = null;
  for (const rule of rules) {
    const from = normalizePath(rule.from);
    const ci = src.caseInsensitive || from.caseInsensitive;
    if (!isWithin(src.path, from.path, ci)) continue;
    if (!best || segments(from.path).length > segments(best.from.path).length) best = { rule, from };
  }
  if (!best) {
    if (src.caseInsensitive) return null;
    return { input, path: src.path, rule: null };
  }
  const rest = segments(src.path).slice(segments(best.from.path).length);
  const to = normalizePath(best.rule.to).path;
  const joined = rest.length ? `${to === '/' ? '' : to}/${rest.join('/')}` : to;
  return { input, path: joined, rule: best.rule };
}

export interface LibraryRoot {
  id: number;
  path: string;
}

/** The library whose root contains the path; the deepest root wins when roots nest. */
export function findLibraryForPath<L extends LibraryRoot>(path: string, libraries: L[]): L | null {
  let best: L | null = null;
  for (const lib of libraries) {
    const root = normalizePath(lib.path).path;
    if (!isWithin(path, root)) continue;
    if (!best || segments(root).length > segments(normalizePath(best.path).path).length) best = lib;
  }
  return best;
}
