import { sql } from 'kysely';
import type { AnyKysely } from '../events.ts';

/**
 * What tests do to jobs that no real caller may: play the supervisor, jump the clock, clear a queue.
 * Here so that tests, too, leave pg-boss's schema to the store.
 */
export function jobTestControls(db: AnyKysely) {
  return {
    /** What the supervisor and a newer fetch do to a stale attempt: the job moves to the next attempt. */
    async supersede(id: string): Promise<void> {
      await sql`update pgboss.job set retry_count = retry_count + 1 where id = ${id}::uuid`.execute(db);
    },
    /** A job waiting for its retry runs now instead of after its backoff. */
    async runRetryNow(id: string): Promise<void> {
      await sql`update pgboss.job set start_after = now() where id = ${id}::uuid and state = 'retry'`.execute(
        db,
      );
    },
    /** Moves a job's creation this many seconds into the past. */
    async backdate(id: string, seconds: number): Promise<void> {
      await sql`update pgboss.job set created_on = now() - make_interval(secs => ${seconds})
        where id = ${id}::uuid`.execute(db);
    },
    /** Marks a job started (as a worker's fetch would), without a worker. */
    async markActive(id: string): Promise<void> {
      await sql`update pgboss.job set state = 'active', started_on = now() where id = ${id}::uuid`.execute(
        db,
      );
    },
    /** Deletes every job of these types. */
    async purge(types: readonly string[]): Promise<void> {
      await sql`delete from pgboss.job where name = any(${[...types]}::text[])`.execute(db);
    },
  };
}
