import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import {
  AppError,
  type ClientFactory,
  type Db,
  fencedDb,
  isTempFileName,
  LEASE_LOST,
  leaseHeld,
  type PublishFs,
} from '@metarr/core';

/**
 * The fence of one attempt. pg-boss delivers at least once: a worker paused past its heartbeat (or cut
 * off from the database) keeps running its handler while the supervisor fails the job and another
 * worker retries it. Such a stale attempt must not write: before every side effect (follow-up jobs,
 * player calls) and before announcing completion it checks that the job is still `active` at the
 * retryCount it was fetched with. Once lost, it stays lost.
 */
export interface AttemptLease {
  lost(): boolean;
  /** Whether the attempt still holds the job (asks the database until lost). */
  holds(): Promise<boolean>;
  /** Rejects (LEASE_LOST) once the attempt no longer holds the job. */
  check(): Promise<void>;
  fence(trx: Db): Promise<void>;
  /** The database as this attempt's handler sees it: every write checks the lease first (fencedDb). */
  db: Db;
}

export function attemptLease(db: Db, name: string, id: string, retryCount: number): AttemptLease {
  let lost = false;
  const leaseLost = () =>
    new AppError(LEASE_LOST, `job ${id} attempt ${retryCount} no longer holds its lease`, {
      retryable: true,
    });
  const holds = async (): Promise<boolean> => {
    if (!lost) lost = !(await leaseHeld(db, name, { id, retryCount }));
    return !lost;
  };
  return {
    lost: () => lost,
    holds,
    db: fencedDb(db, name, { id, retryCount }, () => {
      lost = true;
      return leaseLost();
    }),
    check: async (): Promise<void> => {
      if (!(await holds())) throw leaseLost();
    },
    /**
     * Inside a service's write transaction: `for share` keeps the supervisor (expiry, heartbeat) from
     * handing the job to a newer attempt until this transaction ends, so the writes land only while
     * the lease holds — no window between the check and the commit.
     */
    fence: async (trx: Db): Promise<void> => {
      if (!lost) lost = !(await leaseHeld(trx, name, { id, retryCount }, { lock: true }));
      if (lost) throw leaseLost();
    },
  };
}

/**
 * Files as an attempt's handler sees them: a file lands by rename, and a stale attempt must not
 * replace what the newer attempt wrote, so every rename, and every removal of a published file,
 * checks the lease first (a temp file is removed unchecked: it is nobody's work).
 */
export function fencedFs(lease: () => Promise<void>): PublishFs {
  return {
    open: nodeFs.open,
    readFile: nodeFs.readFile,
    readdir: nodeFs.readdir,
    lstat: nodeFs.lstat,
    mkdir: nodeFs.mkdir,
    unlink: async (file) => {
      if (!isTempFileName(nodePath.basename(String(file)))) await lease();
      return nodeFs.unlink(file);
    },
    rename: async (from, to) => {
      await lease();
      return nodeFs.rename(from, to);
    },
  };
}

/**
 * What tests and the CLI hand createJobContext when no job attempt stands behind the context: no
 * lease to check, writes go straight to the database and the disk. Saying so is explicit.
 */
export function unfenced(db: Db): Pick<AttemptLease, 'check' | 'fence' | 'db'> {
  return { check: async () => {}, fence: async () => {}, db };
}

/** Player clients whose every call first checks the attempt's lease. */
export function fencedClients(clientFor: ClientFactory, lease: () => Promise<void>): ClientFactory {
  return (player) => {
    const c = clientFor(player);
    const { isPlaying } = c;
    return {
      refreshFolder: async (folder, o) => {
        await lease();
        return c.refreshFolder(folder, o);
      },
      test: async (signal) => {
        await lease();
        return c.test(signal);
      },
      ...(isPlaying && {
        isPlaying: async (signal?: AbortSignal) => {
          await lease();
          return isPlaying.call(c, signal);
        },
      }),
    };
  };
}

/** Batch handlers make no player calls (those need one job's fence): they enqueue notify-players. */
export const noPlayerCalls: ClientFactory = () => {
  throw new AppError('BATCH_PLAYER_CALL', 'a batch handler cannot call players; enqueue notify-players', {
    retryable: false,
  });
};
