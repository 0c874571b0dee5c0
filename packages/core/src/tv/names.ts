/**
 * What the names in a TV series folder say: the series folder's title, year and provider ids, which
 * folders are seasons, and which season and episodes (or air date) each video file holds. Used by
 * library scans, where no webhook tells us; Sonarr's own numbers win whenever a webhook has them.
 *
 * The patterns follow what Sonarr writes and Kodi reads: Sonarr's standard and daily episode formats
 * and every multi-episode style it offers (Extend `S01E01-02-03`, Duplicate `S01E01.S01E02`, Repeat
 * `S01E01E02E03`, Scene `S01E01-E02-E03`, Range `S01E01-03`, Prefixed Range `S01E01-E03`), Kodi's
 * `1x02` and `YYYY-MM-DD`/`YYYY.MM.DD` forms, `Season N` and `Specials` folders. Pure functions, except
 * listSeriesFolder, which reads through the fs it is given.
 */
import type { Dirent } from 'node:fs';
import nodePath from 'node:path';
import { isJunkEntry, isSampleFolder, videoRole } from '../media.ts';

export interface SeriesIds {
  tvdbId?: number;
  tmdbId?: number;
  imdbId?: string;
}

export interface SeriesFolderName {
  title: string | null;
  year: number | null;
  ids: SeriesIds;
}

/**
 * `Show (2019) {tvdb-371980}` → title, year and ids. Tokens as Sonarr writes them (`{tvdb-…}`,
 * `{tmdb-…}`, `{imdb-…}`) and as Jellyfin/Plex spell them (`[tvdbid-…]`, `[tmdbid=…]`); a
 * `(US)`-style country stays part of the title, as TVDB and TMDB list such shows.
 */
export function parseSeriesFolderName(name: string): SeriesFolderName {
  const ids: SeriesIds = {};
  const tvdb = /[[{]tvdb(?:id)?[-=](\d{1,9})[\]}]/i.exec(name);
  if (tvdb?.[1]) ids.tvdbId = Number(tvdb[1]);
  const tmdb = /[[{]tmdb(?:id)?[-=](\d{1,9})[\]}]/i.exec(name);
  if (tmdb?.[1]) ids.tmdbId = Number(tmdb[1]);
  const imdb = /[[{]imdb(?:id)?[-=](tt\d{5,10})[\]}]/i.exec(name);
  if (imdb?.[1]) ids.imdbId = imdb[1].toLowerCase();
  const clean = name
    .replace(/[[{][^\]}]*[\]}]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const m = /^(.*?)[\s.]*\(((?:19|20)\d{2})\)$/.exec(clean);
  if (m?.[1] && m[2]) return { title: m[1].trim() || null, year: Number(m[2]), ids };
  return { title: clean || null, year: null, ids };
}

/**
 * The season a folder holds: `Season 1`, `Season 01`, `S01`, `Series 2`, `Staffel 3`, `Saison 4`,
 * `Temporada 5`; `Specials` and `Season 00` are season 0. null for anything else (extras, a year,
 * a release-group folder): such a folder is not a season.
 */
export function parseSeasonFolderName(name: string): number | null {
  const n = name.trim();
  if (/^specials?$/i.test(n)) return 0;
  const m =
    /^(?:season|series|staffel|saison|temporada|stagione)[ ._-]*(\d{1,4})$/i.exec(n) ??
    /^s(\d{1,4})$/i.exec(n);
  return m?.[1] ? Number(m[1]) : null;
}

export type EpisodeFileName =
  | { kind: 'episodes'; season: number; episodes: number[] }
  | { kind: 'daily'; airDate: string }
  | { kind: 'unparseable'; reason: string };

/** A file naming more episodes than this is a misreading (a year or a resolution), not a multi-episode file. */
const MAX_EPISODES_PER_FILE = 30;

