/**
 * DiscoverService — classifies one movie folder (main video, disc structures, NFO, Kodi-named
 * artwork, trailers, subtitles, extras, junk) and stores the inventory per movie.
 */
import { createHash } from 'node:crypto';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import type { Db } from '../db/connect.ts';
import { permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import { type MovieMetadata, parseMovieNfo } from '../files/nfo.ts';
import type { Logger } from '../log.ts';
import {
  type ArtworkType,
  type DiscoveredFolder,
  discStructure,
  isJunkEntry,
  isSampleFolder,
  rankMainVideos,
  videoRole,
} from '../media.ts';
import { UNCONFIRMED_HASH } from '../records/publishedFiles.ts';

export interface DiscoverFs {
  readdir(path: string, opts: { withFileTypes: true }): Promise<import('node:fs').Dirent[]>;
  stat(path: string): Promise<{ size: number }>;
  readFile(path: string, enc: 'utf8'): Promise<string>;
}

const SUB_EXT = new Set(['.srt', '.ass', '.ssa', '.sub', '.idx', '.vtt', '.sup']);
const IMG_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tbn']);
const EXTRAS_DIRS = new Set([
  'extras',
  'featurettes',
  'behind the scenes',
  'deleted scenes',
  'interviews',
  'scenes',
  'shorts',
  'other',
  'trailers',
]);
const ART_ALIASES: Record<string, ArtworkType> = {
  poster: 'poster',
  folder: 'poster',
  cover: 'poster',
  fanart: 'fanart',
  backdrop: 'fanart',
  clearlogo: 'clearlogo',
  logo: 'clearlogo',
  clearart: 'clearart',
  banner: 'banner',
  landscape: 'landscape',
  thumb: 'landscape',
  discart: 'discart',
  disc: 'discart',
  keyart: 'keyart',
};

/** Pure classification of a folder's entries (reads the tree and the NFO, writes nothing). */
export async function classifyMovieFolder(fs: DiscoverFs, folder: string): Promise<DiscoveredFolder> {
  const out: DiscoveredFolder = {
    videoFile: null,
    disc: null,
    videoStem: null,
    nfo: null,
    artwork: [],
    trailers: [],
    subtitles: [],
    extras: [],
    unknown: [],
    skipped: [],
  };
  const entries = await fs.readdir(folder, { withFileTypes: true });
  const disc = discStructure(entries);
  if (disc) {
    out.disc = disc.disc;
    out.videoFile = disc.videoFile;
  }

  const videos: { name: string; size: number }[] = [];
  const images: string[] = [];
  const nfos: string[] = [];
  for (const e of entries) {
    const lower = e.name.toLowerCase();
    if (isJunkEntry(e.name)) {
      out.skipped.push(e.name);
      continue;
    }
    if (e.isDirectory()) {
      if (lower === 'bdmv' || lower === 'video_ts' || lower === 'certificate' || lower === 'audio_ts')
        continue;
      if (isSampleFolder(e.name)) out.skipped.push(`${e.name}/`);
      else if (lower === 'extrafanart') {
        for (const f of await fs.readdir(nodePath.join(folder, e.name), { withFileTypes: true })) {
          if (isJunkEntry(f.name)) out.skipped.push(`${e.name}/${f.name}`);
          else if (f.isFile() && IMG_EXT.has(nodePath.extname(f.name).toLowerCase()))
            out.artwork.push({ type: 'extrafanart', file: `${e.name}/${f.name}` });
        }
      } else if (EXTRAS_DIRS.has(lower)) {
        out.extras.push(`${e.name}/`);
        if (lower === 'trailers') {
          for (const f of await fs.readdir(nodePath.join(folder, e.name), { withFileTypes: true })) {
            if (f.isFile() && videoRole(f.name) !== null) out.trailers.push(`${e.name}/${f.name}`);
          }
        }
      } else out.unknown.push(`${e.name}/`);
      continue;
    }
    if (!e.isFile()) continue;
    const ext = nodePath.extname(lower);
    const stem = lower.slice(0, lower.length - ext.length);
    const role = videoRole(e.name);
    if (role) {
      if (role === 'sample') out.skipped.push(e.name);
      else if (role === 'trailer') out.trailers.push(e.name);
      else videos.push({ name: e.name, size: (await fs.stat(nodePath.join(folder, e.name))).size });
    } else if (ext === '.nfo') nfos.push(e.name);
    else if (IMG_EXT.has(ext)) images.push(e.name);
    else if (SUB_EXT.has(ext)) {
      // `Movie.en.srt`, `Movie.pt-BR.forced.srt`: the tag after the video stem.
      const parts = stem.split('.');
      const forced = parts.at(-1) === 'forced';
      if (forced) parts.pop();
      const tag = parts.length > 1 ? (parts.at(-1) ?? null) : null;
      const language = tag && /^[a-z]{2,3}(-[a-z]{2,4})?$/.test(tag) ? tag : null;
      out.subtitles.push({ file: e.name, language, forced });
    } else out.unknown.push(e.name);
  }

  if (!out.disc && videos.length) {
    const ranked = rankMainVideos(videos);
    const main = ranked[0] as { name: string };
    out.videoFile = main.name;
    out.videoStem = main.name.slice(0, main.name.length - nodePath.extname(main.name).length);
    for (const v of ranked.slice(1)) out.extras.push(v.name);
  }
  const stem = out.videoStem?.toLowerCase() ?? null;

  for (const name of images) {
    const lower = name.toLowerCase();
    const base = lower.slice(0, lower.length - nodePath.extname(lower).length);
    // `<video stem>-poster.jpg` or plain `poster.jpg`; another movie's `<x>-poster.jpg` is not ours.
    const dash = base.lastIndexOf('-');
    const prefix = dash >= 0 ? base.slice(0, dash) : null;
    const kind = dash >= 0 ? base.slice(dash + 1) : base;
    const type = ART_ALIASES[kind];
    if (type && (prefix === null || prefix === stem)) out.artwork.push({ type, file: name });
    else out.unknown.push(name);
  }

  // `<video stem>.nfo` wins over `movie.nfo`; any other single NFO is still read.
  const nfoFile =
    nfos.find((n) => stem !== null && n.toLowerCase() === `${stem}.nfo`) ??
    nfos.find((n) => n.toLowerCase() === 'movie.nfo') ??
    (nfos.length === 1 ? nfos[0] : undefined);
  for (const n of nfos) if (n !== nfoFile) out.unknown.push(n);
  if (nfoFile) {
    const parsed = parseMovieNfo(await fs.readFile(nodePath.join(folder, nfoFile), 'utf8'));
    const { userNodes: _user, fields: _fields, ...summary } = parsed;
    out.nfo = { file: nfoFile, ...summary };
  }
  for (const list of [out.artwork, out.trailers, out.extras, out.unknown, out.skipped]) list.sort();
  out.artwork.sort((a, b) => a.file.localeCompare(b.file));
  out.subtitles.sort((a, b) => a.file.localeCompare(b.file));
  return out;
}

export interface DiscoverDeps {
  db: Db;
  log: Logger;
  fs?: DiscoverFs;
  clock?: () => Date;
  /** The job attempt's write fence (see fence.ts). */
  fence?: Fence;
}

/** Classifies the movie's folder, stores the inventory, and fills ids the NFO knows and the row lacks. */
export async function discoverMovieAssets(
  deps: DiscoverDeps,
  movieId: number,
): Promise<{ movieId: number; found: DiscoveredFolder; userEdits: string[] }> {
  const log = deps.log.child({ service: 'DiscoverService', operation: 'discoverMovieAssets', movieId });
  const movie = await deps.db.selectFrom('movies').selectAll().where('id', '=', movieId).executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  let found: DiscoveredFolder;
  try {
    found = await classifyMovieFolder(deps.fs ?? nodeFs, movie.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw permanent('MOVIE_FOLDER_MISSING', `${movie.path} does not exist`);
    throw err;
  }
  if (found.nfo && !found.nfo.ok)
    log.warn({ nfo: found.nfo.file, error: found.nfo.error }, 'Existing NFO is malformed; ignoring it');
  const now = (deps.clock ?? (() => new Date()))();
  const data = JSON.stringify(found);
  const fill = {
    ...(movie.tmdb_id === null && found.nfo?.tmdbId !== undefined && { tmdb_id: found.nfo.tmdbId }),
    ...(movie.imdb_id === null && found.nfo?.imdbId !== undefined && { imdb_id: found.nfo.imdbId }),
    ...(movie.title === null && found.nfo?.title !== undefined && { title: found.nfo.title }),
    ...(movie.year === null && found.nfo?.year !== undefined && { year: found.nfo.year }),
  };
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    await trx
      .insertInto('movie_discovery')
      .values({ movie_id: movieId, data, discovered_at: now })
      .onConflict((oc) => oc.column('movie_id').doUpdateSet({ data, discovered_at: now }))
      .execute();
    if (Object.keys(fill).length)
      await trx.updateTable('movies').set(fill).where('id', '=', movieId).execute();
  });
  const userEdits = found.nfo?.ok
    ? await adoptUserEdits(deps, movieId, nodePath.join(movie.path, found.nfo.file))
    : [];
  if (userEdits.length) log.info({ fields: userEdits }, 'User edits in the NFO adopted and locked');
  log.info(
    { videoFile: found.videoFile, artwork: found.artwork.length, nfo: found.nfo?.file ?? null },
    'Movie folder discovered',
  );
  return { movieId, found, userEdits };
}

