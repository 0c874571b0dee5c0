import { AppError, loadGroupsForLibrary, mapGroupPath, notifyCoalesceKey, notifyGroup } from '@metarr/core';
import type { JobHandler } from '../context.ts';

/** Playback defers a Kodi scan at most this long in total; then the scan runs anyway. */
const MAX_DEFER_TOTAL_SECONDS = 6 * 3600;

/**
 * `notify-players` comes in two shapes (one queue, one public job name):
 * - library-level (no `groupId`, as scan-movie and the webhook handler enqueue it): fans out one job
 *   per linked group. Each child is coalesced per group + folder within the group's window by the
 *   queue layer, so a burst of events becomes one call and a failing group retries alone;
 * - group-level: notifies that group's players; a playing Kodi defers to a later job instead of
 *   failing.
 */
export const handleNotifyPlayers: JobHandler<'notify-players'> = async (ctx, deps) => {
  const p = ctx.payload;
  const library = await deps.db
    .selectFrom('libraries')
    .select(['id', 'type'])
    .where('id', '=', p.libraryId)
    .executeTakeFirst();
  if (!library) return { skipped: `library ${p.libraryId} no longer exists` };
  const groups = await loadGroupsForLibrary(deps.db, p.libraryId, p.groupId);
  const retry = { delay: deps.config.notifyRetryDelaySeconds };

  if (p.groupId === undefined) {
    if (!groups.length) return { skipped: `no player group is linked to library ${p.libraryId}` };
    const fanout: { groupId: number; playerIds?: number[]; jobId: string | null }[] = [];
    for (const group of groups) {
      // A shared library is one job (any member will do); otherwise one job per player, so a
      // player that is down retries alone and never re-notifies its healthy neighbours.
      const targets =
        group.sharedLibrary || group.players.length <= 1 ? [undefined] : group.players.map((pl) => [pl.id]);
      for (const playerIds of targets) {
        const child = await ctx.enqueue(
          'notify-players',
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
  }

  const group = groups[0];
  if (!group)
    return { skipped: `player group ${p.groupId} is gone or no longer linked to library ${p.libraryId}` };
  const players = p.playerIds ? group.players.filter((pl) => p.playerIds?.includes(pl.id)) : group.players;
  if (!players.length) return { groupId: group.groupId, skipped: 'none of its players is enabled any more' };
  const folder = mapGroupPath(p.path, group.mappings);
  const deferrals = p.deferrals ?? 0;
  const deferSeconds = deps.config.notifyDeferSeconds;
  const deferWhilePlaying =
    group.scanWhilePlaying === 'defer' && deferrals * deferSeconds < MAX_DEFER_TOTAL_SECONDS;

  let r: Awaited<ReturnType<typeof notifyGroup>>;
  try {
    r = await notifyGroup(
      { log: ctx.log, clientFor: deps.clientFor },
      {
        groupId: group.groupId,
        groupName: group.groupName,
        sharedLibrary: group.sharedLibrary,
        players,
        folder,
      },
      {
        mediaKind: library.type === 'music' ? 'music' : 'video',
        change: p.change,
        signal: ctx.signal,
        cleanAfterDelete: group.cleanAfterDelete,
        deferWhilePlaying,
      },
    );
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('NOTIFY_FAILED', String(err), { retryable: true });
  }
  if (r.skipped) return { groupId: group.groupId, folder, skipped: r.skipped };

  const out: Record<string, unknown> = {
    groupId: group.groupId,
    folder,
    notified: r.notified,
    failures: r.failures,
  };
  if (r.deferred.length) {
    const next = await ctx.enqueue(
      'notify-players',
      {
        libraryId: p.libraryId,
        path: p.path,
        change: p.change,
        ...(p.movieId !== undefined && { movieId: p.movieId }),
        groupId: group.groupId,
        windowSeconds: p.windowSeconds ?? group.debounceSeconds,
        // A shared library is scanned by whichever member is free then; others by player.
        ...(!group.sharedLibrary && { playerIds: r.deferred }),
        deferrals: deferrals + 1,
      },
      {
        startAfter: deferSeconds,
        retry,
        // Deferrals of one folder made within a defer period fold into one later check.
        coalesce: {
          key: `${notifyCoalesceKey({ ...p, groupId: group.groupId, ...(!group.sharedLibrary && { playerIds: r.deferred }) })}:deferred`,
          seconds: deferSeconds,
          mode: 'throttle',
        },
      },
    );
    out['deferred'] = { playerIds: r.deferred, retryInSeconds: deferSeconds, jobId: next?.id ?? null };
  }
  return out;
};