// A number that ends here: no digit follows, nor a resolution's `p`/`i` (`S01E01-1080p`).
const NUMBER_END = '(?![0-9])(?![pi](?:[^a-z]|$))';
const SXXEYY = new RegExp(`(?<![a-z0-9])s(\\d{1,4})[ ._]?e(\\d{1,4})${NUMBER_END}`, 'i');
const NXNN = new RegExp(`(?<![a-z0-9])(\\d{1,2})x(\\d{1,3})${NUMBER_END}`, 'i');
/**
 * A further episode right after one: `E02`, `-E02`, `-02`, ` E02`, `.E02` (and `x03` after `1x02`).
 * A bare `-NNN` takes at most three digits, so `S01E01-2019` is not read as episodes 1 to 2019.
 */
const MORE_EPISODE = new RegExp(`^(?:(?:[ ._]?e|-e)(\\d{1,4})|-(\\d{1,3}))${NUMBER_END}`, 'i');
const MORE_X_EPISODE = new RegExp(`^(?:(?:[ ._]?e|-e)(\\d{1,4})|[-x](\\d{1,3}))${NUMBER_END}`, 'i');
/** Sonarr's Duplicate style repeats the whole token: `S01E01.S01E02`, `S01E01-S01E02`. */
const MORE_SXXEYY = new RegExp(`^[ ._-]{0,3}s(\\d{1,4})[ ._]?e(\\d{1,4})${NUMBER_END}`, 'i');
const AIR_DATE = /(?<![0-9])((?:19|20)\d{2})[-. ](\d{2})[-. ](\d{2})(?![0-9])/;

function isCalendarDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The numbers that follow the first episode, then the whole run. */
function episodeRun(
  stem: string,
  season: number,
  first: number,
  from: number,
  style: 'sxxeyy' | 'nxnn',
): EpisodeFileName {
  const found = [first];
  let rest = stem.slice(from);
  for (;;) {
    const dup = style === 'sxxeyy' ? MORE_SXXEYY.exec(rest) : null;
    if (dup?.[1] && dup[2] && Number(dup[1]) === season) {
      found.push(Number(dup[2]));
      rest = rest.slice(dup[0].length);
      continue;
    }
    const more = (style === 'sxxeyy' ? MORE_EPISODE : MORE_X_EPISODE).exec(rest);
    const n = more?.[1] ?? more?.[2];
    if (!more || !n) break;
    found.push(Number(n));
    rest = rest.slice(more[0].length);
  }
  const last = found[found.length - 1] as number;
  for (let i = 1; i < found.length; i++) {
    if ((found[i] as number) <= (found[i - 1] as number))
      return { kind: 'unparseable', reason: `episode numbers do not increase (${found.join(', ')})` };
  }
  if (last - first + 1 > MAX_EPISODES_PER_FILE)
    return { kind: 'unparseable', reason: `episodes ${first}–${last} are too many for one file` };
  // Range styles write only the ends (`S01E01-03` is 1, 2 and 3); every other style lists each
  // number, so the full run from first to last reads all of them alike (as Sonarr parses them).
  const episodes = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  return { kind: 'episodes', season, episodes };
}

/**
 * The season and episodes, or the air date, an episode file's name states. `Show - S01E01E02 - A.mkv`
 * → season 1, episodes [1, 2]; `Show - 2024-03-01 - News.mkv` → airDate. A name stating neither is
 * unparseable with a reason a user can act on. Absolute numbering (`Show - 012.mkv`, anime) is
 * unparseable: the number means an episode only through the provider's absolute order, which the
 * name alone does not give.
 */
