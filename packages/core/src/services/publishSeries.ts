/**
 * SeriesPublishService — writes a series' NFOs: `tvshow.nfo` in the series folder and, for every
 * episode video file whose episodes have metadata, `<video basename>.nfo` (one `<episodedetails>` per
 * episode it holds, in order). Atomic writes (temp + fsync + rename) through the library-guarded fs,
 * never a rewrite of unchanged bytes, the user's own tags kept, and a write-ahead record
 * (`series_published_files.pending_hash` before the write, `content_hash` after) as movies have.
 * Episode thumbnails: `<video basename>-thumb.jpg` from the episode's TMDB still, downloaded through
 * `deps.download` (the image client's host/type/size checks) before any write, recorded with its
 * source URL; an unchanged still whose file is still ours is not downloaded again. Series and season
 * artwork are not published yet.
 */
import { createHash } from 'node:crypto';
import nodePath from 'node:path';
import type { DownloadedImage } from '../clients/images.ts';
import type { Db } from '../db/connect.ts';
import { AppError, permanent } from '../errors.ts';
import { type PublishFs, readOwnFile, removeStaleTempFiles, writeFileAtomic } from '../files/atomicFile.ts';
import { assertFolderThere, libraryGuardedFs } from '../files/safeWrite.ts';
import type { Logger } from '../log.ts';
import { episodeThumbFileName } from '../tv/artwork.ts';
import type { EpisodeMetadata, SeriesMetadata } from '../tv/metadata.ts';
import { episodeNfo, tvshowNfo } from '../tv/nfo.ts';

export interface SeriesPublishDeps {
  db: Db;
  fs: PublishFs;
  log: Logger;
  clock?: () => Date;
  /** Fetches a provider image (checked host, type, size); without it no thumbnail is published. */
  download?: (url: string) => Promise<DownloadedImage>;
}

