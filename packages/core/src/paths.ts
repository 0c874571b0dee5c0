/**
 * Every rule about path strings, in one place: what an *arr app may send, how a path is normalised
 * and compared, how it is written in a player's form, and how a folder is found on disk.
 *
 * Names compare Unicode-normalised (NFC): macOS and some NAS shares write file names decomposed (NFD)
 * while the *arr apps and browsers send them composed (NFC), and both name the same folder.
 */
import type { Dirent } from 'node:fs';
import nodePath from 'node:path';

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
/** `\\server\share…` (either separator after the leading pair). */
const UNC = /^\\\\[^\\/]+[\\/][^\\/]+/;
const URL_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;
const DRIVE_FORM = /^[A-Za-z]:([\\/]|$)/;

/** The form names are compared in. */
export const nfc = (s: string): string => s.normalize('NFC');

// ---------------------------------------------------------------------------------------------
// Paths inside *arr webhook bodies: kept exactly as the *arr app wrote them (Windows paths stay
// Windows paths); mapping to our own view happens later (applyPathMapping).

export const MAX_PATH_LENGTH = 4096;

function hasControlCharacters(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function hasDotDotSegment(p: string): boolean {
  return p.split(/[\\/]/).includes('..');
}

export function isAbsoluteArrPath(p: string): boolean {
  return p.startsWith('/') || WINDOWS_DRIVE.test(p) || UNC.test(p);
}

/**
 * Whether a path an *arr app sent may be acted on: `null` when acceptable, otherwise what is wrong.
 * Absolute means POSIX `/…`, a Windows drive (`C:\…`, `c:/…`) or UNC (`\\server\share\…`).
 */
export function checkArrPath(p: string): string | null {
  if (typeof p !== 'string') return 'must be string';
  if (hasControlCharacters(p)) return 'must not contain control characters';
  if (!isAbsoluteArrPath(p)) return 'must be an absolute path';
  if (hasDotDotSegment(p)) return 'must not contain .. segments';
  if (p.length > MAX_PATH_LENGTH) return `must not be longer than ${MAX_PATH_LENGTH} characters`;
  return null;
}

/** Same rules for a path relative to a folder the *arr app also sent (Sonarr's `relativePath`). */
export function checkRelativeArrPath(p: string): string | null {
  if (typeof p !== 'string') return 'must be string';
  if (hasControlCharacters(p)) return 'must not contain control characters';
  if (p === '' || isAbsoluteArrPath(p) || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) {
    return 'must be a relative path';
  }
  if (hasDotDotSegment(p)) return 'must not contain .. segments';
  if (p.length > MAX_PATH_LENGTH) return `must not be longer than ${MAX_PATH_LENGTH} characters`;
  return null;
}

/** POSIX paths only separate on `/` (a file name may contain `\`); Windows and UNC paths on both. */
function isPosixStyle(p: string): boolean {
  return p.startsWith('/');
}

function isSeparator(ch: string | undefined, posix: boolean): boolean {
  return ch === '/' || (!posix && ch === '\\');
}

/** Drops trailing separators, never below a root (`/`, `C:\`, `\\nas\share`, `smb://`). */
export function trimTrailingSeparators(p: string): string {
  const posix = isPosixStyle(p);
  let end = p.length;
  while (end > 1 && isSeparator(p[end - 1], posix)) {
    const rest = p.slice(0, end - 1);
    if (/^[A-Za-z]:$/.test(rest) || /^[a-z][a-z0-9+.-]*:\/?$/i.test(rest)) break;
    end--;
  }
  return p.slice(0, end);
}

/** The folder holding an absolute file path, in the path's own style: `/a/b/c.mkv` → `/a/b`. */
export function parentFolder(filePath: string): string {
  const posix = isPosixStyle(filePath);
  const p = trimTrailingSeparators(filePath);
  let i = p.length - 1;
  while (i >= 0 && !isSeparator(p[i], posix)) i--;
  if (i < 0) return p;
  const head = p.slice(0, i);
  if (head === '') return p.slice(0, 1); // POSIX root
  if (/^[A-Za-z]:$/.test(head)) return head + p[i]; // `C:\`
  if (!posix && /^[\\/]{2}[^\\/]+$/.test(head)) return p; // `\\server\share` is already the root
  return trimTrailingSeparators(head);
}

/**
 * The folder of a file given relative to `base` (Sonarr's `relativePath` under `series.path`):
 * `('/tv/Show', 'Season 01/x.mkv')` → `/tv/Show/Season 01`. The joined part uses `base`'s separator.
 */
export function folderOfRelative(base: string, relativeFile: string): string {
  const root = trimTrailingSeparators(base);
  const posix = isPosixStyle(base);
  const sep = posix ? '/' : root.includes('\\') ? '\\' : '/';
  const parts = relativeFile.split(posix ? '/' : /[\\/]/).filter((s) => s !== '' && s !== '.');
  parts.pop(); // the file name
  if (parts.length === 0) return root;
  return (isSeparator(root[root.length - 1], posix) ? root : root + sep) + parts.join(sep);
}

// ---------------------------------------------------------------------------------------------
// Normalising and comparing

export interface NormalizedPath {
  /** POSIX-style path with single separators and no trailing slash (except the root). */
  path: string;
  /** Windows drive or UNC paths compare case-insensitively, as Windows does. */
  caseInsensitive: boolean;
}

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

/** The segments of a normalised path. */
export function segments(p: string): string[] {
  return p.split('/').filter(Boolean);
}

function sameName(a: string, b: string, caseInsensitive: boolean): boolean {
  return caseInsensitive ? nfc(a).toLowerCase() === nfc(b).toLowerCase() : nfc(a) === nfc(b);
}

/** Whether `root` is `path` or one of its ancestors, on whole segments (`/movies` ≠ `/movies2`). */
export function isWithin(path: string, root: string, caseInsensitive = false): boolean {
  const a = segments(path);
  const b = segments(root);
  if (b.length > a.length) return false;
  if (path.startsWith('//') !== root.startsWith('//')) return false;
  return b.every((seg, i) => sameName(seg, a[i] as string, caseInsensitive));
}

// ---------------------------------------------------------------------------------------------
// From an *arr app's view to Metarr's: path mappings and library roots

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

// ---------------------------------------------------------------------------------------------
// Paths in a player's form: POSIX, Windows drive, UNC or a URL such as `smb://nas/movies/`

type PathKind = 'posix' | 'drive' | 'unc' | 'url';

export interface SplitPath {
  kind: PathKind;
  segments: string[];
  /** Windows paths compare case-insensitively, as Windows (and Plex on it) does. */
  caseInsensitive: boolean;
}

/**
 * `C:\Movies\X` → drive [C:, Movies, X]; `\\nas\share\X` → unc [nas, share, X];
 * `smb://nas/movies/X` → url [smb://nas, movies, X]; `/movies/X` → posix [movies, X].
 */
export function splitPath(p: string): SplitPath {
  const url = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(.*)$/i.exec(p);
  if (url) {
    const segments = url[2]!.split('/').filter(Boolean);
    return { kind: 'url', segments: [url[1]!.toLowerCase(), ...segments], caseInsensitive: false };
  }
  if (DRIVE_FORM.test(p)) {
    return { kind: 'drive', segments: p.split(/[\\/]+/).filter(Boolean), caseInsensitive: true };
  }
  if (/^(\\\\|\/\/)[^\\/]/.test(p)) {
    return { kind: 'unc', segments: p.split(/[\\/]+/).filter(Boolean), caseInsensitive: true };
  }
  return {
    kind: 'posix',
    segments: p.split('/').filter((s) => s !== '' && s !== '.'),
    caseInsensitive: false,
  };
}

/**
 * How many segments of `folder` the `root` covers, or -1 when `root` is not `folder` or one of its
 * ancestors on whole segments (`/movies` does not hold `/movies2`).
 */
export function containsPath(root: string, folder: string): number {
  const r = splitPath(root);
  const f = splitPath(folder);
  if (r.kind !== f.kind || r.segments.length > f.segments.length) return -1;
  const ci = r.caseInsensitive || f.caseInsensitive;
  for (let i = 0; i < r.segments.length; i++) {
    if (!sameName(r.segments[i]!, f.segments[i]!, ci)) return -1;
  }
  return r.segments.length;
}

/** The separator a path uses: `\` for Windows-form paths written with backslashes, `/` otherwise. */
export function separatorOf(p: string): '/' | '\\' {
  if (URL_FORM.test(p)) return '/';
  if (p.includes('\\')) return '\\';
  if (DRIVE_FORM.test(p) && !p.includes('/')) return '\\';
  return '/';
}

/** Kodi matches a directory against its sources by prefix, so the folder must end with a separator. */
export function kodiFolder(p: string): string {
  const trimmed = trimTrailingSeparators(p);
  return /[\\/]$/.test(trimmed) ? trimmed : `${trimmed}${separatorOf(p)}`;
}

/**
 * Translates a Metarr-side path into a player group's form. The longest `from` (on whole segments)
 * wins; the rest of the path is appended with the separator style of `to` (`/` for URLs such as
 * `smb://nas/movies/` and POSIX paths, `\` for Windows paths such as `D:\Movies\`). No matching
 * mapping → the path as is.
 */
export function mapGroupPath(path: string, mappings: { from: string; to: string }[]): string {
  let best: { to: string; depth: number } | null = null;
  for (const m of mappings) {
    if (!m.from) continue;
    const depth = containsPath(m.from, path);
    if (depth >= 0 && (!best || depth > best.depth)) best = { to: m.to, depth };
  }
  if (!best) return path;
  const rest = splitPath(path).segments.slice(best.depth);
  const base = trimTrailingSeparators(best.to);
  if (rest.length === 0) return base;
  const sep = separatorOf(best.to);
  return /[\\/]$/.test(base) ? `${base}${rest.join(sep)}` : `${base}${sep}${rest.join(sep)}`;
}

/**
 * The inverse of mapGroupPath: a path in a player group's form (`smb://nas/movies/X/X.mkv`) back to
 * Metarr's (`/data/movies/X/X.mkv`). The longest `to` (on whole segments) wins. No mapping covers
 * it → the path as is when it is a POSIX path (the players see Metarr's mount), else null.
 */
export function unmapGroupPath(path: string, mappings: { from: string; to: string }[]): string | null {
  let best: { from: string; depth: number } | null = null;
  for (const m of mappings) {
    if (!m.to) continue;
    const depth = containsPath(m.to, path);
    if (depth >= 0 && (!best || depth > best.depth)) best = { from: m.from, depth };
  }
  const split = splitPath(path);
  if (!best) return split.kind === 'posix' ? `/${split.segments.join('/')}` : null;
  const rest = split.segments.slice(best.depth);
  const base = trimTrailingSeparators(best.from);
  if (rest.length === 0) return base;
  return `${base.endsWith('/') ? base : `${base}/`}${rest.join('/')}`;
}

// ---------------------------------------------------------------------------------------------
// On disk

export interface LocateFs {
  stat(path: string): Promise<unknown>;
  readdir(path: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
}

export interface FolderOnDisk {
  exists: boolean;
  /** The folder as it is spelled on disk when found, else the path asked for. */
  path: string;
}

const isMissing = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

async function present(fs: LocateFs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/**
 * Finds a folder on this host (a normalised POSIX path). A segment missing byte for byte is looked
 * up among its parent's entries by its NFC form, so a folder written NFD is found from an NFC path.
 * Errors other than "not there" (EACCES, EIO) are thrown: they say nothing about existence.
 */
export async function locateOnDisk(fs: LocateFs, path: string): Promise<FolderOnDisk> {
  if (await present(fs, path)) return { exists: true, path };
  let at = '/';
  for (const seg of segments(path)) {
    const direct = nodePath.join(at, seg);
    if (await present(fs, direct)) {
      at = direct;
      continue;
    }
    let entries: Dirent[];
    try {
      entries = await fs.readdir(at, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return { exists: false, path };
      throw err;
    }
    const want = nfc(seg);
    const found = entries.find((e) => nfc(e.name) === want);
    if (!found) return { exists: false, path };
    at = nodePath.join(at, found.name);
  }
  return { exists: true, path: at };
}
