import nodeFs from 'node:fs/promises';
import type { Db } from '../db/connect.ts';
import { AppError, permanent, retryable } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import { isWithin } from '../paths.ts';
import { recordSeries, type ScanSeriesInput, type ScanSeriesResult } from '../scan/seriesRecord.ts';
import { listSeriesFolder, type SeriesFolderFs, type SeriesFolderListing } from '../tv/names.ts';

/**
 * SeriesScanService — reads one series folder (`listSeriesFolder`) and records what it holds: the
 * series row, its seasons (season 0 = specials), its episodes and the video files holding them (one
 * file may hold several episodes). Idempotent: a second scan of an unchanged folder writes nothing
 * but `last_scanned_at`. Files whose names state no episode are reported on the series, never fatal.
 * Episode rows are never deleted by a scan (a provider may know them, and they carry locks); their
 * files are.
 */

export interface ScanSeriesFs extends SeriesFolderFs {
  realpath(path: string): Promise<string>;
}

export type { ScanSeriesInput, ScanSeriesResult } from '../scan/seriesRecord.ts';

export interface ScanSeriesDeps {
  db: Db;
  fs?: ScanSeriesFs;
  log: Logger;
  clock?: () => Date;
  fence?: Fence;
}

const empty = (seriesId: number | null, status: ScanSeriesResult['status']): ScanSeriesResult => ({
  seriesId,
  status,
  seasons: 0,
  episodes: 0,
  files: 0,
  added: { seasons: 0, episodes: 0, files: 0 },
  changedFiles: 0,
  removedFiles: 0,
  unparseable: [],
});

/** Marks the series at this path (if any) with `status` unless it already has it. */
async function markSeries(
  deps: ScanSeriesDeps,
  input: ScanSeriesInput,
  status: 'missing' | 'removed',
  now: Date,
): Promise<number | null> {
  return fencedWrite(deps.db, deps.fence, async (trx) => {
    const row = await trx
      .selectFrom('series')
      .select(['id', 'status'])
      .where('library_id', '=', input.libraryId)
      .where('path', '=', input.path)
      .executeTakeFirst();
    if (!row) return null;
    if (row.status !== status)
      await trx.updateTable('series').set({ status, updated_at: now }).where('id', '=', row.id).execute();
    return row.id;
  });
}

export async function scanSeries(deps: ScanSeriesDeps, input: ScanSeriesInput): Promise<ScanSeriesResult> {
  const fs = deps.fs ?? (nodeFs as unknown as ScanSeriesFs);
  const now = (deps.clock ?? (() => new Date()))();
  const log = deps.log.child({ service: 'SeriesScanService', operation: 'scanSeries' });
  log.info({ libraryId: input.libraryId, path: input.path }, 'Starting series scan');

  if (input.removed) {
    const seriesId = await markSeries(deps, input, 'removed', now);
    log.info({ seriesId, path: input.path }, 'Series removed');
    return empty(seriesId, 'removed');
  }

  let listing: SeriesFolderListing;
  try {
    const real = await fs.realpath(input.path);
    const root = await fs.realpath(input.libraryPath).catch(() => input.libraryPath);
    if (!isWithin(real, root))
      throw permanent(
        'PATH_OUTSIDE_LIBRARY',
        `${input.path} leads outside its library (${input.libraryPath}) through a symlink`,
      );
    listing = await listSeriesFolder(fs, input.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const seriesId = await markSeries(deps, input, 'missing', now);
      log.warn({ seriesId, path: input.path }, 'Series folder missing');
      return empty(seriesId, 'missing');
    }
    if (err instanceof AppError) throw err;
    throw retryable('SERIES_FOLDER_UNREADABLE', `series folder ${input.path} cannot be read (${code})`, err);
  }

  const result = await fencedWrite(deps.db, deps.fence, (trx) => recordSeries(trx, now, input, listing));
  log.info(
    {
      seriesId: result.seriesId,
      status: result.status,
      seasons: result.seasons,
      episodes: result.episodes,
      files: result.files,
      unparseable: result.unparseable.length,
    },
    'Series scan completed',
  );
  return result;
}
