import { type GroupConfig, type JobPayload, jobCatalog, loadGroupsForLibrary } from '@metarr/core';
import type { BatchJobHandler, BatchJobOutcome, HandlerDeps, JobHandler } from '../context.ts';

type Target = { groupId: number; windowSeconds: number; playerIds: number[] | undefined };

/**
 * One `notify-group` per linked group. A shared library is one job (any member will do); otherwise
 * one job per player, so a player that is down retries alone and never re-notifies its healthy
 * neighbours.
 */
function targetsOf(groups: GroupConfig[]): Target[] {
  return groups.flatMap((group) =>
    (group.sharedLibrary || group.players.length <= 1 ? [undefined] : group.players.map((pl) => [pl.id])).map(
      (playerIds) => ({ groupId: group.groupId, windowSeconds: group.debounceSeconds, playerIds }),
    ),
  );
}

/** The `notify-group` payload for one target of a library event. */
function groupPayload(p: JobPayload<'notify-players'>, t: Target): JobPayload<'notify-group'> {
  const { playerIds, ...rest } = t;
  return {
    libraryId: p.libraryId,
    path: p.path,
    change: p.change,
    ...(p.movieId !== undefined && { movieId: p.movieId }),
    ...(p.refresh && { refresh: true }),
    ...rest,
    ...(playerIds && { playerIds }),
  };
}

/** null: an equal notification that has not started yet covers this one. */
const fanoutOf = (targets: Target[], jobs: ({ id: string } | null)[]) =>
  targets.map(({ groupId, playerIds }, i) => ({
    groupId,
    ...(playerIds && { playerIds }),
    jobId: jobs[i]?.id ?? null,
  }));

/** Why a library event has nothing to fan out, or its targets. */
function plan(
  p: JobPayload<'notify-players'>,
  libraryExists: boolean,
  groups: GroupConfig[],
): { skipped: string } | { targets: Target[] } {
  if (!libraryExists) return { skipped: `library ${p.libraryId} no longer exists` };
  if (!groups.length) return { skipped: `no player group is linked to library ${p.libraryId}` };
  return { targets: targetsOf(groups) };
}

const retryOf = (deps: HandlerDeps) => ({ delay: deps.config.notifyRetryDelaySeconds });

/**
 * A library folder changed: one `notify-group` per linked player group (see targetsOf), each
 * coalesced per group + folder by the queue.
 */
export const handleNotifyPlayers: JobHandler<'notify-players'> = async (ctx, deps) => {
  const p = ctx.payload;
  const retry = retryOf(deps);
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
  const planned = plan(p, !!library, library ? await loadGroupsForLibrary(ctx.db, p.libraryId) : []);
  if ('skipped' in planned) return planned;
  // One commit for all: a worker fetches the group jobs together, so one slow player does not hold
  // back the others' notifications.
  const jobs = await ctx.enqueueTogether(
    'notify-group',
    planned.targets.map((t) => ({ payload: groupPayload(p, t), opts: { retry } })),
  );
  return { fanout: fanoutOf(planned.targets, jobs) };
};

/**
 * A fetched batch of library events: each library and its groups read once, and every event's
 * `notify-group` jobs committed in one transaction (coalescing as single jobs do). Each event keeps
 * its own job, output (`fanout`) and follow-ups.
 */
export const handleNotifyPlayersBatch: BatchJobHandler<'notify-players'> = async (batch, deps) => {
  const retry = retryOf(deps);
  const libraryIds = [...new Set(batch.jobs.map((j) => j.payload.libraryId))];
  const [libraries, groups] = await Promise.all([
    deps.db.selectFrom('libraries').select('id').where('id', 'in', libraryIds).execute(),
    Promise.all(libraryIds.map(async (id) => [id, await loadGroupsForLibrary(deps.db, id)] as const)),
  ]);
  const known = new Set(libraries.map((l) => l.id));
  const groupsOf = new Map(groups);
  const outcomes: (BatchJobOutcome | null)[] = batch.jobs.map(() => null);
  const items: { k: number; t: Target; payload: JobPayload<'notify-group'> }[] = [];
  for (const [k, ctx] of batch.jobs.entries()) {
    const p = ctx.payload;
    const forward = groupShaped(p);
    if (forward) {
      try {
        const job = await ctx.enqueue('notify-group', forward, { retry, coalesce: false });
        outcomes[k] = { status: 'completed', output: { forwardedTo: job?.id ?? null } };
      } catch (error) {
        outcomes[k] = { status: 'failed', error };
      }
      continue;
    }
    const planned = plan(p, known.has(p.libraryId), groupsOf.get(p.libraryId) ?? []);
    if ('skipped' in planned) outcomes[k] = { status: 'completed', output: planned };
    else for (const t of planned.targets) items.push({ k, t, payload: groupPayload(p, t) });
  }
  const jobs = await batch.enqueueFollowUps(
    'notify-group',
    items.map((it) => ({
      parent: batch.jobs[it.k] as (typeof batch.jobs)[number],
      payload: it.payload,
      opts: { retry },
    })),
  );
  for (const [k] of batch.jobs.entries()) {
    if (outcomes[k]) continue;
    const mine = items.flatMap((it, i) => (it.k === k ? [{ t: it.t, job: jobs[i] ?? null }] : []));
    outcomes[k] = {
      status: 'completed',
      output: {
        fanout: fanoutOf(
          mine.map((m) => m.t),
          mine.map((m) => m.job),
        ),
      },
    };
  }
  return outcomes as BatchJobOutcome[];
};
handleNotifyPlayersBatch.urgent = true;

/** A `notify-players` job queued with one group's payload, as `notify-group` takes it; else null. */
function groupShaped(p: JobPayload<'notify-players'>): JobPayload<'notify-group'> | null {
  if (!('groupId' in p)) return null;
  return jobCatalog['notify-group'].validator.check(p) ? (p as JobPayload<'notify-group'>) : null;
}
