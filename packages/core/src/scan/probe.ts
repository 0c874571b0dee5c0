/** The read half of a movie scan: where a folder really is on disk, and its main video. */
import type { Dirent } from 'node:fs';
import nodePath from 'node:path';
import { permanent } from '../errors.ts';
import { discStructure, isJunkEntry, rankMainVideos, videoRole } from '../media.ts';
import { isWithin, locateOnDisk } from '../paths.ts';
import type { ScanInput } from './record.ts';

export interface ScanFs {
  readdir(path: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
  stat(path: string): Promise<{ size: number; isDirectory(): boolean }>;
  realpath(path: string): Promise<string>;
}

/** The main video, by the media rules: a disc structure, else the largest `main` video file. */
export async function findMainVideo(fs: ScanFs, folder: string): Promise<string | null> {
  const entries = await fs.readdir(folder, { withFileTypes: true });
  const disc = discStructure(entries);
  if (disc) return disc.videoFile;
  const videos: { name: string; size: number }[] = [];
  for (const e of entries) {
    if (!e.isFile() || isJunkEntry(e.name) || videoRole(e.name) !== 'main') continue;
    videos.push({ name: e.name, size: (await fs.stat(nodePath.join(folder, e.name))).size });
  }
  return rankMainVideos(videos)[0]?.name ?? null;
}

/** What the filesystem says about one folder: where it really is, and its main video. */
export interface FolderProbe {
  /** The folder as spelled on disk (see locateOnDisk); the input path when it does not exist. */
  path: string;
  /** null: the folder does not exist. */
  real: string | null;
  videoFile: string | null;
}

/**
 * Reads one folder. Symlinks must not lead a scan outside the library it belongs to
 * (PATH_OUTSIDE_LIBRARY, permanent). `realRoot` resolves the library root (cached per batch).
 */
export async function probeFolder(
  fs: ScanFs,
  input: ScanInput,
  realRoot: (libraryPath: string) => Promise<string>,
): Promise<FolderProbe> {
  const found = await locateOnDisk(fs, input.path);
  let real: string | null = null;
  if (found.exists) {
    try {
      real = await fs.realpath(found.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const path = real === null ? input.path : found.path;
  if (real === null) return { path, real, videoFile: null };
  const root = await realRoot(input.libraryPath);
  if (!isWithin(real, root)) {
    throw permanent(
      'PATH_OUTSIDE_LIBRARY',
      `${input.path} resolves to ${real}, outside the library root ${input.libraryPath}`,
    );
  }
  return { path, real, videoFile: await findMainVideo(fs, real) };
}

export function resolveRoot(fs: ScanFs): (libraryPath: string) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (libraryPath) => {
    let p = cache.get(libraryPath);
    if (!p) {
      p = fs.realpath(libraryPath).catch(() => libraryPath);
      cache.set(libraryPath, p);
    }
    return p;
  };
}
