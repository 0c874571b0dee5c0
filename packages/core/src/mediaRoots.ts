import fs from 'node:fs/promises';
import { isWithin, normalizePath } from './paths.ts';

/**
 * Where a library may live. Metarr writes NFOs and artwork into library folders and deletes files it
 * wrote there, so a library on a system directory would let an API caller plant files in `/etc` or
 * read listings of `/root`.
 */

/** Directories (and everything under them) that never hold media. `/lib*` is matched by prefix. */
export const SYSTEM_DIRECTORIES = [
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/root',
  '/usr',
  '/bin',
  '/sbin',
  '/run',
  '/var/run',
  '/var/lib',
  '/var/log',
  '/var/cache',
  '/var/spool',
  '/var/tmp',
  '/lost+found',
] as const;

function isSystemPath(p: string): boolean {
  const first = p.split('/').filter(Boolean)[0];
  if (first === undefined) return true; // `/` holds every system directory
  if (/^lib/.test(first)) return true; // lib, lib32, lib64, libx32
  // A path around a system directory (`/var`) contains it as much as one inside it.
  return SYSTEM_DIRECTORIES.some((d) => isWithin(p, d) || isWithin(d, p));
}

export interface MediaRootPolicy {
  /** When set, a library must be inside one of these (`METARR_MEDIA_ROOTS`). */
  allow?: readonly string[] | undefined;
  /** Metarr's own data directory (database, secrets): never a library. */
  dataDir?: string | undefined;
}

async function real(p: string): Promise<string | null> {
  try {
    return await fs.realpath(p);
  } catch {
    return null;
  }
}

/**
 * Whether `path` (absolute, clean) may be a library root: an existing directory whose real path is
 * outside every system directory and the data directory, and inside the allow-list when there is one.
 * A plain boolean on purpose: the caller answers every refusal alike, so the answer never tells
 * whether an arbitrary path exists or is readable.
 */
export async function isAllowedMediaRoot(path: string, policy: MediaRootPolicy = {}): Promise<boolean> {
  const given = normalizePath(path).path;
  if (isSystemPath(given)) return false;
  const resolved = await real(given);
  if (resolved === null || isSystemPath(resolved)) return false;
  if (policy.dataDir) {
    const data = (await real(policy.dataDir)) ?? normalizePath(policy.dataDir).path;
    if (isWithin(resolved, data) || isWithin(data, resolved)) return false;
  }
  if (policy.allow?.length) {
    let inside = false;
    for (const root of policy.allow) {
      const r = (await real(root)) ?? normalizePath(root).path;
      if (isWithin(resolved, r)) inside = true;
    }
    if (!inside) return false;
  }
  try {
    const st = await fs.stat(resolved);
    if (!st.isDirectory()) return false;
    await fs.access(resolved, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    return false;
  }
  return true;
}