export interface SeriesPublishResult {
  seriesId: number;
  skipped?: string;
  /** Files written, relative to the series folder. */
  written: string[];
  unchanged: string[];
  /** Episode NFOs and thumbnails Metarr wrote for a video file that is gone (deleted or renamed), removed. */
  removed: string[];
  /** Thumbnails not published: the image was refused (wrong type, too large …). */
  refused: { url: string; reason: string }[];
  /** The series folder (what players are told about). */
  path: string;
  libraryId: number;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const nfoOf = (videoFile: string) => videoFile.replace(/\.[^./]+$/, '') + '.nfo';

export async function publishSeries(deps: SeriesPublishDeps, seriesId: number): Promise<SeriesPublishResult> {
  const log = deps.log.child({ service: 'SeriesPublishService', operation: 'publishSeries', seriesId });
  const now = (deps.clock ?? (() => new Date()))();
  const series = await deps.db
    .selectFrom('series')
    .innerJoin('libraries', 'libraries.id', 'series.library_id')
    .select([
      'series.id',
      'series.path',
      'series.metadata',
      'series.status',
      'series.library_id',
      'libraries.path as root',
    ])
    .where('series.id', '=', seriesId)
    .executeTakeFirst();
  if (!series) throw permanent('SERIES_NOT_FOUND', `series ${seriesId} does not exist`);
  const result: SeriesPublishResult = {
    seriesId,
    written: [],
    unchanged: [],
    removed: [],
    refused: [],
    path: series.path,
    libraryId: series.library_id,
  };
  if (series.status !== 'present') return { ...result, skipped: `the series is ${series.status}` };
  if (series.metadata === null) return { ...result, skipped: 'the series has no metadata yet' };
  const meta = series.metadata as SeriesMetadata;
  const fs = libraryGuardedFs(deps.fs, series.root);
  await assertFolderThere(fs, series.path, series.root);

  // What to write: tvshow.nfo, and each file's episode NFO (its episodes, in order, all with metadata).
  const links = await deps.db
    .selectFrom('episode_file_episodes as l')
    .innerJoin('episode_files as f', 'f.id', 'l.file_id')
    .innerJoin('episodes as e', 'e.id', 'l.episode_id')
    .select(['f.file', 'l.position', 'e.metadata', 'e.title', 'e.plot', 'e.air_date'])
    .where('f.series_id', '=', seriesId)
    .orderBy('f.file')
    .orderBy('l.position')
    .execute();
  const byFile = new Map<string, EpisodeMetadata[] | null>();
  for (const l of links) {
    const list = byFile.has(l.file) ? byFile.get(l.file) : [];
    if (list === null || list === undefined) continue;
    if (l.metadata === null) {
      byFile.set(l.file, null);
      continue;
    }
    // The row's title/plot/air date are the truth (a locked field may differ from the provider's).
    const m = l.metadata as EpisodeMetadata;
    list.push({ ...m, title: l.title, plot: l.plot, aired: l.air_date });
    byFile.set(l.file, list);
  }
  const nfos: { file: string; kind: string; build: (existing: string | null) => string }[] = [
    { file: 'tvshow.nfo', kind: 'tvshow-nfo', build: (x) => tvshowNfo(meta, x).xml },
  ];
  for (const [file, episodes] of byFile) {
    if (!episodes?.length) continue;
    nfos.push({ file: nfoOf(file), kind: 'episode-nfo', build: (x) => episodeNfo(episodes, x).xml });
  }

  const folders = new Set(nfos.map((p) => nodePath.dirname(nodePath.join(series.path, p.file))));
  for (const dir of folders) await removeStaleTempFiles(fs, dir);
  // bytes null: the file on disk is already these bytes (an unchanged thumbnail, not downloaded).
  const planned: {
    file: string;
    kind: string;
    bytes: Buffer | null;
    hash: string;
    sourceUrl: string | null;
  }[] = [];
  for (const p of nfos) {
    const existing = await readOwnFile(fs, nodePath.join(series.path, p.file));
    const bytes = Buffer.from(p.build(existing ? existing.toString('utf8') : null), 'utf8');
    planned.push({ file: p.file, kind: p.kind, bytes, hash: sha256(bytes), sourceUrl: null });
  }
  if (deps.download) planned.push(...(await plannedThumbs(deps, fs, series.path, seriesId, byFile, result)));

  // Write ahead: the planned hashes first, so a publish killed mid-way still owns what it wrote.
  await deps.db.transaction().execute(async (trx) => {
    for (const p of planned)
      await trx
        .insertInto('series_published_files')
        .values({
          series_id: seriesId,
          file: p.file,
          kind: p.kind,
          pending_hash: p.hash,
          source_url: p.sourceUrl,
          published_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['series_id', 'file']).doUpdateSet((eb) => ({
            pending_hash: eb.ref('excluded.pending_hash'),
            source_url: eb.ref('excluded.source_url'),
          })),
        )
        .execute();
  });
  for (const p of planned) {
    const wrote = p.bytes ? await writeFileAtomic(fs, nodePath.join(series.path, p.file), p.bytes) : false;
    (wrote ? result.written : result.unchanged).push(p.file);
    await deps.db
      .updateTable('series_published_files')
      .set({ content_hash: p.hash, pending_hash: null, ...(wrote && { published_at: now }) })
      .where('series_id', '=', seriesId)
      .where('file', '=', p.file)
      .execute();
  }
  result.removed = await removeStaleEpisodeFiles(deps.db, fs, series.path, seriesId);
  log.info(
    { written: result.written.length, unchanged: result.unchanged.length, removed: result.removed.length },
    'Series NFOs and thumbnails published',
  );
  return result;
}

/**
 * Each video file's thumbnail from its first episode's still. A still whose recorded file is still
 * ours on disk is planned without a download; every other one is downloaded before anything is
 * written (a refused image is skipped, a transient failure fails the publish with nothing written).
 */
async function plannedThumbs(
  deps: SeriesPublishDeps,
  fs: PublishFs,
  folder: string,
  seriesId: number,
  byFile: ReadonlyMap<string, EpisodeMetadata[] | null>,
  result: SeriesPublishResult,
) {
  const download = deps.download as (url: string) => Promise<DownloadedImage>;
  const published = await deps.db
    .selectFrom('series_published_files')
    .select(['file', 'content_hash', 'source_url'])
    .where('series_id', '=', seriesId)
    .where('kind', '=', 'episode-thumb')
    .execute();
  const out: { file: string; kind: string; bytes: Buffer | null; hash: string; sourceUrl: string }[] = [];
  for (const [file, episodes] of byFile) {
    const still = episodes?.[0]?.still;
    if (!still) continue;
    const thumb = episodeThumbFileName(file);
    const prev = published.find((p) => p.file === thumb && p.source_url === still);
    if (prev?.content_hash) {
      const onDisk = await readOwnFile(fs, nodePath.join(folder, thumb));
      if (onDisk && sha256(onDisk) === prev.content_hash) {
        out.push({
          file: thumb,
          kind: 'episode-thumb',
          bytes: null,
          hash: prev.content_hash,
          sourceUrl: still,
        });
        continue;
      }
    }
    try {
      const img = await download(still);
      out.push({
        file: thumb,
        kind: 'episode-thumb',
        bytes: img.bytes,
        hash: sha256(img.bytes),
        sourceUrl: still,
      });
    } catch (err) {
      if (!(err instanceof AppError) || err.retryable) throw err;
      deps.log.warn(
        { service: 'SeriesPublishService', url: still, code: err.code, error: err.message },
        'Episode thumbnail refused',
      );
      result.refused.push({ url: still, reason: err.message });
    }
  }
  return out;
}

/**
 * The episode NFOs and thumbnails Metarr wrote whose video file is gone (Sonarr deleted or renamed it): removed when
 * the file on disk is still exactly what Metarr wrote (its recorded or pending hash); a file the user
 * changed since is theirs and stays. The record goes either way.
 */
async function removeStaleEpisodeFiles(
  db: Db,
  fs: PublishFs,
  folder: string,
  seriesId: number,
): Promise<string[]> {
  const [files, published] = await Promise.all([
    db.selectFrom('episode_files').select('file').where('series_id', '=', seriesId).execute(),
    db
      .selectFrom('series_published_files')
      .select(['file', 'content_hash', 'pending_hash'])
      .where('series_id', '=', seriesId)
      .where('kind', 'in', ['episode-nfo', 'episode-thumb'])
      .execute(),
  ]);
  const current = new Set(files.flatMap((f) => [nfoOf(f.file), episodeThumbFileName(f.file)]));
  const removed: string[] = [];
  for (const p of published) {
    if (current.has(p.file)) continue;
    const target = nodePath.join(folder, p.file);
    const bytes = await readOwnFile(fs, target);
    if (bytes) {
      const hash = sha256(bytes);
      if (hash === p.content_hash || hash === p.pending_hash) {
        await fs.unlink(target);
        removed.push(p.file);
      }
    }
    await db
      .deleteFrom('series_published_files')
      .where('series_id', '=', seriesId)
      .where('file', '=', p.file)
      .execute();
  }
  return removed;
}
