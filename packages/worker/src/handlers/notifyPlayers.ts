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
  const targets = groups.flatMap((group) =>
    (group.sharedLibrary || group.players.length <= 1 ? [undefined] : group.players.map((pl) => [pl.id])).map(
      (playerIds) => ({ groupId: group.groupId, windowSeconds: group.debounceSeconds, playerIds }),
    ),
  );
  // One commit for all: a worker fetches the group jobs together, so one slow player does not hold
  // back the others' notifications.
  const jobs = await ctx.enqueueTogether(
    'notify-group',
    targets.map(({ playerIds, ...t }) => ({
      payload: {
        libraryId: p.libraryId,
        path: p.path,
        change: p.change,
        ...(p.movieId !== undefined && { movieId: p.movieId }),
        ...(p.refresh && { refresh: true }),
        ...t,
        ...(playerIds && { playerIds }),
      },
      opts: { retry },
    })),
  );
  // null: an equal notification that has not started yet covers this one.
  const fanout = targets.map(({ groupId, playerIds }, i) => ({
    groupId,
    ...(playerIds && { playerIds }),
    jobId: jobs[i]?.id ?? null,
  }));
  return { fanout };
};

/** A `notify-players` job queued with one group's payload, as `notify-group` takes it; else null. */
function groupShaped(p: JobPayload<'notify-players'>): JobPayload<'notify-group'> | null {
  if (!('groupId' in p)) return null;
  return jobCatalog['notify-group'].validator.check(p) ? (p as JobPayload<'notify-group'>) : null;
}
