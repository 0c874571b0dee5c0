import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import { mapLimit } from '../async.ts';
import type { Db } from '../db/connect.ts';
import { retryable } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import { idsFromNfo } from '../files/nfo.ts';
import type { Logger } from '../log.ts';
import { isJunkEntry } from '../media.ts';

/**
 * LibraryScanService — lists a library's movie folders and reconciles them with the movies table:
 * new and changed folders are returned for scanning, vanished folders are marked missing, and a
 * folder that reappears at a new path with the same TMDB/IMDb id is recorded as a move (moving a
 * folder by hand sends no webhook, so this is the only place a move is noticed).
 */

export interface LibraryScanFs {
  readdir(path: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
  stat(path: string): Promise<{ size: number; mtimeMs: number; isDirectory(): boolean }>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
}

export interface LibraryFolder {
  path: string;
  name: string;
  /** Hash of the folder's direct entries (name, size, mtime): any added, removed or rewritten file changes it. */
  fingerprint: string;
  /** The folder's NFO file, read only when needed to recognise a move. */
  nfo: string | null;
}

export interface FolderIds {
  tmdbId?: number;
  imdbId?: string;
}

/** `{tmdb-603}`, `[tmdbid-603]`, `{imdb-tt0133093}`, `[imdbid-tt0133093]` — the *arr naming tokens. */
export function idsFromFolderName(name: string): FolderIds {
  const ids: FolderIds = {};
  const tmdb = /[[{]tmdb(?:id)?[-=](\d{1,9})[\]}]/i.exec(name);
  if (tmdb?.[1]) ids.tmdbId = Number(tmdb[1]);
  const imdb = /[[{]imdb(?:id)?[-=](tt\d{5,10})[\]}]/i.exec(name);
  if (imdb?.[1]) ids.imdbId = imdb[1].toLowerCase();
  return ids;
}

/** `The Matrix (1999) {tmdb-603}` → title `The Matrix`, year 1999. */
export function titleYearFromFolderName(name: string): { title?: string; year?: number } {
  const clean = name.replace(/[[{][^\]}]*[\]}]/g, '').trim();
  const m = /^(.*?)[\s.]*\((\d{4})\)\s*$/.exec(clean);
  if (m?.[1] && m[2]) return { title: m[1].trim(), year: Number(m[2]) };
  return clean ? { title: clean } : {};
}

/**
 * The movie folders one level under the root, each fingerprinted from its direct entries.
 * A root that cannot be read (an unmounted share) is a retryable error, never "every movie vanished".
 */
