/**
 * Writes stay inside their library. A movie folder can be replaced by a symlink at any time after
 * it was scanned (and the provider refresh publishes days later without a new scan), so the
 * folder's real path is resolved and checked against the library's real root at the moment of
 * every create, rename, delete or mkdir — not once at the start.
 */
import { constants as fsConstants } from 'node:fs';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import { AppError, permanent, retryable } from '../errors.ts';
import type { PublishFs } from './atomicFile.ts';

const unsafe = (dir: string, root: string, why: string) =>
  new AppError('UNSAFE_PATH', `Not writing into ${dir}: ${why} (library ${root}); nothing was written`, {
    retryable: false,
    details: { folder: dir, library: root },
  });

const inside = (real: string, root: string) =>
  real === root || real.startsWith(root.endsWith(nodePath.sep) ? root : root + nodePath.sep);

/**
 * The real path of `dir`, required to be inside the real path of `libraryRoot`, else a permanent
 * `UNSAFE_PATH`. A folder that does not exist fails with its own errno (ENOENT: an unmounted share
 * may come back). On Linux the real path is then opened O_NOFOLLOW|O_DIRECTORY and compared by
 * device and inode, so a swap between the two steps is caught too.
 */
export async function assertInsideLibrary(dir: string, libraryRoot: string): Promise<string> {
  const root = await nodeFs.realpath(libraryRoot);
  const real = await nodeFs.realpath(dir);
  if (!inside(real, root)) throw unsafe(dir, libraryRoot, `its real path ${real} is outside the library`);
  if (process.platform === 'linux') {
    const before = await nodeFs.lstat(dir);
    const fh = await nodeFs
      .open(real, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW)
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ELOOP' || err.code === 'ENOTDIR') throw unsafe(dir, libraryRoot, 'it changed');
        throw err;
      });
    try {
      const st = await fh.stat();
      // `dir` itself may legitimately be a symlink inside the library only when its target is
      // also inside (checked above); then lstat sees the link, so compare with the target.
      const same = before.isSymbolicLink() || (st.dev === before.dev && st.ino === before.ino);
      if (!same) throw unsafe(dir, libraryRoot, 'it changed while being checked');
    } finally {
      await fh.close();
    }
  }
  return real;
}

/** Whether an `open` flag creates or changes a file (the read-only opens are not checked). */
const writes = (flags: unknown) => flags !== undefined && flags !== 'r' && flags !== fsConstants.O_RDONLY;

/**
 * `fs` with every mutating call (open for writing, rename, unlink, mkdir) preceded by
 * assertInsideLibrary on the folder it touches; a rename checks both folders right before it runs.
 */
export function libraryGuardedFs(fs: PublishFs, libraryRoot: string): PublishFs {
  const check = (file: unknown) => assertInsideLibrary(nodePath.dirname(String(file)), libraryRoot);
  return {
    readFile: fs.readFile,
    readdir: fs.readdir,
    lstat: fs.lstat,
    open: (async (file, flags, mode) => {
      if (writes(flags)) await check(file);
      return fs.open(file, flags, mode);
    }) as PublishFs['open'],
    rename: async (from, to) => {
      await check(from);
      await check(to);
      return fs.rename(from, to);
    },
    unlink: async (file) => {
      await check(file);
      return fs.unlink(file);
    },
    mkdir: (async (dir, opts) => {
      await check(dir);
      return fs.mkdir(dir, opts);
    }) as PublishFs['mkdir'],
  };
}

/** Creates `dir` (one level, inside the movie folder) unless it exists; refuses a symlink or a file. */
export async function ensureRealDir(fs: PublishFs, dir: string): Promise<void> {
  const st = await fs.lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) {
    await fs.mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if ((await fs.lstat(dir)).isDirectory()) return;
  } else if (st.isDirectory()) return;
  throw permanent(
    'UNSAFE_PATH',
    `${dir} is not a real folder inside the movie folder (a symlink?); not writing into it`,
  );
}

/**
 * Before anything is downloaded: a movie folder that is gone stays gone (permanent, as in
 * discover-assets), unless the whole library root is gone too — a share that is offline for a
 * while, which a later attempt can find mounted again.
 */
export async function assertFolderThere(fs: PublishFs, folder: string, libraryRoot: string): Promise<void> {
  const gone = (p: string) =>
    fs.lstat(p).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR',
    );
  if (!(await gone(folder))) return;
  if (await gone(libraryRoot))
    throw retryable(
      'LIBRARY_ROOT_UNAVAILABLE',
      `library root ${libraryRoot} is not there (is the share mounted?)`,
    );
  throw permanent('MOVIE_FOLDER_MISSING', `${folder} does not exist`);
}
