import type { PgBoss } from 'pg-boss';
import { DEAD_LETTER_QUEUE } from '../catalog.ts';
import type { JobReader, JobRow, JobState } from './read.ts';

export type JobControlResult =
  | { outcome: 'done'; job: JobRow }
  | { outcome: 'not-found' }
  | { outcome: 'dead-letter'; job: JobRow }
  /** The job's state does not allow it (`state` as read; it may have moved on since). */
  | { outcome: 'wrong-state'; state: JobState; job: JobRow; raced?: true };

/** Retrying and cancelling jobs, through pg-boss's own API. */
export function createJobControl(deps: { boss: PgBoss; reader: JobReader }) {
  return {
    /** A failed job gets one more attempt, at once; a cancelled one is queued again. */
    async retry(id: string): Promise<JobControlResult> {
      const job = await deps.reader.one(id);
      if (!job) return { outcome: 'not-found' };
      if (job.name === DEAD_LETTER_QUEUE) return { outcome: 'dead-letter', job };
      // failed → back to `retry` with one more attempt allowed; cancelled → `created` again.
      const n =
        job.state === 'failed'
          ? await deps.boss.retry(job.name, id)
          : job.state === 'cancelled'
            ? await deps.boss.resume(job.name, id)
            : null;
      if (!n || (n as { affected?: number }).affected === 0)
        return { outcome: 'wrong-state', state: job.state, job };
      // retry() keeps the backoff time the last failure set, and neither it nor resume() wakes a
      // worker: start now (update() NOTIFYs a notify queue when the job becomes runnable).
      await deps.boss.update(job.name, undefined, { id, startAfter: new Date() }).catch(() => {});
      return { outcome: 'done', job };
    },

    /** Only a job that is waiting, retrying or running can be cancelled. */
    async cancel(id: string): Promise<JobControlResult> {
      const job = await deps.reader.one(id);
      if (!job) return { outcome: 'not-found' };
      if (!['created', 'retry', 'active'].includes(job.state))
        return { outcome: 'wrong-state', state: job.state, job };
      const n = await deps.boss.cancel(job.name, id);
      if ((n as { affected?: number }).affected === 0)
        return { outcome: 'wrong-state', state: job.state, job, raced: true };
      return { outcome: 'done', job };
    },
  };
}

export type JobControl = ReturnType<typeof createJobControl>;
