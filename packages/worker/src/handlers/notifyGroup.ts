import {
  AppError,
  type Db,
  type EnqueueOptions,
  type GroupConfig,
  type JobPayload,
  loadGroupsForLibrary,
  mapGroupPath,
  type NotifyFailure,
  notePlayerReachability,
  notifyCoalesceKey,
  notifyGroup,
  shareClients,
} from '@metarr/core';
import type {
  BatchJobHandler,
  BatchJobOutcome,
  HandlerDeps,
  JobContext,
  JobHandler,
  JobOutput,
} from '../context.ts';
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
 * A batch job whose players were told waits at most this long for its neighbours to settle with
 * them in one statement; past it, it is settled on its own (`completeNow`).
 */
export const SETTLE_WITH_BATCH_MS = 100;

/** What notify-group jobs read from the database, loaded once for a whole batch. */
interface Lookups {
  libraries: Map<number, { id: number; type: string }>;
  /** Per library: its linked groups, players and mappings. */
  groups: Map<number, GroupConfig[]>;
  /**
   * Refresh jobs' movies: the video file a player's item must be for to be refreshed rather than
   * scanned, and the title (then the one before its last rename) by which Jellyfin/Emby and Plex
   * are searched.
   */
  movies: Map<number, { videoFile: string | null; title: string | null; previousTitle: string | null }>;
}

async function loadLookups(db: Db, payloads: JobPayload<'notify-group'>[]): Promise<Lookups> {
  const libraryIds = [...new Set(payloads.map((p) => p.libraryId))];
  const movieIds = [
    ...new Set(
      payloads.flatMap((p) =>
        p.refresh && p.change !== 'deleted' && p.movieId !== undefined ? [p.movieId] : [],
      ),
    ),
  ];
  const [libraries, groups, movies] = await Promise.all([
    db.selectFrom('libraries').select(['id', 'type']).where('id', 'in', libraryIds).execute(),
    Promise.all(libraryIds.map(async (id) => [id, await loadGroupsForLibrary(db, id)] as const)),
    movieIds.length
      ? db
          .selectFrom('movies')
          .select(['id', 'video_file', 'title', 'previous_title'])
          .where('id', 'in', movieIds)
          .execute()
      : [],
  ]);
  return {
    libraries: new Map(libraries.map((l) => [l.id, l])),
    groups: new Map(groups),
    movies: new Map(
      movies.map((m) => [
        m.id,
        { videoFile: m.video_file ?? null, title: m.title ?? null, previousTitle: m.previous_title ?? null },
      ]),
    ),
  };
}

/** One job's notification, once its lookups are loaded; `notes` collects what it saw of the players. */
async function notifyOne(
  ctx: JobContext<'notify-group'>,
  deps: HandlerDeps,
  look: Lookups,
  notes: { reached: number[]; failures: NotifyFailure[] },
): Promise<JobOutput> {
  const p = ctx.payload;
  const library = look.libraries.get(p.libraryId);
  if (!library) return { skipped: `library ${p.libraryId} no longer exists` };
  const group = look.groups.get(p.libraryId)?.find((g) => g.groupId === p.groupId);
  if (!group)
    return { skipped: `player group ${p.groupId} is gone or no longer linked to library ${p.libraryId}` };
  const players = p.playerIds ? group.players.filter((pl) => p.playerIds?.includes(pl.id)) : group.players;
  if (!players.length) return { groupId: group.groupId, skipped: 'none of its players is enabled any more' };
  const folder = mapGroupPath(p.path, group.mappings);
  const refreshItem =
    p.refresh && p.change !== 'deleted'
      ? p.movieId === undefined
        ? { videoFile: null, title: null }
        : (look.movies.get(p.movieId) ?? { videoFile: null, title: null, previousTitle: null })
      : undefined;
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
    notes.failures.push(...failures);
    if (err instanceof AppError) throw err;
    throw new AppError('NOTIFY_FAILED', String(err), { retryable: true });
  }
  notes.reached.push(...r.notified);
  notes.failures.push(...r.failures);
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
}

/**
 * Tells one player group (or the players the job names) that a folder changed. A playing Kodi
 * defers to a later `notify-group` job instead of failing.
 */
