import { CompiledQuery, sql } from 'kysely';
import type { PgBoss } from 'pg-boss';
import type { AnyKysely } from '../events.ts';

/** One attempt of one job: it holds the job while the job is `active` at this retryCount. */
export interface AttemptKey {
  id: string;
  retryCount: number;
}

/**
 * The attempts of `name` among `keys` that still hold their lease. With `lock`, inside a write
 * transaction: `for share` keeps the supervisor (expiry, heartbeat) from handing those jobs to a
 * newer attempt until the transaction ends, so writes land only while the lease holds.
 */
export async function leasesHeld(
  db: AnyKysely,
  name: string,
  keys: readonly AttemptKey[],
  opts: { lock?: boolean; orCompleted?: boolean } = {},
): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const { rows } = await leaseQuery(name, keys, opts).execute(db);
  return new Set(rows.map((r) => r.id));
}

/** The lease check itself: the ids among `keys` whose attempt still holds the job. */
export function leaseQuery(
  name: string,
  keys: readonly AttemptKey[],
  opts: { lock?: boolean; orCompleted?: boolean } = {},
) {
  const ids = keys.map((k) => k.id);
  const rcs = keys.map((k) => k.retryCount);
  // `orCompleted`: an attempt that already completed its job (completion is fenced on id +
  // retryCount, so a job completed at this retryCount was completed by this attempt) still counts.
  const states = opts.orCompleted ? sql`j.state in ('active', 'completed')` : sql`j.state = 'active'`;
  return sql<{ id: string }>`select j.id from pgboss.job j
    join unnest(${ids}::uuid[], ${rcs}::int[]) as u(id, retry_count)
      on j.id = u.id and j.retry_count = u.retry_count
    where j.name = ${name} and ${states}
    ${opts.lock ? sql`for share of j` : sql``}`;
}

/** `leasesHeld` for one attempt. */
export async function leaseHeld(
  db: AnyKysely,
  name: string,
  key: AttemptKey,
  opts: { lock?: boolean } = {},
): Promise<boolean> {
  return (await leasesHeld(db, name, [key], opts)).has(key.id);
}

/**
 * Fails one attempt and sets when it runs again, beyond what the queue's retry policy says:
 * - `retryAfterSeconds`: the least delay before the retry;
 * - `freeAttempt`: the job's retry limit is raised by one first, so this attempt does not use up a retry.
 * One transaction, so nobody sees the job waiting with the policy's delay; everything is fenced on
 * id + retryCount, so pg-boss's own settlement of the attempt afterwards does nothing.
 */
export async function failAndReschedule(
  deps: { db: AnyKysely; boss: PgBoss },
  name: string,
  key: AttemptKey,
  output: object,
  how: { retryAfterSeconds?: number | undefined; freeAttempt?: boolean },
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    if (how.freeAttempt)
      await sql`update pgboss.job set retry_limit = retry_limit + 1
        where name = ${name} and id = ${key.id} and state = 'active' and retry_count = ${key.retryCount}`.execute(
        trx,
      );
    // pg-boss's own fail statement, run on this transaction's connection.
    const executor = {
      executeSql: async (text: string, values?: unknown[]) =>
        trx.executeQuery(CompiledQuery.raw(text, values ?? [])),
    };
    await deps.boss.fail(name, { id: key.id, retryCount: key.retryCount }, output, { db: executor });
    if (how.retryAfterSeconds)
      await sql`update pgboss.job set start_after = now() + make_interval(secs => ${how.retryAfterSeconds})
        where name = ${name} and id = ${key.id} and state = 'retry'`.execute(trx);
  });
}

/** Settles one attempt as completed now (fenced on id + retryCount); a settled attempt is left alone. */
export async function completeAttempt(
  boss: PgBoss,
  name: string,
  key: AttemptKey,
  output: object | null,
): Promise<void> {
  await boss.complete(name, { id: key.id, retryCount: key.retryCount }, output);
}
