/**
 * What the files in a movie folder are: one set of rules shared by everything that looks inside
 * library and movie folders (the library listing, the movie scan, asset discovery), so they never
 * disagree about which file is the movie or which entry is clutter.
 */
import type { Dirent } from 'node:fs';
import nodePath from 'node:path';
import type { ParsedNfo } from './files/nfo.ts';

/** Extensions Kodi and the *arr apps treat as video. */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mkv',
  '.mp4',
  '.avi',
  '.m4v',
  '.mov',
  '.wmv',
  '.ts',
  '.m2ts',
  '.iso',
  '.mpg',
  '.mpeg',
  '.webm',
]);

/** NAS and OS clutter (compared lower-case); any hidden (`.x`) or NAS-private (`@x`) entry is too. */
const JUNK_NAMES: ReadonlySet<string> = new Set([
  'thumbs.db',
  'desktop.ini',
  '#recycle',
  '#snapshot',
  '$recycle.bin',
  'system volume information',
  'lost+found',
]);

/** Clutter that is never a movie folder nor part of one (Metarr's own `.…metarr-tmp-…` files too). */
export function isJunkEntry(name: string): boolean {
  return name.startsWith('.') || name.startsWith('@') || JUNK_NAMES.has(name.toLowerCase());
}

/** `Movie.mkv` → `movie` (lower-case, without the extension). */
function stemOf(name: string): { stem: string; ext: string } {
  const lower = name.toLowerCase();
  const ext = nodePath.extname(lower);
  return { stem: lower.slice(0, lower.length - ext.length), ext };
}

export type VideoRole = 'main' | 'sample' | 'trailer';

/**
 * What a video file is by its name; null when it is not a video. A sample is `sample…` or
 * `…-sample`; a trailer is `trailer` or `…-trailer` (any of `-._ ` before the word). Only `main`
 * files compete to be the movie.
 */
export function videoRole(name: string): VideoRole | null {
  const { stem, ext } = stemOf(name);
  if (!VIDEO_EXTENSIONS.has(ext)) return null;
  if (stem.startsWith('sample') || /[-._ ]sample$/.test(stem)) return 'sample';
  if (/(^|[-._ ])trailer$/.test(stem)) return 'trailer';
  return 'main';
}

/** Folders that are a sample, never part of the movie. */
export function isSampleFolder(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'sample' || lower === 'samples';
}

export interface DiscStructure {
  disc: 'bdmv' | 'video_ts';
  /** The disc's index file, relative to the movie folder. */
  videoFile: string;
}

/** A Blu-ray (`BDMV/`) or DVD (`VIDEO_TS/`) folder is the movie, whatever else lies around. */
export function discStructure(entries: readonly Dirent[]): DiscStructure | null {
  const byName = new Map(entries.map((e) => [e.name.toLowerCase(), e]));
  const bdmv = byName.get('bdmv');
  if (bdmv?.isDirectory()) return { disc: 'bdmv', videoFile: `${bdmv.name}/index.bdmv` };
  const dvd = byName.get('video_ts');
  if (dvd?.isDirectory()) return { disc: 'video_ts', videoFile: `${dvd.name}/VIDEO_TS.IFO` };
  return null;
}

/**
 * Orders the `main` videos of a folder: the largest is the movie, ties by name; the others are
 * extras.
 */
export function rankMainVideos<V extends { name: string; size: number }>(videos: readonly V[]): V[] {
  return [...videos].sort((a, b) => b.size - a.size || a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// A movie folder's inventory, as discovery records it and publishing and selection read it

export const ARTWORK_TYPES = [
  'poster',
  'fanart',
  'clearlogo',
  'clearart',
  'banner',
  'landscape',
  'discart',
  'keyart',
] as const;
export type ArtworkType = (typeof ARTWORK_TYPES)[number] | 'extrafanart';

export interface LocalArtwork {
  type: ArtworkType;
  /** Relative to the movie folder, '/'-separated. */
  file: string;
}

export interface DiscoveredFolder {
  /** Relative path of the main video (for discs, the index file), or null. */
  videoFile: string | null;
  disc: 'bdmv' | 'video_ts' | null;
  /** Stem used for Kodi file names (`<stem>.nfo`, `<stem>-poster.jpg`); null for discs → `movie`. */
  videoStem: string | null;
  /** The NFO read, as parseMovieNfo summarises it (no user nodes or fields). */
  nfo: ({ file: string } & Omit<ParsedNfo, 'userNodes' | 'fields'>) | null;
  artwork: LocalArtwork[];
  trailers: string[];
  subtitles: { file: string; language: string | null; forced: boolean }[];
  extras: string[];
  unknown: string[];
  skipped: string[];
}
