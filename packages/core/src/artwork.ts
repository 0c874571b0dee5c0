/**
 * Artwork candidates and their scoring, shared by the movie and series provider/select services
 * (pure: no I/O). A candidate is one remote image a provider offers for one artwork type.
 */

interface TmdbImage {
  file_path?: string;
  width?: number;
  height?: number;
  iso_639_1?: string | null;
  vote_average?: number;
  vote_count?: number;
}
interface FanartImage {
  url?: string;
  lang?: string;
  likes?: string | number;
  season?: string | number;
}

export interface Candidate {
  type: string;
  provider: 'tmdb' | 'fanart';
  url: string;
  language: string | null;
  width: number | null;
  height: number | null;
  votes: number;
}

/** A fanart.tv candidate and the season its art is for (null: none given, or `all`). */
export type FanartCandidate = Candidate & { season: number | null };

/** Posters, backdrops (fanart) and logos (clearlogo) in a TMDB record's `images` (movie or TV). */
export function tmdbImageCandidates(record: unknown, imageBaseUrl: string): Candidate[] {
  const out: Candidate[] = [];
  const images = (record as { images?: Record<string, TmdbImage[]> } | null)?.images ?? {};
  const tmdbTypes: [string, string][] = [
    ['posters', 'poster'],
    ['backdrops', 'fanart'],
    ['logos', 'clearlogo'],
  ];
  for (const [key, type] of tmdbTypes) {
    for (const img of images[key] ?? []) {
      if (typeof img.file_path !== 'string' || !img.file_path.startsWith('/')) continue;
      out.push({
        type,
        provider: 'tmdb',
        url: `${imageBaseUrl}/original${img.file_path}`,
        language: img.iso_639_1 || null,
        width: img.width ?? null,
        height: img.height ?? null,
        votes: (img.vote_average ?? 0) * Math.log10(1 + (img.vote_count ?? 0)),
      });
    }
  }
  return out;
}

/** The images of a fanart.tv record (movie or TV) under `types` (fanart.tv key → artwork type). */
export function fanartImageCandidates(record: unknown, types: Record<string, string>): FanartCandidate[] {
  const out: FanartCandidate[] = [];
  const f = (record ?? {}) as Record<string, FanartImage[] | unknown>;
  for (const [key, type] of Object.entries(types)) {
    const list = f[key];
    if (!Array.isArray(list)) continue;
    for (const img of list as FanartImage[]) {
      if (typeof img.url !== 'string') continue;
      const lang = img.lang && img.lang !== '00' ? img.lang : null;
      const season = /^\d+$/.test(String(img.season ?? '')) ? Number(img.season) : null;
      out.push({
        type,
        provider: 'fanart',
        url: img.url,
        language: lang,
        width: null,
        height: null,
        votes: Number(img.likes ?? 0) || 0,
        season,
      });
    }
  }
  return out;
}

/** Candidates with the same type and URL once (the first kept). */
export function uniqueCandidates<C extends { type: string; url: string }>(list: C[]): C[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = `${c.type} ${c.url}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface ArtworkSpec {
  width: number;
  height: number;
  limit: number;
}

/** Ideal sizes (Kodi/fanart.tv conventions) and how many of each to keep. */
export const ARTWORK_SPECS: Record<string, ArtworkSpec> = {
  poster: { width: 1000, height: 1500, limit: 1 },
  fanart: { width: 1920, height: 1080, limit: 1 },
  extrafanart: { width: 1920, height: 1080, limit: 4 },
  clearlogo: { width: 800, height: 310, limit: 1 },
  clearart: { width: 1000, height: 562, limit: 1 },
  banner: { width: 1000, height: 185, limit: 1 },
  landscape: { width: 1000, height: 562, limit: 1 },
  discart: { width: 1000, height: 1000, limit: 1 },
  keyart: { width: 1000, height: 1500, limit: 1 },
  characterart: { width: 512, height: 512, limit: 1 },
};

export interface ScoredInput {
  type: string;
  provider: string;
  language: string | null;
  width: number | null;
  height: number | null;
  votes: number;
}

/**
 * 0–100: resolution against the ideal (40), aspect ratio (15), language preferred > none > other (30),
 * votes/likes (10), provider fit (5). Text-bearing types prefer the language; fanart prefers none.
 */
export function scoreCandidate(c: ScoredInput, preferredLanguage: string): number {
  const spec = ARTWORK_SPECS[c.type] ?? ARTWORK_SPECS.poster;
  const s = spec as ArtworkSpec;
  const w = c.width ?? s.width;
  const h = c.height ?? s.height;
  const resolution = 40 * Math.min(1, (w * h) / (s.width * s.height));
  const aspectErr = Math.abs(Math.log(w / h / (s.width / s.height)));
  const aspect = 15 * Math.max(0, 1 - aspectErr * 4);
  const textless = c.type === 'fanart' || c.type === 'extrafanart';
  const lang =
    c.language === preferredLanguage ? (textless ? 20 : 30) : c.language === null ? (textless ? 30 : 20) : 0;
  const votes = 10 * Math.min(1, Math.log10(1 + Math.max(0, c.votes)) / 2);
  const fanartTypes = new Set(['clearlogo', 'clearart', 'discart', 'banner', 'landscape']);
  const provider = c.provider === 'fanart' ? (fanartTypes.has(c.type) ? 5 : 3) : 4;
  return Math.round((resolution + aspect + lang + votes + provider) * 1000) / 1000;
}
