/**
 * What a media server's scan and clean do to its library, for the fakes that hold one: a scan of a
 * folder adds the video files it finds there and does not know yet; a clean drops the items under a
 * folder whose file is gone. The fakes see the test's files through `toLocal`, which turns a path in
 * the player's form (`smb://nas/movies/…`, `/data/movies/…`) into one on this machine (null: not
 * visible to this player).
 */
import fs from 'node:fs';
import path from 'node:path';

export type ToLocal = (playerPath: string) => string | null;

const VIDEO = /\.(mkv|mp4|m4v|avi|mov|wmv|ts|m2ts|iso)$/i;

/** Whether `file` (player form) lies under `folder` (player form), separators either way. */
export function isUnder(file: string, folder: string): boolean {
  const slashes = (p: string) => p.replaceAll('\\', '/');
  const dir = slashes(folder).replace(/\/*$/, '/');
  return slashes(file).startsWith(dir) || slashes(file) === slashes(folder);
}

/**
 * The video files under `folder` (player form, any trailing separator), in the player's form, with
 * the name of the folder that holds each (a server names a movie after its folder when it has no
 * NFO). A folder the player cannot see, or that is gone, has none.
 */
export function videosUnder(folder: string, toLocal: ToLocal): { file: string; folderName: string }[] {
  const local = toLocal(folder);
  if (local === null || !fs.existsSync(local)) return [];
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  const base = folder.replace(/[\\/]*$/, sep);
  const out: { file: string; folderName: string }[] = [];
  const stat = fs.statSync(local);
  if (stat.isFile()) {
    return VIDEO.test(local) ? [{ file: folder, folderName: path.basename(path.dirname(local)) }] : [];
  }
  for (const e of fs.readdirSync(local, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !VIDEO.test(e.name)) continue;
    const rel = path.relative(local, path.join(e.parentPath, e.name)).split(path.sep).join(sep);
    out.push({ file: base + rel, folderName: path.basename(e.parentPath) });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Whether the file an item points at (player form) is gone from disk. */
export function isGone(file: string, toLocal: ToLocal): boolean {
  const local = toLocal(file);
  return local !== null && !fs.existsSync(local);
}

/** A `toLocal` for one mapping: player paths starting with `playerRoot` live under `localRoot`. */
export function mappedRoot(playerRoot: string, localRoot: string): ToLocal {
  const from = playerRoot.replace(/[\\/]*$/, '');
  return (p) => {
    if (p !== from && !p.startsWith(`${from}/`) && !p.startsWith(`${from}\\`)) return null;
    const rest = p.slice(from.length).replace(/^[\\/]+/, '');
    return rest ? path.join(localRoot, ...rest.split(/[\\/]+/).filter(Boolean)) : localRoot;
  };
}
