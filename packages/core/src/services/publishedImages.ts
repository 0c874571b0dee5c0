/**
 * PublishedFilesService — what Metarr wrote into a movie's folder, and the bytes of one published
 * image for a viewer (the web app's movie view). Only files recorded as Metarr's are read, through
 * the library guard (the folder's real path must be inside the library root, no symlinked file), and
 * only when the bytes on disk are an image: a user's file put in their place is not served blind.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import nodeFs from 'node:fs/promises';
import nodePath from 'node:path';
import { sniffImage } from '../clients/images.ts';
import type { Db } from '../db/connect.ts';
import { assertInsideLibrary } from '../files/safeWrite.ts';
import { UNCONFIRMED_HASH } from '../records/publishedFiles.ts';

export interface PublishedFile {
  /** Relative to the movie folder, e.g. `poster.jpg`, `extrafanart/fanart1.jpg`, `Heat (1995).nfo`. */
  file: string;
  /** `nfo`, or the artwork type (`poster`, `fanart`, `extrafanart`, …). */
  kind: string;
  publishedAt: Date;
  /** The provider image it was downloaded from (null for the NFO). */
  sourceUrl: string | null;
  /** sha256 of what Metarr wrote. */
  hash: string;
}

export async function listPublishedFiles(db: Db, movieId: number): Promise<PublishedFile[]> {
  const rows = await db
    .selectFrom('movie_published_files')
    .select(['file', 'kind', 'published_at', 'source_url', 'content_hash'])
    .where('movie_id', '=', movieId)
    .where('content_hash', '!=', UNCONFIRMED_HASH)
    .orderBy('kind')
    .orderBy('file')
    .execute();
  return rows.map((r) => ({
    file: r.file,
    kind: r.kind,
    publishedAt: r.published_at,
    sourceUrl: r.source_url,
    hash: r.content_hash,
  }));
}

/** Larger than any image publish accepts (DEFAULT_IMAGE_POLICY.maxBytes). */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/**
 * The published image of `kind` (the first by name, e.g. `fanart` before any extrafanart), read now
 * from disk: bytes, MIME type and an ETag (sha256 of the bytes). Null when none is published, the
 * file is gone, or what is there is not a PNG/JPEG image.
 */
export async function readPublishedImage(
  db: Db,
  movieId: number,
  kind: string,
): Promise<{ bytes: Buffer; contentType: string; etag: string } | null> {
  const row = await db
    .selectFrom('movie_published_files as f')
    .innerJoin('movies as m', 'm.id', 'f.movie_id')
    .innerJoin('libraries as l', 'l.id', 'm.library_id')
    .select(['f.file', 'm.path as folder', 'l.path as root'])
    .where('f.movie_id', '=', movieId)
    .where('f.kind', '=', kind)
    .where('f.content_hash', '!=', UNCONFIRMED_HASH)
    .orderBy('f.file')
    .executeTakeFirst();
  if (!row) return null;
  const rel = nodePath.normalize(row.file);
  if (nodePath.isAbsolute(rel) || rel.startsWith('..')) return null;
  let bytes: Buffer;
  try {
    const folder = await assertInsideLibrary(row.folder, row.root);
    // O_NOFOLLOW: a symlink put where the image was is not followed out of the folder.
    const fh = await nodeFs.open(nodePath.join(folder, rel), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > MAX_IMAGE_BYTES) return null;
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'UNSAFE_PATH') return null;
    throw err;
  }
  const info = sniffImage(bytes);
  if (!info) return null;
  return {
    bytes,
    contentType: info.type === 'png' ? 'image/png' : 'image/jpeg',
    etag: `"${createHash('sha256').update(bytes).digest('hex')}"`,
  };
}

/** Thumbnail widths served (TMDB's poster sizes): a small, bounded set, so the cache stays small. */
export const THUMBNAIL_WIDTHS = [92, 154, 185, 342, 500] as const;

/** The smallest served width at least `want` wide (the largest when none is). */
export const thumbnailWidth = (want: number): number =>
  THUMBNAIL_WIDTHS.find((w) => w >= want) ?? (THUMBNAIL_WIDTHS.at(-1) as number);

/**
 * A copy of a published image `width` pixels wide (never enlarged), in its own format, made with
 * sharp (libvips) once per image and width and kept in `artwork_thumbnails`. The ETag names the
 * source image and the width, so a new poster is a new ETag.
 */
export async function thumbnailOf(
  db: Db,
  ref: { movieId: number; kind: string },
  image: { bytes: Buffer; contentType: string; etag: string },
  width: number,
): Promise<{ bytes: Buffer; contentType: string; etag: string }> {
  const sourceHash = image.etag.replaceAll('"', '');
  const etag = `"${sourceHash}-w${width}"`;
  const cached = await db
    .selectFrom('artwork_thumbnails')
    .select(['bytes', 'content_type', 'source_hash'])
    .where('movie_id', '=', ref.movieId)
    .where('kind', '=', ref.kind)
    .where('width', '=', width)
    .executeTakeFirst();
  if (cached && cached.source_hash === sourceHash)
    return { bytes: cached.bytes, contentType: cached.content_type, etag };
  // Loaded on first use: only a process that serves thumbnails pays for libvips.
  const { default: sharp } = await import('sharp');
  const resized = sharp(image.bytes).resize({ width, withoutEnlargement: true });
  const bytes =
    image.contentType === 'image/png'
      ? await resized.png({ compressionLevel: 9, palette: true }).toBuffer()
      : await resized.jpeg({ quality: 78, mozjpeg: true }).toBuffer();
  const row = {
    movie_id: ref.movieId,
    kind: ref.kind,
    width,
    source_hash: sourceHash,
    content_type: image.contentType,
    bytes,
  };
  await db
    .insertInto('artwork_thumbnails')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['movie_id', 'kind', 'width']).doUpdateSet({
        source_hash: sourceHash,
        content_type: image.contentType,
        bytes,
        created_at: new Date(),
      }),
    )
    .execute();
  return { bytes, contentType: image.contentType, etag };
}
