import {
  AppError,
  type Db,
  loadGroupsForLibrary,
  mapGroupPath,
  type NotifyFailure,
  notePlayerReachability,
  notifyCoalesceKey,
  notifyGroup,
} from '@metarr/core';
import type { HandlerDeps, JobContext, JobHandler } from '../context.ts';
import { raiseAlerts } from './alerts.ts';

/**
 * What this attempt saw of the players, for `player-unreachable` alerts: a reached player's outage
 * ends, a player that did not answer (a retryable failure: refused, timeout, reset, 5xx) starts or
 * continues one. The outage's start is in the database, so every worker measures the same one.
 */
async function notePlayers(
  ctx: JobContext<'notify-group'>,
  deps: HandlerDeps,
  reached: number[],
  failures: NotifyFailure[],
): Promise<void> {
  const failed = failures
    .filter((f) => f.retryable)
    .map((f) => ({ playerId: f.playerId, error: `${f.code} ${f.message}` }));
  if (!reached.length && !failed.length) return;
  await raiseAlerts(ctx, deps, 'player-unreachable', (db) =>
    notePlayerReachability(db, { reached, failed, now: deps.clock() }),
  );
}

/** Playback defers a Kodi scan at most this long in total; then the scan runs anyway. */
const MAX_DEFER_TOTAL_SECONDS = 6 * 3600;

/**
 * Tells one player group (or the players the job names) that a folder changed. A playing Kodi
 * defers to a later `notify-group` job instead of failing.
 */
export const handleNotifyGroup: JobHandler<'notify-group'> = async (ctx, deps) => {
  const p = ctx.payload;
  const library = await ctx.db
    .selectFrom('libraries')
    .select(['id', 'type'])
    .where('id', '=', p.libraryId)
    .executeTakeFirst();
  if (!library) return { skipped: `library ${p.libraryId} no longer exists` };
  const [group] = await loadGroupsForLibrary(ctx.db, p.libraryId, p.groupId);
  if (!group)
    return { skipped: `player group ${p.groupId} is gone or no longer linked to library ${p.libraryId}` };
  const players = p.playerIds ? group.players.filter((pl) => p.playerIds?.includes(pl.id)) : group.players;
  if (!players.length) return { groupId: group.groupId, skipped: 'none of its players is enabled any more' };
  const folder = mapGroupPath(p.path, group.mappings);
  const refreshItem =
    p.refresh && p.change !== 'deleted' ? await refreshTarget(ctx.db, p.movieId) : undefined;
  const deferrals = p.deferrals ?? 0;
  const deferSeconds = deps.config.notifyDeferSeconds;

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
        deferWhilePlaying:
          group.scanWhilePlaying === 'defer' && deferrals * deferSeconds < MAX_DEFER_TOTAL_SECONDS,
        ...(refreshItem && { refreshItem }),
      },
    );
  } catch (err) {
    const failures =
      (err instanceof AppError && (err.details?.failures as NotifyFailure[] | undefined)) || [];
    await notePlayers(ctx, deps, [], failures);
    if (err instanceof AppError) throw err;
    throw new AppError('NOTIFY_FAILED', String(err), { retryable: true });
  }
  await notePlayers(ctx, deps, r.notified, r.failures);
  if (r.skipped) return { groupId: group.groupId, folder, skipped: r.skipped };

  const out: Record<string, unknown> = {
    groupId: group.groupId,
    folder,
    notified: r.notified,
    failures: r.failures,
    ...(r.refreshed && { refreshed: r.refreshed }),
  };
  if (r.deferred.length) {
    // A shared library is scanned by whichever member is free then; others by player.
    const playerIds = group.sharedLibrary ? undefined : r.deferred;
    const next = await ctx.enqueue(
      'notify-group',
      {
        libraryId: p.libraryId,
        path: p.path,
        change: p.change,
        ...(p.movieId !== undefined && { movieId: p.movieId }),
        groupId: group.groupId,
        windowSeconds: p.windowSeconds ?? group.debounceSeconds,
        ...(playerIds && { playerIds }),
        deferrals: deferrals + 1,
        ...(p.refresh && { refresh: true }),
      },
      {
        startAfter: deferSeconds,
        retry: { delay: deps.config.notifyRetryDelaySeconds },
        // Deferrals of one folder made within a defer period fold into one later check.
        coalesce: {
          key: `${notifyCoalesceKey({ ...p, groupId: group.groupId, ...(playerIds && { playerIds }) })}:deferred`,
          seconds: deferSeconds,
          mode: 'throttle',
        },
      },
    );
    out['deferred'] = { playerIds: r.deferred, retryInSeconds: deferSeconds, jobId: next?.id ?? null };
  }
  return out;
};

/**
 * The movie's video file, which a player's item must be for to be refreshed rather than scanned, and
 * its title (then the one before its last rename), by which Jellyfin/Emby and Plex are searched.
 */
async function refreshTarget(
  db: Db,
  movieId: number | undefined,
): Promise<{ videoFile: string | null; title: string | null; previousTitle: string | null }> {
  if (movieId === undefined) return { videoFile: null, title: null, previousTitle: null };
  const movie = await db
    .selectFrom('movies')
    .select(['video_file', 'title', 'previous_title'])
    .where('id', '=', movieId)
    .executeTakeFirst();
  return {
    videoFile: movie?.video_file ?? null,
    title: movie?.title ?? null,
    previousTitle: movie?.previous_title ?? null,
  };
}
