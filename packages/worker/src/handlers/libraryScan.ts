import {
  type JobPayload,
  listMovieFolders,
  permanent,
  reconcileLibrary,
  recordFolderFingerprints,
} from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { scanTvLibrary } from './libraryScanTv.ts';

/** Seed priority of the scans a library scan fans out: behind every webhook-driven job. */
export const LIBRARY_SCAN_CHILD_PRIORITY = 8;

export const handleLibraryScan: JobHandler<'library-scan'> = async (ctx, deps) => {
  const library = await deps.db
    .selectFrom('libraries')
    .selectAll()
    .where('id', '=', ctx.payload.libraryId)
    .executeTakeFirst();
  if (!library) throw permanent('LIBRARY_NOT_FOUND', `library ${ctx.payload.libraryId} no longer exists`);
  if (library.type === 'tv') return scanTvLibrary(ctx, deps, library);
  if (library.type !== 'movie') return { skipped: `${library.type} libraries are not scanned yet` };

  const log = ctx.log.child({ service: 'LibraryScanService' });
  let lastReport = 0;
  const folders = await listMovieFolders({ log }, library.path, async (done, total) => {
    // A progress event per ~5 % (and the last one), not one per folder.
    if (done !== total && done - lastReport < Math.max(1, Math.ceil(total / 20))) return;
    lastReport = done;
    await ctx.reportProgress((done / total) * 80, `${done}/${total} folders`);
  });

  const known = await deps.db
    .selectFrom('movies')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('library_id', '=', library.id)
    .where('status', '!=', 'missing')
    .executeTakeFirstOrThrow();
  // An empty root over a library with movies is an unmounted share, not 10,000 deleted movies.
  if (folders.length === 0 && Number(known.n) > 0) {
    log.warn({ libraryId: library.id, path: library.path, known: Number(known.n) }, 'Library root is empty');
    return { skipped: `${library.path} is empty; movies were not marked missing (unmounted share?)` };
  }

  const rec = await reconcileLibrary(
    { db: ctx.db, log, clock: deps.clock },
    { libraryId: library.id, folders },
  );
  const payloads: JobPayload<'scan-movie'>[] = rec.toScan.map((t) => ({
    libraryId: library.id,
    path: t.path,
    trigger: 'library-scan',
    ...(t.tmdbId !== undefined && { tmdbId: t.tmdbId }),
    ...(t.imdbId !== undefined && { imdbId: t.imdbId }),
    ...(t.title !== undefined && { title: t.title.slice(0, 500) }),
    ...(t.year !== undefined && t.year <= 3000 && { year: t.year }),
  }));
  const jobs = await ctx.enqueueMany('scan-movie', payloads, { priority: LIBRARY_SCAN_CHILD_PRIORITY });
  // The players still list moved and vanished movies under their old folders: each old folder is
  // told gone (Kodi cleans it when the group allows, Jellyfin/Emby get `Deleted`, Plex rescans its
  // parent), so a move leaves one entry, at the new folder the scan above reports.
  const gone: JobPayload<'notify-players'>[] = [
    ...rec.moved.map((m) => ({ movieId: m.movieId, path: m.from })),
    ...rec.missing.map((m) => ({ movieId: m.movieId, path: m.path })),
  ].map((m) => ({ libraryId: library.id, path: m.path, change: 'deleted', movieId: m.movieId }));
  const cleans = await ctx.enqueueMany('notify-players', gone, { priority: LIBRARY_SCAN_CHILD_PRIORITY });
  await recordFolderFingerprints(
    { db: ctx.db, clock: deps.clock },
    { libraryId: library.id, scanned: rec.toScan, listedPaths: folders.map((f) => f.path) },
  );
  await ctx.reportProgress(100, `${folders.length}/${folders.length} folders`);
  const count = (r: string) => rec.toScan.filter((t) => t.reason === r).length;
  return {
    folders: folders.length,
    scanJobs: jobs.length,
    oldFolderNotifyJobs: cleans.length,
    new: count('new'),
    changed: count('changed'),
    returned: count('returned'),
    moved: rec.moved.length,
    missing: rec.missing.length,
    unchanged: rec.unchanged,
  };
};
