/**
 * A series' artwork: the candidates its TMDB and fanart.tv records offer (series-wide, or for one
 * season), the winner per type and season (user locks kept), and the file name Kodi reads each
 * under. Pure functions: no I/O.
 */
import nodePath from 'node:path';
import {
  type Candidate,
  fanartImageCandidates,
  scoreCandidate,
  tmdbImageCandidates,
  uniqueCandidates,
} from '../artwork.ts';

/** One candidate for a series (`season` null) or for one of its seasons (0 = specials). */
export type SeriesCandidate = Candidate & { season: number | null };

/** fanart.tv TV keys → artwork type; the `season*` ones carry the season they are for. */
const FANART_TV_TYPES: Record<string, string> = {
  hdtvlogo: 'clearlogo',
  clearlogo: 'clearlogo',
  hdclearart: 'clearart',
  clearart: 'clearart',
  showbackground: 'fanart',
  tvposter: 'poster',
  tvbanner: 'banner',
  tvthumb: 'landscape',
  characterart: 'characterart',
};
const FANART_SEASON_TYPES: Record<string, string> = {
  seasonposter: 'poster',
  seasonbanner: 'banner',
  seasonthumb: 'landscape',
};

/** Series-wide types and the ones a season has. */
export const SERIES_ARTWORK_TYPES = [
  'poster',
  'fanart',
  'banner',
  'clearlogo',
  'clearart',
  'landscape',
  'characterart',
] as const;
export const SEASON_ARTWORK_TYPES = ['poster', 'banner', 'landscape'] as const;

/**
 * The candidates in a TMDB TV record (`images`: series posters, backdrops, logos) and a fanart.tv TV
 * record. Series-wide fanart.tv art ignores its `season` (a background "for season 2" is still one);
 * season art without a season number (`all`, empty) is dropped: Kodi has no single file for it
 * that a per-season one would not override.
 */
export function seriesCandidatesFrom(
  tmdb: unknown,
  fanart: unknown,
  imageBaseUrl: string,
): SeriesCandidate[] {
  const series: SeriesCandidate[] = [
    ...tmdbImageCandidates(tmdb, imageBaseUrl),
    ...fanartImageCandidates(fanart, FANART_TV_TYPES),
  ].map((c) => ({ ...c, season: null }));
  const seasons = fanartImageCandidates(fanart, FANART_SEASON_TYPES).filter((c) => c.season !== null);
  return [...uniqueCandidates(series), ...seasons];
}

/** `poster` for the series, `poster@2` for season 2's poster: one winner per slot. */
export const artworkSlot = (type: string, season: number | null) =>
  season === null ? type : `${type}@${season}`;

/**
 * The best candidate per slot (type, season) by scoreCandidate (preferred language, then none, size,
 * votes). A locked slot (`lockedSlots`, as artworkSlot names them) gets none: the user's file stays.
 */
export function pickSeriesArtwork(
  candidates: readonly SeriesCandidate[],
  opts: { language: string; lockedSlots?: ReadonlySet<string> },
): Map<string, SeriesCandidate> {
  const best = new Map<string, { c: SeriesCandidate; score: number }>();
  for (const c of candidates) {
    const slot = artworkSlot(c.type, c.season);
    if (opts.lockedSlots?.has(slot)) continue;
    const score = scoreCandidate(c, opts.language);
    const was = best.get(slot);
    if (!was || score > was.score) best.set(slot, { c, score });
  }
  return new Map([...best].map(([slot, { c }]) => [slot, c]));
}

const EXTENSION: Record<string, string> = { clearlogo: 'png', clearart: 'png', characterart: 'png' };
const seasonPrefix = (season: number) =>
  season === 0 ? 'season-specials' : `season${String(season).padStart(2, '0')}`;

/**
 * The file Kodi reads a series' artwork from, in the series folder: `poster.jpg`, `clearlogo.png` …;
 * season art `season01-poster.jpg`, specials `season-specials-poster.jpg`. Null for a type Kodi has
 * no file for (at that level).
 */
export function seriesArtworkFileName(type: string, season: number | null): string | null {
  if (season === null) {
    if (!(SERIES_ARTWORK_TYPES as readonly string[]).includes(type)) return null;
    return `${type}.${EXTENSION[type] ?? 'jpg'}`;
  }
  if (!(SEASON_ARTWORK_TYPES as readonly string[]).includes(type)) return null;
  if (!Number.isInteger(season) || season < 0) return null;
  return `${seasonPrefix(season)}-${type}.jpg`;
}

/** An episode's thumbnail beside its video: `Show S01E01.mkv` → `Show S01E01-thumb.jpg` (same folder). */
export function episodeThumbFileName(videoFile: string): string {
  const ext = nodePath.posix.extname(videoFile);
  return `${ext ? videoFile.slice(0, -ext.length) : videoFile}-thumb.jpg`;
}