export const handleNotifyGroup: JobHandler<'notify-group'> = async (ctx, deps) => {
  const look = await loadLookups(ctx.db, [ctx.payload]);
  const notes = { reached: [] as number[], failures: [] as NotifyFailure[] };
  try {
    return await notifyOne(ctx, deps, look, notes);
  } finally {
    await notePlayers(ctx, deps, notes.reached, notes.failures);
  }
};

/**
 * A fetched batch of notify-group jobs (a library's worth of folders, the three groups of many
 * events): the library, groups and movies are read once, the leases checked in one query before any
 * player is called, each player's client shared (a Plex section list read once, a Kodi asked once
 * whether it plays), and what the batch saw of the players recorded in one write. Each job still
 * succeeds, fails (and retries) or defers alone: a player that is down fails only its own jobs, and
 * a job whose players were told is settled at once (`completeNow`), not when the slowest is done.
 */
export const handleNotifyGroupBatch: BatchJobHandler<'notify-group'> = async (batch, deps) => {
  const look = await loadLookups(
    deps.db,
    batch.jobs.map((j) => j.payload),
  );
  const held = await batch.held();
  const clientFor = shareClients(deps.clientFor);
  const notes = { reached: [] as number[], failures: [] as NotifyFailure[] };
  // Settles with its batch a job whose neighbours end within SETTLE_WITH_BATCH_MS; else on its own.
  let running = batch.jobs.length;
  let allDone: () => void = () => {};
  const everyoneDone = new Promise<void>((r) => {
    allDone = r;
  });
  const done = () => {
    if (--running === 0) allDone();
  };
  const outcomes = await Promise.all(
    batch.jobs.map(async (ctx): Promise<BatchJobOutcome> => {
      if (!held.has(ctx.id)) {
        done();
        return { status: 'superseded' };
      }
      let output: JobOutput;
      try {
        output = await notifyOne(ctx, { ...deps, clientFor }, look, notes);
      } catch (error) {
        return { status: 'failed', error };
      } finally {
        done();
      }
      // Its players were told: a slow neighbour must not hold its settling (a worker killed meanwhile
      // would leave it active, and its retry would tell them again), so past a short wait it is
      // settled on its own.
      let timer: NodeJS.Timeout | undefined;
      const alone = await Promise.race([
        everyoneDone.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), SETTLE_WITH_BATCH_MS);
        }),
      ]);
      clearTimeout(timer);
      if (alone) await batch.completeNow(ctx, output);
      return { status: 'completed', output };
    }),
  );
  // A player reached by one job of the batch is reachable, whatever another job saw of it meanwhile.
  const reached = [...new Set(notes.reached)];
  const failures = notes.failures.filter((f) => !reached.includes(f.playerId));
  const first = batch.jobs[0];
  const failing = failures.some((f) => f.retryable);
  // Reaching players that had no outage changes nothing: one read instead of a fenced write.
  const ended =
    reached.length && !failing
      ? (
          await deps.db
            .selectFrom('player_outages')
            .select('player_id')
            .where('player_id', 'in', reached)
            .limit(1)
            .execute()
        ).length > 0
      : reached.length > 0;
  if (first && (ended || failing)) {
    // Jobs settled by completeNow are no longer active: the write and the alert deliveries are
    // fenced on the batch (its attempts, active or completed by them), not on one job's lease.
    const batchCtx = {
      db: deps.db,
      log: first.log,
      enqueue: async (name: 'send-alerts', payload: JobPayload<'send-alerts'>, opts: EnqueueOptions) =>
        (await batch.enqueueFollowUps(name, [{ parent: first, payload, opts }]))[0] ?? null,
    } as unknown as Pick<JobContext<never>, 'db' | 'log' | 'enqueue'>;
    await raiseAlerts(batchCtx, deps, 'player-unreachable', (db) =>
      db.transaction().execute(async (trx) => {
        // Fenced like a single job's write: recorded only while the batch's attempts hold.
        if (!(await batch.fence(trx)).size) return [];
        return notePlayerReachability(trx, {
          reached,
          failed: failures
            .filter((f) => f.retryable)
            .map((f) => ({ playerId: f.playerId, error: `${f.code} ${f.message}` })),
          now: deps.clock(),
        });
      }),
    );
  }
  return outcomes;
};
handleNotifyGroupBatch.urgent = true;
handleNotifyGroupBatch.players = true;
