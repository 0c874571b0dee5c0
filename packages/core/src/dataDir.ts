/**
 * The launcher's claim on its data dir: one Metarr per data dir (two would each start an embedded
 * PostgreSQL on the same cluster, or one would depend on the other's), and a data dir Metarr cannot
 * write is reported as such, naming it, before anything else starts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from './errors.ts';

export const LOCK_FILE = 'metarr.lock';

const errno = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

function notWritable(dataDir: string, err: unknown): AppError {
  const code = errno(err) ?? 'unknown error';
  const why =
    code === 'EROFS'
      ? 'it is on a read-only file system; mount it read-write'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied; give the user running Metarr write access (PUID/PGID)'
        : code === 'ENOENT' || code === 'ENOTDIR'
          ? `a folder on its path is missing or not a folder (${code})`
          : code;
  return new AppError('DATA_DIR_NOT_WRITABLE', `Metarr cannot write to its data dir ${dataDir}: ${why}`, {
    retryable: false,
    cause: err,
    details: { dataDir, errno: code },
  });
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists, under another user.
    return errno(err) === 'EPERM';
  }
}

const ownedBy = (dataDir: string, pid: number) =>
  new AppError(
    'DATA_DIR_LOCKED',
    `Another Metarr (pid ${pid}) owns the data dir ${dataDir}; stop it first or set another METARR_DATA_DIR`,
    { retryable: false, details: { dataDir, pid } },
  );

async function readPid(file: string): Promise<number | null> {
  try {
    return Number((await fs.readFile(file, 'utf8')).trim());
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Takes `<dataDir>/metarr.lock` (holding this pid), creating the data dir when missing. Another
 * live owner: DATA_DIR_LOCKED; a lock left by a dead process is taken over (one taker wins: the
 * takeover itself is claimed with an exclusive create). Returns the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  try {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 }).catch(async (err) => {
      if (errno(err) !== 'ENOENT') throw err;
      // A recursive mkdir reports some refusals (EROFS) as ENOENT; a plain one tells the real reason.
      await fs.mkdir(dataDir, { mode: 0o700 });
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.writeFile(file, mine, { flag: 'wx', mode: 0o600 });
        break;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
      const pid = await readPid(file);
      if (pid === null) continue;
      if (alive(pid)) throw ownedBy(dataDir, pid);
      const claim = `${file}.takeover-${pid}`;
      try {
        await fs.writeFile(claim, mine, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        if (errno(err) === 'EEXIST') throw ownedBy(dataDir, (await readPid(claim)) ?? pid);
        throw err;
      }
      const tmp = `${file}.${randomBytes(4).toString('hex')}`;
      await fs.writeFile(tmp, mine, { mode: 0o600 });
      await fs.rename(tmp, file);
      await fs.rm(claim, { force: true });
      break;
    }
    if ((await readPid(file)) !== process.pid) throw ownedBy(dataDir, (await readPid(file)) ?? 0);
  } catch (err) {
    if (err instanceof AppError) throw err;
    const code = errno(err);
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw notWritable(dataDir, err);
    throw err;
  }
  return async () => {
    if ((await readPid(file).catch(() => null)) === process.pid) await fs.rm(file, { force: true });
  };
}
