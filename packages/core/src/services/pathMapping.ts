/**
 * PathMappingService — turns a path as an *arr app sees it into the path Metarr sees.
 * Pure functions: the caller loads the mappings and libraries.
 */
import { isWithin, type NormalizedPath, normalizePath, segments } from '../paths.ts';

export interface PathRule {
  id?: number;
  from: string;
  to: string;
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
