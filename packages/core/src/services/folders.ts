/**
 * FolderPickerService — the folders a library could be created at, for a picker in the web app:
 * names of sub-directories only (never files, never contents), and only under a folder that could
 * itself be a library root (isAllowedMediaRoot: outside system directories and the data dir, inside
 * METARR_MEDIA_ROOTS when set) — what an admin can already configure, nothing more.
 */
import fs from 'node:fs/promises';
import nodePath from 'node:path';
import { isAllowedMediaRoot, type MediaRootPolicy } from '../mediaRoots.ts';

export interface FolderEntry {
  name: string;
  path: string;
}

export interface FolderListing {
  /** The folder listed; null for the starting points. */
  path: string | null;
  /** Its parent when that may be listed too (else null: go back to the starting points). */
  parent: string | null;
  folders: FolderEntry[];
  /** More sub-folders than were listed. */
  truncated: boolean;
}

/** A picker lists a screenful, not a whole disk. */
const MAX_FOLDERS = 1000;

async function allowedChildren(
  dir: string,
  policy: MediaRootPolicy,
): Promise<{ list: FolderEntry[]; truncated: boolean }> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const names = entries
    // A symlink may point at a folder: judged below by its real path, like a library root.
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
  const list: FolderEntry[] = [];
  for (const name of names) {
    const path = nodePath.join(dir, name);
    if (await isAllowedMediaRoot(path, policy)) list.push({ name, path });
    if (list.length === MAX_FOLDERS) return { list, truncated: names.length > MAX_FOLDERS };
  }
  return { list, truncated: false };
}

/**
 * Without `path`: the starting points (the METARR_MEDIA_ROOTS, else the allowed top-level folders of
 * `/`). With one: its allowed sub-folders, or null when `path` could not be a library root (the
 * caller answers every refusal alike, so nothing tells whether an arbitrary path exists).
 */
export async function listFolders(
  path: string | undefined,
  policy: MediaRootPolicy,
): Promise<FolderListing | null> {
  if (path === undefined) {
    if (policy.allow?.length) {
      const roots: FolderEntry[] = [];
      for (const root of policy.allow)
        if (await isAllowedMediaRoot(root, policy)) roots.push({ name: root, path: root });
      return { path: null, parent: null, folders: roots, truncated: false };
    }
    const { list, truncated } = await allowedChildren('/', policy);
    return { path: null, parent: null, folders: list, truncated };
  }
  if (!(await isAllowedMediaRoot(path, policy))) return null;
  const up = nodePath.dirname(path);
  const parent = up !== path && (await isAllowedMediaRoot(up, policy)) ? up : null;
  const { list, truncated } = await allowedChildren(path, policy);
  return { path, parent, folders: list, truncated };
}
