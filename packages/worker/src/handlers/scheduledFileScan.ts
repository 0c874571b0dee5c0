import { createJobReader } from '@metarr/core';
import type { JobHandler } from '../context.ts';

/**
 * A cron tick: one `library-scan` per movie library (or the one the schedule names). A library whose
 * previous scan is still queued or running is skipped, so a scan slower than its interval never
 * piles up behind itself.
 */
export const handleScheduledFileScan: JobHandler<'scheduled-file-scan'> = async (ctx, deps) => {
  let q = deps.db.selectFrom('libraries').select(['id', 'type']).orderBy('id');
  if (ctx.payload.libraryId !== undefined) q = q.where('id', '=', ctx.payload.libraryId);
  const libraries = (await q.execute()).filter((l) => l.type === 'movie');
  if (!libraries.length) return { skipped: 'no movie library to scan' };
  const busy = new Set(
    (await createJobReader(deps.db).unfinishedPayloadValues('library-scan', 'libraryId')).map(Number),
  );
  const jobIds: string[] = [];
  const skipped: number[] = [];
  for (const l of libraries) {
    if (busy.has(l.id)) {
      skipped.push(l.id);
      continue;
    }
    const job = await ctx.enqueue('library-scan', { libraryId: l.id });
    if (job) jobIds.push(job.id);
  }
  return { libraryScans: jobIds.length, jobIds, ...(skipped.length && { stillRunning: skipped }) };
};
