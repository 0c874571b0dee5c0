import type { Db } from './db/connect.ts';

/**
 * A job attempt's write fence. pg-boss delivers at least once, so a stale attempt (its worker paused
 * past the heartbeat while a newer attempt took the job over) may still be running. A service calls
 * the fence first thing inside each write transaction: it locks the job row for the transaction
 * (`for share`, so the job cannot change hands before the commit) and throws `LEASE_LOST` when the
 * attempt no longer holds it, rolling the writes back. Without a fence (tests, CLI) writes just run.
 */
export type Fence = (trx: Db) => Promise<void>;

/** Runs `fn` in one transaction that starts with the fence. */
export function fencedWrite<T>(db: Db, fence: Fence | undefined, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await fence?.(trx);
    return fn(trx);
  });
}
