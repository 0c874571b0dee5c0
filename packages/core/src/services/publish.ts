/**
 * PublishService — writes the movie's Kodi NFO and artwork into its folder.
 * - every write is atomic: temp file in the same folder, fsync, rename (then the folder is fsynced);
 *   temp files a killed publish left behind are removed before the next one writes;
 * - a file whose content hash is unchanged is not rewritten (mtime stays);
 * - every download happens before the first write, so a failed download leaves the folder untouched;
 * - write-ahead: the planned files (name, hash, source) are recorded in `movie_published_files`
 *   (`pending_hash`) before the first write, so a publish killed between a rename and its final
 *   record still knows those files are Metarr's, not the user's;
 * - nothing is written through a symlink: a link at a target name is replaced, not followed, a
 *   symlinked `extrafanart` folder gets no files, and every write checks that the folder's real path
 *   is inside the library's real root at that moment (else UNSAFE_PATH, nothing written);
 * - a full disk is retryable with a long delay; a read-only or permission-denied folder fails
 *   permanently with what to fix.
 */
import { createHash } from 'node:crypto';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import type { Selectable } from 'kysely';
import { limiter } from '../async.ts';
import { type DownloadedImage, imageExtension } from '../clients/images.ts';
import type { Db } from '../db/connect.ts';
import type { MoviePublishedFilesTable } from '../db/schema.ts';
import { AppError, permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import { type PublishFs, readOwnFile, removeStaleTempFiles, writeFileAtomic } from '../files/atomicFile.ts';
import { publishFsError, unlessAppError } from '../files/fsErrors.ts';
import { buildMovieNfo, type MovieMetadata, parseMovieNfo } from '../files/nfo.ts';
import {
  assertFolderThere,
  assertInsideLibrary,
  ensureRealDir,
  libraryGuardedFs,
} from '../files/safeWrite.ts';
import type { Logger } from '../log.ts';
import type { DiscoveredFolder } from '../media.ts';
import { movieDocument } from '../records/movies.ts';
import { UNCONFIRMED_HASH } from '../records/publishedFiles.ts';

export {
  isTempFileName,
  type PublishFs,
  removeStaleTempFiles,
  writeFileAtomic,
} from '../files/atomicFile.ts';
export { DISK_FULL_PATIENCE_SECONDS, DISK_FULL_RETRY_SECONDS, publishFsError } from '../files/fsErrors.ts';
export { assertInsideLibrary, libraryGuardedFs } from '../files/safeWrite.ts';

export interface PublishDeps {
  db: Db;
  log: Logger;
  /** Downloads one artwork URL (the images client with the host policy applied). */
  download: (url: string) => Promise<DownloadedImage>;
  fs?: PublishFs;
  clock?: () => Date;
  /** The job attempt's write fence (see fence.ts). */
  fence?: Fence;
}

const DOWNLOADS_AT_ONCE = 4; // artwork downloads one publish runs at once

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

type PublishedRow = Selectable<MoviePublishedFilesTable>;

interface PlannedFile {
  /** Relative to the movie folder. */
  file: string;
  kind: string;
  bytes: Buffer | null;
  hash: string;
  sourceUrl: string | null;
}

export interface PublishResult {
  movieId: number;
  written: string[];
  unchanged: string[];
  removed: string[];
  skipped: { url: string; reason: string }[];
}

export async function publishMovie(
  deps: PublishDeps,
  movieId: number,
  opts: { alsoMovieNfo?: boolean } = {},
): Promise<PublishResult> {
  const log = deps.log.child({ service: 'PublishService', operation: 'publishMovie', movieId });
  const movie = await deps.db
    .selectFrom('movies')
    .innerJoin('libraries', 'libraries.id', 'movies.library_id')
    .selectAll('movies')
    .select('libraries.path as libraryPath')
    .where('movies.id', '=', movieId)
    .executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  const fs = libraryGuardedFs(deps.fs ?? nodeFs, movie.libraryPath);
  const meta = await movieDocument<MovieMetadata>(deps.db, 'movie_metadata', movieId);
  if (!meta) throw permanent('METADATA_MISSING', `movie ${movieId} has no metadata yet; run enrich-metadata`);
  const found = await movieDocument<DiscoveredFolder>(deps.db, 'movie_discovery', movieId);
  if (!found)
    throw permanent('DISCOVERY_MISSING', `movie ${movieId} has not been discovered; run discover-assets`);
  const folder = movie.path;
  await assertFolderThere(fs, folder, movie.libraryPath);
  // A symlinked extrafanart folder may lead anywhere: it gets no files, and nothing in it is read.
  const extraDir = nodePath.join(folder, 'extrafanart');
  const extraBlocked = await fs.lstat(extraDir).then(
    (st) => !st.isDirectory(),
    () => false,
  );
  if (extraBlocked)
    log.warn({ folder: extraDir }, 'extrafanart is not a real folder (a symlink?); not writing into it');
  const readInFolder = (file: string) =>
    extraBlocked && file.startsWith('extrafanart/')
      ? Promise.resolve(null)
      : readOwnFile(fs, nodePath.join(folder, file));

  // The record, with the write-ahead entries of an interrupted publish settled: a planned write
  // whose bytes are on disk happened (the file is ours with that hash); otherwise the last
  // confirmed hash stands.
  const published = await Promise.all(
    (
      await deps.db.selectFrom('movie_published_files').selectAll().where('movie_id', '=', movieId).execute()
    ).map(async (p) => {
      if (p.pending_hash === null) return p;
      const onDisk = await readInFolder(p.file);
      return onDisk && sha256(onDisk) === p.pending_hash
        ? { ...p, content_hash: p.pending_hash, source_url: p.pending_source_url }
        : p;
    }),
  );
  const record = new Map(published.map((p) => [p.file, p]));
  const chosen = await deps.db
    .selectFrom('movie_asset_candidates')
    .selectAll()
    .where('movie_id', '=', movieId)
    .where('rank', 'is not', null)
    .orderBy('type')
    .orderBy('rank')
    .execute();

  const prefix = found.videoStem ? `${found.videoStem}-` : '';
  const result: PublishResult = { movieId, written: [], unchanged: [], removed: [], skipped: [] };

  // Hashes of the user's own artwork: a download identical to one of them is a duplicate.
  const seen = new Set<string>();
  for (const a of found.artwork) {
    if (record.has(a.file)) continue;
    const b = await readInFolder(a.file);
    if (b) seen.add(sha256(b));
  }

  // Downloads of the selected images start together (a few at a time), so a movie's artwork costs
  // about one round trip to the CDN, not one per image; placing them below stays in order (ranks,
  // duplicates, spares). An image with a published record is fetched only if placing it needs it.
  const fetched = new Map<string, Promise<DownloadedImage>>();
  const limit = limiter(DOWNLOADS_AT_ONCE);
  const download = (url: string): Promise<DownloadedImage> => {
    let p = fetched.get(url);
    if (!p) {
      p = limit(() => deps.download(url));
      p.catch(() => {}); // awaited by `place`; one never placed must not be an unhandled rejection
      fetched.set(url, p);
    }
    return p;
  };
  const known = new Set(published.map((p) => p.source_url));
  for (const c of chosen) if (c.selected && !known.has(c.url)) void download(c.url);

  const planned: PlannedFile[] = [];
  let extra = 0;
  /** Places one candidate in a slot; false when it was refused or duplicates an image already placed. */
  const place = async (c: (typeof chosen)[number], role: string, baseName: string): Promise<boolean> => {
    // Unchanged source and file on disk still ours: no download at all.
    const prev = published.find(
      (p) => p.source_url === c.url && p.kind === role && p.file.startsWith(`${baseName}.`),
    );
    if (prev) {
      const onDisk = await readInFolder(prev.file);
      if (onDisk && sha256(onDisk) === prev.content_hash && !seen.has(prev.content_hash)) {
        seen.add(prev.content_hash);
        planned.push({ file: prev.file, kind: role, bytes: null, hash: prev.content_hash, sourceUrl: c.url });
        return true;
      }
    }
    let img: DownloadedImage;
    try {
      img = await download(c.url);
    } catch (err) {
      // A bad image (wrong host, type, size) is skipped; a transient failure aborts before any write.
      if (err instanceof AppError && !err.retryable) {
        log.warn({ url: c.url, code: err.code, error: err.message }, 'Artwork candidate rejected');
        result.skipped.push({ url: c.url, reason: err.message });
        return false;
      }
      throw err;
    }
    const hash = sha256(img.bytes);
    if (seen.has(hash)) {
      result.skipped.push({ url: c.url, reason: 'duplicate of an image already in the folder' });
      return false;
    }
    seen.add(hash);
    planned.push({
      file: `${baseName}.${imageExtension(img.type)}`,
      kind: role,
      bytes: img.bytes,
      hash,
      sourceUrl: c.url,
    });
    return true;
  };
  const byType = new Map<string, typeof chosen>();
  for (const c of chosen) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  for (const list of byType.values()) {
    // Unselected candidates, best first, stand in for a selected one that is refused or a duplicate.
    const spares = list.filter((c) => !c.selected);
    const slots = list.filter((c) => c.selected);
    for (let slot = slots.shift(); slot; slot = slots.shift()) {
      const role = slot.type === 'fanart' && (slot.rank ?? 0) > 0 ? 'extrafanart' : slot.type;
      if (role === 'extrafanart' && extraBlocked) {
        result.skipped.push({ url: slot.url, reason: 'extrafanart is not a real folder (a symlink?)' });
        continue;
      }
      const baseName = role === 'extrafanart' ? `extrafanart/fanart${extra + 1}` : `${prefix}${role}`;
      let candidate: (typeof chosen)[number] | undefined = slot;
      for (let tries = 0; candidate && tries < 4; tries++) {
        if (await place(candidate, role, baseName)) {
          if (role === 'extrafanart') extra++;
          break;
        }
        // A refused main fanart takes the next selected backdrop (an extrafanart-to-be) before a spare:
        // otherwise it stays empty while the extras are written.
        candidate = role === 'fanart' ? (slots.shift() ?? spares.shift()) : spares.shift();
      }
    }
  }

  // A locked artwork type gets no new image (select-assets picks none for it): the file Metarr
  // published before stays, untouched, and keeps its place in the NFO.
  const locks = new Set(
    (
      await deps.db.selectFrom('movie_field_locks').select('field').where('movie_id', '=', movieId).execute()
    ).map((l) => l.field),
  );
  const plannedFiles = new Set(planned.map((p) => p.file));
  for (const p of published) {
    const lockedAs = p.kind === 'extrafanart' ? 'fanart' : p.kind;
    if (p.kind === 'nfo' || plannedFiles.has(p.file) || !(locks.has(p.kind) || locks.has(lockedAs))) continue;
    if (!(await readInFolder(p.file))) continue;
    planned.push({ file: p.file, kind: p.kind, bytes: null, hash: p.content_hash, sourceUrl: p.source_url });
  }

  // The NFO: our fields, plus the tags the user added to the existing one.
  const nfoName = found.videoStem ? `${found.videoStem}.nfo` : 'movie.nfo';
  const existingName = found.nfo?.file ?? nfoName;
  const existing = await readInFolder(existingName);
  const parsed = existing ? parseMovieNfo(existing.toString('utf8')) : null;
  if (parsed && !parsed.ok)
    log.warn({ nfo: existingName, error: parsed.error }, 'Existing NFO is malformed; its tags are not kept');
  const posterUrl = planned.find((p) => p.kind === 'poster')?.sourceUrl ?? undefined;
  const fanartUrls = planned
    .filter((p) => p.kind === 'fanart' || p.kind === 'extrafanart')
    .map((p) => p.sourceUrl as string);
  const container =
    found.videoFile && !found.disc ? nodePath.extname(found.videoFile).slice(1).toLowerCase() : undefined;
  const nfo = Buffer.from(
    buildMovieNfo(meta, {
      artwork: { poster: posterUrl, fanart: fanartUrls },
      ...(container && { fileinfo: { container } }),
      userNodes: parsed?.ok ? parsed.userNodes : [],
    }),
    'utf8',
  );
  const nfoFiles = [nfoName, ...(opts.alsoMovieNfo && nfoName !== 'movie.nfo' ? ['movie.nfo'] : [])];
  for (const f of nfoFiles)
    planned.push({ file: f, kind: 'nfo', bytes: nfo, hash: sha256(nfo), sourceUrl: null });

  try {
    // Checked before the write-ahead record too, so a folder that left the library gets no row.
    await assertInsideLibrary(folder, movie.libraryPath);
    await writeFiles(deps, { fs, log, folder, movieId, planned, published, record, extraBlocked, result });
  } catch (err) {
    throw publishFsError(err, folder);
  }
  log.info(
    { written: result.written, unchanged: result.unchanged.length, removed: result.removed },
    'Movie published',
  );
  return result;
}

/** The write phase: temp clean-up, write-ahead record, writes, removals, final record. */
async function writeFiles(
  deps: PublishDeps,
  s: {
    fs: PublishFs;
    log: Logger;
    folder: string;
    movieId: number;
    planned: PlannedFile[];
    published: PublishedRow[];
    record: Map<string, PublishedRow>;
    extraBlocked: boolean;
    result: PublishResult;
  },
): Promise<void> {
  const { fs, folder, movieId, planned, published, record, result } = s;
  const inFolder = (file: string) => nodePath.join(folder, file);
  const now = (deps.clock ?? (() => new Date()))();

  // Temp files of a publish killed between its temp write and its rename.
  const stale = [
    ...(await removeStaleTempFiles(fs, folder)),
    ...(s.extraBlocked
      ? []
      : (await removeStaleTempFiles(fs, inFolder('extrafanart'))).map((f) => `extrafanart/${f}`)),
  ];
  if (stale.length) s.log.info({ files: stale }, 'Stale temp files of an interrupted publish removed');

  // Files whose bytes on disk already match need no write.
  const writes: PlannedFile[] = [];
  for (const p of planned) {
    if (p.bytes === null) continue;
    const current = await readOwnFile(fs, inFolder(p.file));
    if (current?.equals(p.bytes)) p.bytes = null;
    else writes.push(p);
  }

  // Write-ahead: the files about to be written are recorded as ours before the first one lands.
  if (writes.length) {
    await fencedWrite(deps.db, deps.fence, async (trx) => {
      for (const p of writes) {
        await trx
          .insertInto('movie_published_files')
          .values({
            movie_id: movieId,
            file: p.file,
            kind: p.kind,
            // No confirmed hash yet (UNCONFIRMED_HASH matches no file): if the write never happens,
            // whatever is on disk under this name is not taken for a file Metarr wrote and the user
            // changed (a foreign NFO would otherwise be "adopted" as the user's edits).
            content_hash: UNCONFIRMED_HASH,
            source_url: p.sourceUrl,
            published_at: now,
            pending_hash: p.hash,
            pending_source_url: p.sourceUrl,
          })
          .onConflict((oc) =>
            oc
              .columns(['movie_id', 'file'])
              .doUpdateSet({ pending_hash: p.hash, pending_source_url: p.sourceUrl }),
          )
          .execute();
      }
    });
  }

  // Writes: images first, the NFO last, so Kodi never reads an NFO naming artwork not yet there.
  for (const p of planned) {
    const target = inFolder(p.file);
    if (p.bytes === null) {
      result.unchanged.push(p.file);
      continue;
    }
    if (p.file.includes('/')) await ensureRealDir(fs, nodePath.dirname(target));
    if (await writeFileAtomic(fs, target, p.bytes)) result.written.push(p.file);
    else result.unchanged.push(p.file);
  }

  // Files we wrote before that the new set no longer has, and that nobody changed since: remove.
  const keep = new Set(planned.map((p) => p.file));
  for (const p of published) {
    if (keep.has(p.file) || p.kind === 'nfo') continue;
    if (s.extraBlocked && p.file.startsWith('extrafanart/')) continue;
    const onDisk = await readOwnFile(fs, inFolder(p.file));
    if (onDisk && sha256(onDisk) === p.content_hash) {
      await fs.unlink(inFolder(p.file)).catch(unlessAppError);
      result.removed.push(p.file);
    }
  }
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    let del = trx.deleteFrom('movie_published_files').where('movie_id', '=', movieId);
    if (keep.size) del = del.where('file', 'not in', [...keep]);
    await del.execute();
    for (const p of planned) {
      const prev = record.get(p.file);
      const pending = writes.includes(p) || (prev?.pending_hash ?? null) !== null;
      if (!pending && prev?.content_hash === p.hash && prev.source_url === p.sourceUrl) continue;
      const row = { kind: p.kind, content_hash: p.hash, source_url: p.sourceUrl, published_at: now };
      const settled = { pending_hash: null, pending_source_url: null };
      await trx
        .insertInto('movie_published_files')
        .values({ movie_id: movieId, file: p.file, ...row, ...settled })
        .onConflict((oc) => oc.columns(['movie_id', 'file']).doUpdateSet({ ...row, ...settled }))
        .execute();
    }
  });
}
