import { markMovieRemoved, permanent, planWebhook, recordAddedMovie, resolveArrPath } from '@metarr/core';
import type { JobHandler } from '../context.ts';

/**
 * Reads the stored delivery, decides what it means (planWebhook), maps each path to a library and
 * enqueues the follow-up jobs. The API only validated and stored it.
 */
export const handleWebhook: JobHandler<'webhook'> = async (ctx, deps) => {
  const { deliveryId, source } = ctx.payload;
  const delivery = await deps.db
    .selectFrom('webhook_deliveries')
    .select(['id', 'body'])
    .where('id', '=', deliveryId)
    .executeTakeFirst();
  if (!delivery) throw permanent('DELIVERY_NOT_FOUND', `webhook delivery ${deliveryId} does not exist`);

  const results: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  for (const action of planWebhook(source, delivery.body)) {
    const where = await resolveArrPath(deps.db, source, action.folderPath);
    if (!where.ok) {
      skipped.push(where.reason);
      results.push({ action: action.action, folderPath: action.folderPath, skipped: where.reason });
      continue;
    }
    const libraryId = where.library.id;
    switch (action.action) {
      case 'scan-movie':
      case 'scan-series': {
        // Each scan belongs in its own kind of library; a Sonarr path in a movie library is skipped.
        const kind = action.action === 'scan-movie' ? 'movie' : 'tv';
        if (where.library.type !== kind) {
          const reason = `${where.path} is in library "${where.library.name}", which is a ${where.library.type} library`;
          skipped.push(reason);
          results.push({ action: action.action, folderPath: action.folderPath, libraryId, skipped: reason });
          break;
        }
        const { action: name, folderPath: _, ...facts } = action;
        const base = { libraryId, path: where.path, trigger: 'webhook' as const, ...present(facts) };
        const job = await ctx.enqueue(name, base);
        results.push({ action: name, libraryId, path: where.path, jobId: job?.id ?? null });
        break;
      }
      case 'movie-added': {
        const { movieId } = await recordAddedMovie(deps, {
          libraryId,
          path: where.path,
          ...present({
            tmdbId: action.tmdbId,
            imdbId: action.imdbId,
            title: action.title,
            year: action.year,
            radarrId: action.radarrId,
          }),
        });
        results.push({ action: action.action, libraryId, path: where.path, movieId });
        break;
      }
      case 'movie-removed': {
        const { movieId } = await markMovieRemoved(deps, { libraryId, path: where.path });
        const job = await ctx.enqueue('notify-players', {
          libraryId,
          path: where.path,
          change: 'deleted',
          ...(movieId && { movieId }),
        });
        results.push({ action: action.action, libraryId, path: where.path, movieId, jobId: job?.id ?? null });
        break;
      }
      case 'notify-folder': {
        const job = await ctx.enqueue('notify-players', {
          libraryId,
          path: where.path,
          change: action.change,
        });
        results.push({ action: action.action, libraryId, path: where.path, jobId: job?.id ?? null });
        break;
      }
    }
  }

  const acted = results.length - skipped.length;
  // What the delivery did, in words: a MovieAdded only records the movie, it queues nothing.
  const queued = results.filter((r) => 'jobId' in r).length;
  const recorded = results.filter((r) => r.action === 'movie-added' && !('skipped' in r)).length;
  const did = [
    ...(queued ? [`queued ${queued} job(s)`] : []),
    ...(recorded ? [`recorded ${recorded} movie(s)`] : []),
  ];
  const outcome = did.length
    ? did.join('; ')
    : skipped.length
      ? `skipped: ${skipped.join('; ')}`
      : 'nothing to do';
  await deps.db.updateTable('webhook_deliveries').set({ outcome }).where('id', '=', deliveryId).execute();
  if (acted === 0) return { skipped: skipped.join('; ') || 'the event needs no action', actions: results };
  return { actions: results };
};

/**
 * The facts a webhook sent that a job payload can carry: empty ones dropped (payloads hold no
 * `undefined`), titles cut to the payload's 500 characters. The planner already checked each id.
 */
function present<T extends Record<string, string | number | undefined>>(facts: T): Partial<T> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(facts)) {
    if (value === undefined || value === '' || value === 0) continue;
    out[key] = key === 'title' && typeof value === 'string' ? value.slice(0, 500) : value;
  }
  return out as Partial<T>;
}
