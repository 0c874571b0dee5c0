/**
 * Atomic file replacement for publish: a temp file in the same folder, fsync, rename over the
 * target, then an fsync of the folder. Node built-ins only, so a crash-test child process (killed
 * with SIGKILL at random points) loads it in milliseconds.
 */
import { randomBytes } from 'node:crypto';
import type nodeFs from 'node:fs/promises';
import nodePath from 'node:path';

export type PublishFs = Pick<
  typeof nodeFs,
  'open' | 'rename' | 'unlink' | 'readFile' | 'mkdir' | 'readdir' | 'lstat'
>;

/** `.<name>.metarr-tmp-<hex>`: a temp file of writeFileAtomic (left behind only by a killed process). */
export const isTempFileName = (name: string) => /^\..+\.metarr-tmp-[0-9a-f]+$/.test(name);

const tempPathFor = (file: string) =>
  nodePath.join(
    nodePath.dirname(file),
    `.${nodePath.basename(file)}.metarr-tmp-${randomBytes(6).toString('hex')}`,
  );

const errCode = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

/**
 * The bytes of `file` when it is a regular file, else null (missing, a folder, or a symlink: a link
 * is never followed, it may lead out of the library).
 */
export async function readOwnFile(fs: PublishFs, file: string): Promise<Buffer | null> {
  try {
    if (!(await fs.lstat(file)).isFile()) return null;
    return await fs.readFile(file);
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * Writes `bytes` to `file` atomically unless it already holds exactly these bytes: a reader (or a
 * crash) sees the old file or the new one, never a mix. A symlink at `file` is replaced by the new
 * file, not followed. Returns whether it wrote.
 */
export async function writeFileAtomic(fs: PublishFs, file: string, bytes: Buffer): Promise<boolean> {
  const current = await readOwnFile(fs, file);
  if (current?.equals(bytes)) return false;
  for (let attempt = 0; ; attempt++) {
    const tmp = tempPathFor(file);
    // `wx` (O_CREAT|O_EXCL) never follows a symlink.
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await fs.unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    try {
      await fs.rename(tmp, file);
      break;
    } catch (err) {
      await fs.unlink(tmp).catch(() => {});
      // Another publish of this folder removed our temp file as a stale one: write it once more.
      if (errCode(err) === 'ENOENT' && attempt === 0) continue;
      throw err;
    }
  }
  // The rename is durable only once the directory entry is on disk; best effort (not on every FS).
  const dh = await fs.open(nodePath.dirname(file), 'r').catch(() => null);
  await dh?.sync().catch(() => {});
  await dh?.close().catch(() => {});
  return true;
}

/**
 * Removes the temp files a killed writer left in `dir` (not a symlinked folder: nothing outside is
 * touched). Returns their names.
 */
export async function removeStaleTempFiles(fs: PublishFs, dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    if (!(await fs.lstat(dir)).isDirectory()) return [];
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() || !isTempFileName(e.name)) continue;
    try {
      await fs.unlink(nodePath.join(dir, e.name));
      removed.push(e.name);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    }
  }
  return removed;
}
