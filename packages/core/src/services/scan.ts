import type { Dirent } from 'node:fs';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import type { Db } from '../db/connect.ts';
import type { MovieStatus } from '../db/schema.ts';
import { permanent } from '../errors.ts';
import type { Logger } from '../log.ts';
import { VIDEO_EXTENSIONS } from '../media.ts';
import { isWithin } from './pathMapping.ts';

/** ScanService — reads one movie folder and records what it found. */

export interface ScanFs {
  readdir(path: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
  stat(path: string): Promise<{ size: number; isDirectory(): boolean }>;
  realpath(path: string): Promise<string>;
}

export interface ScanDeps {
  db: Db;
  fs?: ScanFs;
  log: Logger;
  clock?: () => Date;
}

export interface ScanInput {
  libraryId: number;
  libraryPath: string;
  path: string;
  tmdbId?: number;
  imdbId?: string;
  title?: string;
  year?: number;
  radarrId?: number;
}

export type ScanStatus = 'created' | 'updated' | 'moved' | 'missing';

export interface ScanResult {
  movieId: number | null;
  status: ScanStatus;
  videoFile: string | null;
  previousPath?: string;
}

const VIDEO_EXT = VIDEO_EXTENSIONS;

/** The main video: the largest video file that is not a sample, trailer or extra. */
export async function findMainVideo(fs: ScanFs, folder: string): Promise<string | null> {
  const entries = await fs.readdir(folder, { withFileTypes: true });
  let best: { name: string; size: number } | null = null;
  for (const e of entries) {
    if (!e.isFile()) continue;
    const ext = nodePath.extname(e.name).toLowerCase();
    if (!VIDEO_EXT.has(ext)) continue;
    const stem = nodePath.basename(e.name, ext).toLowerCase();
    if (/(^|[-._ ])(sample|trailer)$/.test(stem) || stem === 'sample') continue;
    const { size } = await fs.stat(nodePath.join(folder, e.name));
    if (!best || size > best.size) best = { name: e.name, size };
  }
  return best?.name ?? null;
}

export async function scanMovieDirectory(deps: ScanDeps, input: ScanInput): Promise<ScanResult> {
  const fs = deps.fs ?? nodeFs;
  const now = (deps.clock ?? (() => new Date()))();
  const log = deps.log.child({ service: 'ScanService', operation: 'scanMovieDirectory' });
  log.info({ libraryId: input.libraryId, path: input.path }, 'Starting movie scan');

  // Symlinks must not lead a scan outside the library it belongs to.
  let real: string | null;
  try {
    real = await fs.realpath(input.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    real = null;
  }
  if (real !== null) {
    const realRoot = await fs.realpath(input.libraryPath).catch(() => input.libraryPath);
    if (!isWithin(real, realRoot)) {
      throw permanent(
        'PATH_OUTSIDE_LIBRARY',
        `${input.path} resolves to ${real}, outside the library root ${input.libraryPath}`,
      );
    }
  }

  const existing = await deps.db
    .selectFrom('movies')
    .selectAll()
    .where('library_id', '=', input.libraryId)
    .where('path', '=', input.path)
    .executeTakeFirst();

  if (real === null) {
    if (existing) {
      await deps.db
        .updateTable('movies')
        .set({ status: 'missing', updated_at: now, last_scanned_at: now })
        .where('id', '=', existing.id)
        .execute();
    }
    log.warn(
      { libraryId: input.libraryId, path: input.path, movieId: existing?.id ?? null },
      'Movie folder is missing',
    );
    return { movieId: existing?.id ?? null, status: 'missing', videoFile: null };
  }

  const videoFile = await findMainVideo(fs, real);
  const status: MovieStatus = videoFile ? 'present' : 'no_files';
  const known = {
    ...(input.title !== undefined && { title: input.title }),
    ...(input.year !== undefined && { year: input.year }),
    ...(input.tmdbId !== undefined && { tmdb_id: input.tmdbId }),
    ...(input.imdbId !== undefined && { imdb_id: input.imdbId }),
    ...(input.radarrId !== undefined && { radarr_id: input.radarrId }),
  };

  if (existing) {
    await deps.db
      .updateTable('movies')
      .set({ ...known, video_file: videoFile, status, updated_at: now, last_scanned_at: now })
      .where('id', '=', existing.id)
      .execute();
    log.info({ movieId: existing.id, status: 'updated', videoFile }, 'Movie scan completed');
    return { movieId: existing.id, status: 'updated', videoFile };
  }

  // Same movie at a new folder (renamed or moved by the *arr) is a move, not a new movie.
  if (input.tmdbId !== undefined || input.radarrId !== undefined) {
    let q = deps.db.selectFrom('movies').select(['id', 'path']).where('library_id', '=', input.libraryId);
    q =
      input.tmdbId !== undefined
        ? q.where('tmdb_id', '=', input.tmdbId)
        : q.where('radarr_id', '=', input.radarrId ?? -1);
    const moved = await q.orderBy('updated_at', 'desc').executeTakeFirst();
    if (moved) {
      await deps.db
        .updateTable('movies')
        .set({
          ...known,
          path: input.path,
          video_file: videoFile,
          status,
          updated_at: now,
          last_scanned_at: now,
        })
        .where('id', '=', moved.id)
        .execute();
      log.info(
        { movieId: moved.id, status: 'moved', previousPath: moved.path, videoFile },
        'Movie scan completed',
      );
      return { movieId: moved.id, status: 'moved', videoFile, previousPath: moved.path };
    }
  }

  // Two scans of one new folder can race (at-least-once delivery): the unique key decides.
  const inserted = await deps.db
    .insertInto('movies')
    .values({
      library_id: input.libraryId,
      path: input.path,
      ...known,
      video_file: videoFile,
      status,
      last_scanned_at: now,
    })
    .onConflict((oc) => oc.columns(['library_id', 'path']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) {
    const row = await deps.db
      .selectFrom('movies')
      .select('id')
      .where('library_id', '=', input.libraryId)
      .where('path', '=', input.path)
      .executeTakeFirstOrThrow();
    return { movieId: row.id, status: 'updated', videoFile };
  }
  log.info({ movieId: inserted.id, status: 'created', videoFile }, 'Movie scan completed');
  return { movieId: inserted.id, status: 'created', videoFile };
}