export async function listMovieFolders(
  deps: { fs?: LibraryScanFs; log: Logger },
  root: string,
  onProgress?: (done: number, total: number) => void | Promise<void>,
): Promise<LibraryFolder[]> {
  const fs = deps.fs ?? (nodeFs as unknown as LibraryScanFs);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    throw retryable(
      'LIBRARY_ROOT_UNAVAILABLE',
      `library root ${root} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      err,
    );
  }
  const dirs = entries.filter((e) => e.isDirectory() && !isJunkEntry(e.name)).map((e) => e.name);
  dirs.sort();
  let done = 0;
  const folders = await mapLimit(dirs, 16, async (name) => {
    const path = nodePath.join(root, name);
    const hash = createHash('sha1');
    let nfo: string | null = null;
    try {
      const inner = await fs.readdir(path, { withFileTypes: true });
      inner.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of inner) {
        if (isJunkEntry(e.name)) continue;
        if (e.isDirectory()) {
          hash.update(`d:${e.name}\n`);
          continue;
        }
        const st = await fs.stat(nodePath.join(path, e.name));
        hash.update(`f:${e.name}:${st.size}:${Math.trunc(st.mtimeMs)}\n`);
        if (e.name.toLowerCase().endsWith('.nfo') && (nfo === null || e.name.toLowerCase() === 'movie.nfo'))
          nfo = e.name;
      }
    } catch (err) {
      // A folder that vanished mid-listing is simply not there; anything else is worth a retry.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return null;
    }
    done++;
    if (onProgress) await onProgress(done, dirs.length);
    return { path, name, fingerprint: hash.digest('hex').slice(0, 20), nfo };
  });
  return folders.filter((f): f is LibraryFolder => f !== null);
}

export interface ScanTarget extends FolderIds {
  path: string;
  fingerprint: string;
  reason: 'new' | 'changed' | 'moved' | 'returned';
  title?: string;
  year?: number;
}

export interface ReconcileResult {
  toScan: ScanTarget[];
  unchanged: number;
  missing: { movieId: number; path: string }[];
  moved: { movieId: number; from: string; to: string }[];
}

/**
 * Compares the listed folders with what the library's movies and last scan recorded. Writes only
 * moves (path updates) and missing marks; the caller enqueues a scan per `toScan` target and then
 * records the fingerprints with `recordFolderFingerprints`.
 */
export async function reconcileLibrary(
  deps: { db: Db; fs?: LibraryScanFs; log: Logger; clock?: () => Date; fence?: Fence },
  input: { libraryId: number; folders: LibraryFolder[] },
): Promise<ReconcileResult> {
  const fs = deps.fs ?? (nodeFs as unknown as LibraryScanFs);
  const now = (deps.clock ?? (() => new Date()))();
  const log = deps.log.child({ service: 'LibraryScanService', operation: 'reconcileLibrary' });
  const [movies, seen] = await Promise.all([
    deps.db
      .selectFrom('movies')
      .select(['id', 'path', 'tmdb_id', 'imdb_id', 'status'])
      .where('library_id', '=', input.libraryId)
      .execute(),
    deps.db
      .selectFrom('library_folders')
      .select(['path', 'fingerprint'])
      .where('library_id', '=', input.libraryId)
      .execute(),
  ]);
  const byPath = new Map(movies.map((m) => [m.path, m]));
  const fingerprints = new Map(seen.map((s) => [s.path, s.fingerprint]));
  const listed = new Set(input.folders.map((f) => f.path));

  // Movies whose folder is gone are candidates for a move before they are declared missing.
  const vanished = movies.filter((m) => !listed.has(m.path));
  const byTmdb = new Map<number, (typeof movies)[number]>();
  const byImdb = new Map<string, (typeof movies)[number]>();
  for (const m of vanished) {
    if (m.tmdb_id !== null && !byTmdb.has(m.tmdb_id)) byTmdb.set(m.tmdb_id, m);
    if (m.imdb_id !== null && !byImdb.has(m.imdb_id.toLowerCase())) byImdb.set(m.imdb_id.toLowerCase(), m);
  }
  const claimed = new Set<number>();

  // New folders without id tokens in their name: their NFOs are read up front, 16 at a time (one
  // by one, a first scan of 10,000 folders spent ~1 s here).
  const nfoIds = new Map<string, FolderIds>();
  const unnamed = input.folders.filter((f) => {
    if (byPath.has(f.path) || !f.nfo) return false;
    const ids = idsFromFolderName(f.name);
    return ids.tmdbId === undefined && ids.imdbId === undefined;
  });
  await mapLimit(unnamed, 16, async (f) => {
    const ids = await fs
      .readFile(nodePath.join(f.path, f.nfo as string), 'utf8')
      .then(idsFromNfo)
      .catch(() => ({}));
    nfoIds.set(f.path, ids);
  });

  const result: ReconcileResult = { toScan: [], unchanged: 0, missing: [], moved: [] };
  for (const folder of input.folders) {
    const movie = byPath.get(folder.path);
    if (movie) {
      if (movie.status === 'missing') result.toScan.push(target(folder, 'returned', {}));
      else if (fingerprints.get(folder.path) !== folder.fingerprint)
        result.toScan.push(target(folder, 'changed', {}));
      else result.unchanged++;
      continue;
    }
    let ids = idsFromFolderName(folder.name);
    // A new folder's NFO ids are recorded with its movie, so a later move can be recognised by them.
    if (ids.tmdbId === undefined && ids.imdbId === undefined && folder.nfo) {
      ids = nfoIds.get(folder.path) ?? {};
    }
    const candidate =
      (ids.tmdbId !== undefined ? byTmdb.get(ids.tmdbId) : undefined) ??
      (ids.imdbId !== undefined ? byImdb.get(ids.imdbId) : undefined);
    if (candidate && !claimed.has(candidate.id)) {
      claimed.add(candidate.id);
      result.moved.push({ movieId: candidate.id, from: candidate.path, to: folder.path });
      log.info({ movieId: candidate.id, from: candidate.path, to: folder.path }, 'Movie folder moved');
      result.toScan.push(target(folder, 'moved', ids));
    } else {
      result.toScan.push(target(folder, 'new', ids));
    }
  }

  const gone = vanished.filter((m) => !claimed.has(m.id) && m.status !== 'missing');
  // Moves and missing marks land together, in one fenced transaction.
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    for (const m of result.moved)
      await trx
        .updateTable('movies')
        .set({ path: m.to, updated_at: now })
        .where('id', '=', m.movieId)
        .execute();
    for (let i = 0; i < gone.length; i += 1000) {
      const chunk = gone.slice(i, i + 1000);
      await trx
        .updateTable('movies')
        .set({ status: 'missing', updated_at: now })
        .where(
          'id',
          'in',
          chunk.map((m) => m.id),
        )
        .execute();
    }
  });
  result.missing = gone.map((m) => ({ movieId: m.id, path: m.path }));
  if (gone.length) log.warn({ libraryId: input.libraryId, count: gone.length }, 'Movie folders missing');
  return result;
}

function target(folder: LibraryFolder, reason: ScanTarget['reason'], ids: FolderIds): ScanTarget {
  const nameIds = reason === 'new' || reason === 'moved' ? ids : idsFromFolderName(folder.name);
  return {
    path: folder.path,
    fingerprint: folder.fingerprint,
    reason,
    ...nameIds,
    ...(reason === 'new' && titleYearFromFolderName(folder.name)),
  };
}

/** Records what was seen, after the scans were enqueued, and forgets folders that are gone. */
export async function recordFolderFingerprints(
  deps: { db: Db; clock?: () => Date; fence?: Fence },
  input: { libraryId: number; scanned: { path: string; fingerprint: string }[]; listedPaths: string[] },
): Promise<void> {
  const now = (deps.clock ?? (() => new Date()))();
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    for (let i = 0; i < input.scanned.length; i += 1000) {
      const chunk = input.scanned.slice(i, i + 1000);
      await trx
        .insertInto('library_folders')
        .values(
          chunk.map((s) => ({
            library_id: input.libraryId,
            path: s.path,
            fingerprint: s.fingerprint,
            seen_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['library_id', 'path']).doUpdateSet((eb) => ({
            fingerprint: eb.ref('excluded.fingerprint'),
            seen_at: eb.ref('excluded.seen_at'),
          })),
        )
        .execute();
    }
    const stale = await trx
      .selectFrom('library_folders')
      .select('path')
      .where('library_id', '=', input.libraryId)
      .execute();
    const listed = new Set(input.listedPaths);
    const gone = stale.map((s) => s.path).filter((p) => !listed.has(p));
    for (let i = 0; i < gone.length; i += 1000) {
      await trx
        .deleteFrom('library_folders')
        .where('library_id', '=', input.libraryId)
        .where('path', 'in', gone.slice(i, i + 1000))
        .execute();
    }
  });
}