/**
 * An NFO we wrote whose bytes changed since was edited by the user: each field whose value now
 * differs from the stored metadata is taken over and locked, so enrichment never undoes the edit.
 */
async function adoptUserEdits(deps: DiscoverDeps, movieId: number, file: string): Promise<string[]> {
  const rec = await deps.db
    .selectFrom('movie_published_files')
    .select(['file', 'content_hash', 'pending_hash'])
    .where('movie_id', '=', movieId)
    .where('kind', '=', 'nfo')
    .where('file', '=', nodePath.basename(file))
    .executeTakeFirst();
  // A write-ahead row whose NFO was never written: the NFO on disk is not one Metarr wrote.
  if (!rec || rec.content_hash === UNCONFIRMED_HASH) return [];
  const text = await (deps.fs ?? nodeFs).readFile(file, 'utf8');
  // Our bytes, including those of a publish killed after writing the NFO but before recording it
  // (its write-ahead `pending_hash`), are no user edit.
  const hash = createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
  if (hash === rec.content_hash || hash === rec.pending_hash) return [];
  const stored = await deps.db
    .selectFrom('movie_metadata')
    .select('data')
    .where('movie_id', '=', movieId)
    .executeTakeFirst();
  if (!stored) return [];
  const meta = { ...(stored.data as MovieMetadata) } as Record<string, unknown>;
  const parsed = parseMovieNfo(text);
  const edited: string[] = [];
  for (const [field, value] of Object.entries(parsed.fields)) {
    if (JSON.stringify(value) === JSON.stringify(meta[field] ?? null)) continue;
    meta[field] = value;
    edited.push(field);
  }
  if (!edited.length) return [];
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    await trx
      .updateTable('movie_metadata')
      .set({ data: JSON.stringify(meta) })
      .where('movie_id', '=', movieId)
      .execute();
    await trx
      .insertInto('movie_field_locks')
      .values(edited.map((field) => ({ movie_id: movieId, field })))
      .onConflict((oc) => oc.columns(['movie_id', 'field']).doNothing())
      .execute();
  });
  return edited;
}
