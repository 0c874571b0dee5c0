/**
 * PublishService — writes the movie's Kodi NFO and artwork into its folder.
 * - every write is atomic: temp file in the same folder, fsync, rename (then the folder is fsynced);
 * - a file whose content hash is unchanged is not rewritten (mtime stays);
 * - every download happens before the first write, so a failed download leaves the folder untouched.
 */
import { createHash, randomBytes } from 'node:crypto';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import { type DownloadedImage, imageExtension } from '../clients/images.ts';
import type { Db } from '../db/connect.ts';
import { AppError, permanent } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { DiscoveredFolder } from './discover.ts';
import { buildMovieNfo, type MovieMetadata, parseMovieNfo } from './nfo.ts';

export type PublishFs = Pick<typeof nodeFs, 'open' | 'rename' | 'unlink' | 'readFile' | 'mkdir'>;

export interface PublishDeps {
  db: Db;
  log: Logger;
  /** Downloads one artwork URL (the images client with the host policy applied). */
  download: (url: string) => Promise<DownloadedImage>;
  fs?: PublishFs;
  clock?: () => Date;
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function readIfExists(fs: PublishFs, file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Writes `bytes` to `file` atomically unless it already holds exactly these bytes.
 * Returns whether it wrote.
 */
export async function writeFileAtomic(fs: PublishFs, file: string, bytes: Buffer): Promise<boolean> {
  const current = await readIfExists(fs, file);
  if (current?.equals(bytes)) return false;
  const dir = nodePath.dirname(file);
  const tmp = nodePath.join(dir, `.${nodePath.basename(file)}.metarr-tmp-${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  // The rename is durable only once the directory entry is on disk; best effort (not on every FS).
  const dh = await fs.open(dir, 'r').catch(() => null);
  await dh?.sync().catch(() => {});
  await dh?.close().catch(() => {});
  return true;
}

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
  const fs = deps.fs ?? nodeFs;
  const log = deps.log.child({ service: 'PublishService', operation: 'publishMovie', movieId });
  const movie = await deps.db.selectFrom('movies').selectAll().where('id', '=', movieId).executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  const meta = (
    await deps.db
      .selectFrom('movie_metadata')
      .select('data')
      .where('movie_id', '=', movieId)
      .executeTakeFirst()
  )?.data as MovieMetadata | undefined;
  if (!meta) throw permanent('METADATA_MISSING', `movie ${movieId} has no metadata yet; run enrich-metadata`);
  const found = (
    await deps.db
      .selectFrom('movie_discovery')
      .select('data')
      .where('movie_id', '=', movieId)
      .executeTakeFirst()
  )?.data as DiscoveredFolder | undefined;
  if (!found)
    throw permanent('DISCOVERY_MISSING', `movie ${movieId} has not been discovered; run discover-assets`);
  const published = await deps.db
    .selectFrom('movie_published_files')
    .selectAll()
    .where('movie_id', '=', movieId)
    .execute();
  const record = new Map(published.map((p) => [p.file, p]));
  const chosen = await deps.db
    .selectFrom('movie_asset_candidates')
    .selectAll()
    .where('movie_id', '=', movieId)
    .where('rank', 'is not', null)
    .orderBy('type')
    .orderBy('rank')
    .execute();

  const folder = movie.path;
  const prefix = found.videoStem ? `${found.videoStem}-` : '';
  const result: PublishResult = { movieId, written: [], unchanged: [], removed: [], skipped: [] };

  // Hashes of the user's own artwork: a download identical to one of them is a duplicate.
  const seen = new Set<string>();
  for (const a of found.artwork) {
    if (record.has(a.file)) continue;
    const b = await readIfExists(fs, nodePath.join(folder, a.file));
    if (b) seen.add(sha256(b));
  }

  const planned: PlannedFile[] = [];
  let extra = 0;
  /** Places one candidate in a slot; false when it was refused or duplicates an image already placed. */
  const place = async (c: (typeof chosen)[number], role: string, baseName: string): Promise<boolean> => {
    // Unchanged source and file on disk still ours: no download at all.
    const prev = published.find(
      (p) => p.source_url === c.url && p.kind === role && p.file.startsWith(`${baseName}.`),
    );
    if (prev) {
      const onDisk = await readIfExists(fs, nodePath.join(folder, prev.file));
      if (onDisk && sha256(onDisk) === prev.content_hash && !seen.has(prev.content_hash)) {
        seen.add(prev.content_hash);
        planned.push({ file: prev.file, kind: role, bytes: null, hash: prev.content_hash, sourceUrl: c.url });
        return true;
      }
    }
    let img: DownloadedImage;
    try {
      img = await deps.download(c.url);
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
    for (const slot of list.filter((c) => c.selected)) {
      const role = slot.type === 'fanart' && (slot.rank ?? 0) > 0 ? 'extrafanart' : slot.type;
      const baseName = role === 'extrafanart' ? `extrafanart/fanart${extra + 1}` : `${prefix}${role}`;
      let candidate: (typeof chosen)[number] | undefined = slot;
      for (let tries = 0; candidate && tries < 4; tries++) {
        if (await place(candidate, role, baseName)) {
          if (role === 'extrafanart') extra++;
          break;
        }
        candidate = spares.shift();
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
    if (!(await readIfExists(fs, nodePath.join(folder, p.file)))) continue;
    planned.push({ file: p.file, kind: p.kind, bytes: null, hash: p.content_hash, sourceUrl: p.source_url });
  }

  // The NFO: our fields, plus the tags the user added to the existing one.
  const nfoName = found.videoStem ? `${found.videoStem}.nfo` : 'movie.nfo';
  const existingName = found.nfo?.file ?? nfoName;
  const existing = await readIfExists(fs, nodePath.join(folder, existingName));
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

  // Writes: images first, the NFO last, so Kodi never reads an NFO naming artwork not yet there.
  for (const p of planned) {
    const target = nodePath.join(folder, p.file);
    if (p.bytes === null) {
      result.unchanged.push(p.file);
      continue;
    }
    if (p.file.includes('/')) await fs.mkdir(nodePath.dirname(target), { recursive: true });
    if (await writeFileAtomic(fs, target, p.bytes)) result.written.push(p.file);
    else result.unchanged.push(p.file);
  }

  // Files we wrote before that the new set no longer has, and that nobody changed since: remove.
  const keep = new Set(planned.map((p) => p.file));
  for (const p of published) {
    if (keep.has(p.file)) continue;
    const onDisk = await readIfExists(fs, nodePath.join(folder, p.file));
    if (onDisk && sha256(onDisk) === p.content_hash && p.kind !== 'nfo') {
      await fs.unlink(nodePath.join(folder, p.file)).catch(() => {});
      result.removed.push(p.file);
    }
  }
  const now = (deps.clock ?? (() => new Date()))();
  await deps.db.transaction().execute(async (trx) => {
    let del = trx.deleteFrom('movie_published_files').where('movie_id', '=', movieId);
    if (keep.size) del = del.where('file', 'not in', [...keep]);
    await del.execute();
    for (const p of planned) {
      const changed = record.get(p.file)?.content_hash !== p.hash;
      if (!changed && record.get(p.file)?.source_url === p.sourceUrl) continue;
      await trx
        .insertInto('movie_published_files')
        .values({
          movie_id: movieId,
          file: p.file,
          kind: p.kind,
          content_hash: p.hash,
          source_url: p.sourceUrl,
          published_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['movie_id', 'file'])
            .doUpdateSet({ kind: p.kind, content_hash: p.hash, source_url: p.sourceUrl, published_at: now }),
        )
        .execute();
    }
  });
  log.info(
    { written: result.written, unchanged: result.unchanged.length, removed: result.removed },
    'Movie published',
  );
  return result;
}
