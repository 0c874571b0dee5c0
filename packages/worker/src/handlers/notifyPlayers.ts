import { type JobPayload, jobCatalog, loadGroupsForLibrary } from '@metarr/core';
import type { JobHandler } from '../context.ts';

/**
 * A library folder changed: one `notify-group` per linked player group. A shared library is one job
 * (any member will do); otherwise one job per player, so a player that is down retries alone and
 * never re-notifies its healthy neighbours. Each is coalesced per group + folder by the queue.
 */
export const handleNotifyPlayers: JobHandler<'notify-players'> = async (ctx, deps) => {
  const p = ctx.payload;
  const retry = { delay: deps.config.notifyRetryDelaySeconds };
  const forward = groupShaped(p);
  if (forward) {
    // Queued before group notifications had their own type: it already waited out its window.
    const job = await ctx.enqueue('notify-group', forward, { retry, coalesce: false });
    return { forwardedTo: job?.id ?? null };
  }
  const library = await ctx.db
    .selectFrom('libraries')
    .select('id')
    .where('id', '=', p.libraryId)
    .executeTakeFirst();
  if (!library) return { skipped: `library ${p.libraryId} no longer exists` };
  const groups = await loadGroupsForLibrary(ctx.db, p.libraryId);
  if (!groups.length) return { skipped: `no player group is linked to library ${p.libraryId}` };
  const fanout: { groupId: number; playerIds?: number[]; jobId: string | null }[] = [];
  for (const group of groups) {
    const targets =
      group.sharedLibrary || group.players.length <= 1 ? [undefined] : group.players.map((pl) => [pl.id]);
    for (const playerIds of targets) {
      const child = await ctx.enqueue(
        'notify-group',
        {
          libraryId: p.libraryId,
          path: p.path,
          change: p.change,
          ...(p.movieId !== undefined && { movieId: p.movieId }),
          groupId: group.groupId,
          windowSeconds: group.debounceSeconds,
          ...(playerIds && { playerIds }),
        },
        { retry },
      );
      // null: an equal notification that has not started yet covers this one.
      fanout.push({ groupId: group.groupId, ...(playerIds && { playerIds }), jobId: child?.id ?? null });
    }
  }
  return { fanout };
};

/** A `notify-players` job queued with one group's payload, as `notify-group` takes it; else null. */
function groupShaped(p: JobPayload<'notify-players'>): JobPayload<'notify-group'> | null {
  if (!('groupId' in p)) return null;
  return jobCatalog['notify-group'].validator.check(p) ? (p as JobPayload<'notify-group'>) : null;
}
