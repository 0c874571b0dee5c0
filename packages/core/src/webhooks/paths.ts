/**
 * Path rules for paths that arrive inside *arr webhook bodies. Paths are kept exactly as the *arr app
 * wrote them (Windows paths stay Windows paths); mapping to our own view happens later, in pathMapping.
 */

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
/** `\\server\share…` (either separator after the leading pair). */
const UNC = /^\\\\[^\\/]+[\\/][^\\/]+/;

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

/** Drops trailing separators, never below a root (`/`, `C:\`, `\\nas\share`). */
export function trimTrailingSeparators(p: string): string {
  const posix = isPosixStyle(p);
  let end = p.length;
  while (end > 1 && isSeparator(p[end - 1], posix)) {
    const rest = p.slice(0, end - 1);
    if (/^[A-Za-z]:$/.test(rest)) break;
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
