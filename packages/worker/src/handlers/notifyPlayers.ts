import { AppError, loadGroupsForLibrary, mapGroupPath, notifyGroup } from '@metarr/core';
import type { JobHandler } from '../context.ts';

export const handleNotifyPlayers: JobHandler<'notify-players'> = async (ctx, deps) => {
  const { libraryId, path, change } = ctx.payload;
  const library = await deps.db
    .selectFrom('libraries')
    .select(['id', 'type'])
    .where('id', '=', libraryId)
    .executeTakeFirst();
  if (!library) return { skipped: `library ${libraryId} no longer exists` };
  const groups = await loadGroupsForLibrary(deps.db, libraryId);
  if (!groups.length) return { skipped: `no player group is linked to library ${libraryId}` };

  const mediaKind = library.type === 'music' ? 'music' : 'video';
  const results: Record<string, unknown>[] = [];
  const failures: AppError[] = [];
  for (const group of groups) {
    const folder = mapGroupPath(path, group.mappings);
    try {
      const r = await notifyGroup(
        { log: ctx.log, clientFor: deps.clientFor },
        {
          groupId: group.groupId,
          groupName: group.groupName,
          sharedLibrary: group.sharedLibrary,
          players: group.players,
          folder,
        },
        { mediaKind, change, signal: ctx.signal },
      );
      results.push({ groupId: group.groupId, folder, notified: r.notified, failures: r.failures });
    } catch (err) {
      const e =
        err instanceof AppError ? err : new AppError('NOTIFY_FAILED', String(err), { retryable: true });
      failures.push(e);
      results.push({ groupId: group.groupId, folder, error: e.message });
    }
  }
  if (failures.length) {
    throw new AppError('NOTIFY_FAILED', failures.map((f) => f.message).join('; '), {
      retryable: failures.some((f) => f.retryable),
    });
  }
  return { groups: results };
};