export function parseEpisodeFileName(fileName: string): EpisodeFileName {
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const sxe = SXXEYY.exec(stem);
  if (sxe?.[1] && sxe[2])
    return episodeRun(stem, Number(sxe[1]), Number(sxe[2]), sxe.index + sxe[0].length, 'sxxeyy');
  const date = AIR_DATE.exec(stem);
  if (date?.[1] && date[2] && date[3]) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (isCalendarDate(y, m, d)) return { kind: 'daily', airDate: `${date[1]}-${date[2]}-${date[3]}` };
    return { kind: 'unparseable', reason: `${date[0]} is not a calendar date` };
  }
  const nx = NXNN.exec(stem);
  if (nx?.[1] && nx[2])
    return episodeRun(stem, Number(nx[1]), Number(nx[2]), nx.index + nx[0].length, 'nxnn');
  const absolute = /(?<![a-z0-9])(\d{1,4})(?![0-9])(?![pi](?:[^a-z]|$))/i.exec(stem);
  if (absolute?.[1])
    return {
      kind: 'unparseable',
      reason: `only an absolute episode number (${absolute[1]}); name the file with its season and episode (S01E02)`,
    };
  return {
    kind: 'unparseable',
    reason: 'no season and episode (S01E02, 1x02) nor air date (2024-03-01) in the name',
  };
}

// ---------------------------------------------------------------------------------------------
// A series folder's episode files

export interface SeriesFolderFs {
  readdir(path: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
}

export type EpisodeVideo = {
  /** Relative to the series folder, '/'-separated. */
  file: string;
  /** The season of the folder the file lies in; null at the series root. */
  folderSeason: number | null;
} & ({ kind: 'episodes'; season: number; episodes: number[] } | { kind: 'daily'; airDate: string });

export interface SeriesFolderListing {
  /** In path order. The season is the file name's (as Kodi and Sonarr read it), whatever its folder says. */
  videos: EpisodeVideo[];
  /** Video files whose names say no episode, and season folders that could not be read. */
  unparseable: { file: string; reason: string }[];
  /** Season folders found, by number. */
  seasons: { folder: string; season: number }[];
  /**
   * Folders that are neither a season nor clutter (extras, featurettes, a release folder inside a
   * season folder): not looked into, '/'-separated.
   */
  otherFolders: string[];
}

const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Lists the episode video files of a series folder: those at its root and in its season folders,
 * by the media rules (samples, trailers and clutter skipped). A file whose name states no episode
 * is reported, never fatal; a series folder that cannot be read throws (the caller decides whether
 * that is a vanished series or an unmounted share).
 */
export async function listSeriesFolder(fs: SeriesFolderFs, path: string): Promise<SeriesFolderListing> {
  const out: SeriesFolderListing = { videos: [], unparseable: [], seasons: [], otherFolders: [] };
  const entries = (await fs.readdir(path, { withFileTypes: true })).sort(byName);
  const addVideos = (files: Dirent[], prefix: string, folderSeason: number | null) => {
    for (const e of files) {
      if (!e.isFile() || isJunkEntry(e.name) || videoRole(e.name) !== 'main') continue;
      const file = prefix + e.name;
      const parsed = parseEpisodeFileName(e.name);
      if (parsed.kind === 'unparseable') out.unparseable.push({ file, reason: parsed.reason });
      else out.videos.push({ file, folderSeason, ...parsed });
    }
  };
  addVideos(entries, '', null);
  for (const e of entries) {
    if (!e.isDirectory() || isJunkEntry(e.name) || isSampleFolder(e.name)) continue;
    const season = parseSeasonFolderName(e.name);
    if (season === null) {
      out.otherFolders.push(e.name);
      continue;
    }
    out.seasons.push({ folder: e.name, season });
    let inner: Dirent[];
    try {
      inner = (await fs.readdir(nodePath.join(path, e.name), { withFileTypes: true })).sort(byName);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      out.unparseable.push({ file: `${e.name}/`, reason: `season folder cannot be read (${code})` });
      continue;
    }
    addVideos(inner, `${e.name}/`, season);
    for (const sub of inner)
      if (sub.isDirectory() && !isJunkEntry(sub.name) && !isSampleFolder(sub.name))
        out.otherFolders.push(`${e.name}/${sub.name}`);
  }
  out.videos.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  out.seasons.sort((a, b) => a.season - b.season || (a.folder < b.folder ? -1 : 1));
  out.otherFolders.sort();
  return out;
}
