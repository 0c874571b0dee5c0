import nodeFs from 'node:fs/promises';
import {
  type AuditFindingKind,
  auditPlayerLibrary,
  createPlayerLibrary,
  errorMessage,
  failPlayerAudit,
  getPlayer,
  getPlayerGroup,
  type JobPayload,
  PLAYER_AUDIT_SERVICE,
  type PlayerGroupRecord,
  type PlayerLibrary,
  type PlayerRecord,
  parentFolder,
  playerAuditFindings,
  startPlayerAudit,
} from '@metarr/core';
import type { HandlerDeps, JobContext, JobHandler } from '../context.ts';

/** Repairs go out as `notify-group` jobs at this (bulk) priority: behind webhook-driven work. */
export const AUDIT_REPAIR_PRIORITY = 7;
/** Findings read (and repaired) per round. */
const REPAIR_PAGE = 1000;

/** A clean "not found" is absent; any other error (permission, I/O) is not taken for gone. */
async function exists(path: string): Promise<boolean> {
  try {
    await nodeFs.stat(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return !(code === 'ENOENT' || code === 'ENOTDIR');
  }
}

/**
 * Compares one player's movie library with Metarr's (see PlayerAuditService) and stores the report;
 * with `repair`, queues the fix of each finding as a `notify-group` job for this player alone —
 * missing → scan of the movie's folder, gone → clean of the item's folder, stale → refresh of the
 * movie — and removes duplicate entries where the player can without touching files (Kodi
 * `VideoLibrary.RemoveMovie`, Plex merge).
 */
export const handleAuditPlayer: JobHandler<'audit-player'> = async (ctx, deps) => {
  const { playerId, repair = false } = ctx.payload;
  const player = await getPlayer(ctx.db, playerId);
  if (!player) return { skipped: `player ${playerId} no longer exists` };
  const group = await getPlayerGroup(ctx.db, player.groupId);
  if (!group) return { skipped: `the group of player ${playerId} no longer exists` };
  const libraries = group.libraryIds.length
    ? await ctx.db
        .selectFrom('libraries')
        .select(['id', 'path'])
        .where('id', 'in', group.libraryIds)
        .where('type', '=', 'movie')
        .orderBy('id')
        .execute()
    : [];
  if (!libraries.length) return { skipped: `group ${group.name} is linked to no movie library` };

  const library = deps.playerLibraryFor
    ? deps.playerLibraryFor(player)
    : createPlayerLibrary(player, { timeoutMs: deps.config.playerTimeoutSeconds * 1000 });
  const auditId = await startPlayerAudit(ctx.db, { playerId, jobId: ctx.id, repair });
  let summary: Awaited<ReturnType<typeof auditPlayerLibrary>>;
  try {
    summary = await auditPlayerLibrary(
      { db: ctx.db, log: ctx.log, library, exists },
      {
        auditId,
        player,
        mappings: group.pathMappings,
        libraries,
        signal: ctx.signal,
        progress: (read, total) =>
          ctx.reportProgress(total ? Math.min(95, (read / total) * 95) : 0, `${read} player items read`),
      },
    );
  } catch (err) {
    await failPlayerAudit(ctx.db, auditId, errorMessage(err)).catch(() => {});
    throw err;
  }
  const { notes, ...counts } = summary;
  return {
    ...counts,
    ...(notes.length && { notes }),
    ...(repair && { repair: await repairFindings(ctx, deps, { auditId, player, group, library }) }),
  };
};

interface RepairOutcome {
  /** `notify-group` jobs queued (identical ones fold into one). */
  queued: number;
  /** Duplicate entries removed from the player's library. */
  removed: number;
  /** Findings left as they are, per kind, with the reason. */
  notRepaired: Partial<Record<AuditFindingKind, { count: number; reason: string }>>;
}

async function repairFindings(
  ctx: JobContext<'audit-player'>,
  _deps: HandlerDeps,
  a: { auditId: number; player: PlayerRecord; group: PlayerGroupRecord; library: PlayerLibrary },
): Promise<RepairOutcome> {
  const { player, group, library } = a;
  const log = ctx.log.child({ service: PLAYER_AUDIT_SERVICE });
  const out: RepairOutcome = { queued: 0, removed: 0, notRepaired: {} };
  const skip = (kind: AuditFindingKind, reason: string) => {
    const s = out.notRepaired[kind] ?? { count: 0, reason };
    s.count++;
    out.notRepaired[kind] = s;
  };
  const base = { groupId: group.id, playerIds: [player.id] };
  let afterId: string | undefined;
  for (;;) {
    const { findings } = await playerAuditFindings(ctx.db, a.auditId, {
      limit: REPAIR_PAGE,
      offset: 0,
      afterId,
    });
    const payloads = new Map<string, JobPayload<'notify-group'>>();
    const add = (p: JobPayload<'notify-group'>) => payloads.set(JSON.stringify(p), p);
    for (const f of findings) {
      if (f.libraryId === null || f.metarrPath === null) continue;
      const movie = f.movieId === null ? {} : { movieId: f.movieId };
      switch (f.kind) {
        case 'missing':
          add({ libraryId: f.libraryId, path: f.metarrPath, change: 'created', ...movie, ...base });
          break;
        case 'stale':
          add({
            libraryId: f.libraryId,
            path: f.moviePath ?? parentFolder(f.metarrPath),
            change: 'modified',
            ...movie,
            refresh: true,
            ...base,
          });
          break;
        case 'gone':
          // Kodi cleans only where the group allows it (a clean drops the items of a share that is
          // briefly offline); the audit does not override the group's choice.
          if (player.type === 'kodi' && !group.cleanAfterDelete)
            skip('gone', `cleanAfterDelete is off for group ${group.name}: Kodi is not asked to clean`);
          else add({ libraryId: f.libraryId, path: parentFolder(f.metarrPath), change: 'deleted', ...base });
          break;
        case 'duplicate':
          if (!library.removeDuplicates || f.itemId === null || f.keepItemId === null) {
            skip('duplicate', library.noRemoveReason ?? 'the player cannot remove an entry');
            break;
          }
          await ctx.assertLease();
          await library.removeDuplicates(f.keepItemId, [f.itemId], ctx.signal);
          out.removed++;
          log.info(
            { playerId: player.id, itemId: f.itemId, keptItemId: f.keepItemId, movieId: f.movieId },
            'Duplicate player entry removed',
          );
          break;
      }
    }
    if (payloads.size) {
      const jobs = await ctx.enqueueMany('notify-group', [...payloads.values()], {
        priority: AUDIT_REPAIR_PRIORITY,
      });
      out.queued += jobs.length;
    }
    if (findings.length < REPAIR_PAGE) break;
    afterId = findings[findings.length - 1]?.id;
  }
  log.info({ playerId: player.id, auditId: a.auditId, ...out }, 'Player audit repairs queued');
  return out;
}
