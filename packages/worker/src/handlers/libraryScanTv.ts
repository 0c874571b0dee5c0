import { type JobPayload, type Library, listLibrarySeriesPaths, listMovieFolders } from '@metarr/core';
import type { HandlerDeps, JobContext, JobOutput } from '../context.ts';

/** Seed priority of the scans a library scan fans out: behind every webhook-driven job. */
const LIBRARY_SCAN_CHILD_PRIORITY = 8;

/**
 * A `tv` library's scan: one `scan-series` per series folder one level under the root (bulk
 * priority, one insert per 1,000), and one for each recorded series whose folder is gone (that scan
 * marks it missing). Every folder is scanned: a series folder's own entries (season folders) do not
 * change when an episode is added inside one, so the movie scan's fingerprints cannot tell; a scan
 * of an unchanged series writes nothing.
 */
export async function scanTvLibrary(
  ctx: JobContext<'library-scan'>,
  deps: HandlerDeps,
  library: Library,
): Promise<JobOutput> {
  const log = ctx.log.child({ service: 'LibraryScanService' });
  let lastReport = 0;
  const folders = await listMovieFolders({ log }, library.path, async (done, total) => {
    if (done !== total && done - lastReport < Math.max(1, Math.ceil(total / 20))) return;
    lastReport = done;
    await ctx.reportProgress((done / total) * 80, `${done}/${total} folders`);
  });
  const known = await listLibrarySeriesPaths(deps.db, library.id);
  // An empty root over a library with series is an unmounted share, not every series deleted.
  if (folders.length === 0 && known.length > 0) {
    log.warn({ libraryId: library.id, path: library.path, known: known.length }, 'Library root is empty');
    return { skipped: `${library.path} is empty; series were not marked missing (unmounted share?)` };
  }
  const listed = new Set(folders.map((f) => f.path));
  const vanished = known.filter((p) => !listed.has(p));
  const payloads: JobPayload<'scan-series'>[] = [...folders.map((f) => f.path), ...vanished].map((path) => ({
    libraryId: library.id,
    path,
    trigger: 'library-scan',
  }));
  const jobs = await ctx.enqueueMany('scan-series', payloads, { priority: LIBRARY_SCAN_CHILD_PRIORITY });
  await ctx.reportProgress(100, `${folders.length}/${folders.length} folders`);
  log.info(
    { libraryId: library.id, folders: folders.length, vanished: vanished.length },
    'TV library listed',
  );
  return { folders: folders.length, scanJobs: jobs.length, vanished: vanished.length };
}
