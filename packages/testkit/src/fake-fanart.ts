/**
 * Fake fanart.tv v3 API on 127.0.0.1: `/v3/movies/{tmdbId}` and `/v3/tv/{tvdbId}`
 * (`?api_key=…[&client_key=…]`), and its image host at `/fanart/movies/…` and `/fanart/tv/…` (real
 * tiny generated PNG/JPEG bytes). Keys and shapes as fanart.tv answers them: arrays of
 * `{id, url, lang, likes}` where likes is a string; TV season art and backgrounds add `season`
 * (a number as a string, `all`, or `` for none).
 */

import { sendImage } from './fake-images.ts';
import { type FakeServerBase, sendJson, startFake } from './http-fake.ts';

export interface FakeFanart extends FakeServerBase {
  apiUrl: string;
  calls: { path: string; query: Record<string, string> }[];
  imageCalls: string[];
  movies: Map<number, Record<string, unknown> | null>;
  /** TV records by TVDB id; null answers 404. */
  shows: Map<number, Record<string, unknown> | null>;
  /** Unknown movie and TV ids get a generated record (true, default) or 404. */
  synthesize: boolean;
}

/**
 * A fanart.tv TV record whose image URLs point at `origin`: every art type fanart.tv serves for a
 * show (the SD `clearlogo`/`clearart` beside the HD ones), season art for `seasons` (0 = specials)
 * and an `all`-seasons background.
 */
export function fanartTv(
  origin: string,
  tvdbId: number,
  name = `Show ${tvdbId}`,
  seasons: readonly number[] = [0, 1, 2],
): Record<string, unknown> {
  const u = (type: string, i: number, size: string, ext: string) =>
    `${origin}/fanart/tv/${tvdbId}/${type}/show-${tvdbId}-${i}-${size}.${ext}`;
  let next = 0;
  const art = (
    type: string,
    size: string,
    ext: string,
    n: number,
    extra: (i: number) => object = () => ({}),
  ) =>
    Array.from({ length: n }, (_, i) => ({
      id: String(200000 + tvdbId * 10 + next++),
      url: u(type, i, size, ext),
      lang: i === 0 ? 'en' : '00',
      likes: String(5 - i),
      ...extra(i),
    }));
  const perSeason = (type: string, size: string, ext: string) =>
    art(type, size, ext, seasons.length, (i) => ({ season: String(seasons[i]) }));
  return {
    name,
    thetvdb_id: String(tvdbId),
    hdtvlogo: art('hdtvlogo', '800x310', 'png', 2),
    hdclearart: art('hdclearart', '1000x562', 'png', 1),
    clearlogo: art('clearlogo', '400x155', 'png', 1),
    clearart: art('clearart', '500x281', 'png', 1),
    showbackground: art('showbackground', '1920x1080', 'jpg', 2, (i) => ({ season: i === 0 ? 'all' : '' })),
    tvposter: art('tvposter', '1000x1426', 'jpg', 1),
    tvbanner: art('tvbanner', '1000x185', 'jpg', 1),
    tvthumb: art('tvthumb', '1000x562', 'jpg', 1),
    characterart: art('characterart', '512x512', 'png', 1),
    seasonposter: perSeason('seasonposter', '1000x1426', 'jpg'),
    seasonbanner: perSeason('seasonbanner', '1000x185', 'jpg'),
    seasonthumb: perSeason('seasonthumb', '1000x562', 'jpg'),
  };
}

/** A fanart.tv movie record whose image URLs point at `origin`. */
export function fanartMovie(
  origin: string,
  tmdbId: number,
  name = `Movie ${tmdbId}`,
): Record<string, unknown> {
  const u = (type: string, i: number, size: string, ext: string) =>
    `${origin}/fanart/movies/${tmdbId}/${type}/movie-${tmdbId}-${i}-${size}.${ext}`;
  const list = (type: string, size: string, ext: string, n: number, extra: Record<string, string> = {}) =>
    Array.from({ length: n }, (_, i) => ({
      id: String(100000 + tmdbId * 10 + i),
      url: u(type, i, size, ext),
      lang: i === 0 ? 'en' : '00',
      likes: String(5 - i),
      ...extra,
    }));
  return {
    name,
    tmdb_id: String(tmdbId),
    imdb_id: `tt${String(tmdbId).padStart(7, '0')}`,
    hdmovielogo: list('hdmovielogo', '800x310', 'png', 2),
    hdmovieclearart: list('hdmovieclearart', '1000x562', 'png', 1),
    movieposter: list('movieposter', '1000x1426', 'jpg', 1),
    moviebackground: list('moviebackground', '1920x1080', 'jpg', 2),
    moviebanner: list('moviebanner', '1000x185', 'jpg', 1),
    moviethumb: list('moviethumb', '1000x562', 'jpg', 1),
    moviedisc: list('moviedisc', '1000x1000', 'png', 1, { disc: '1', disc_type: 'bluray' }),
  };
}

export async function startFakeFanart(opts: { apiKey?: string } = {}): Promise<FakeFanart> {
  const apiKey = opts.apiKey ?? 'fanart-test-key';
  const calls: { path: string; query: Record<string, string> }[] = [];
  const imageCalls: string[] = [];
  const images = new Map<string, Buffer>();
  const movies = new Map<number, Record<string, unknown> | null>();
  const shows = new Map<number, Record<string, unknown> | null>();
  let self: FakeFanart;
  let origin = '';
  const base = await startFake({
    record: (r) => {
      if (r.url.pathname.startsWith('/v3/'))
        calls.push({ path: r.url.pathname.slice(3), query: Object.fromEntries(r.url.searchParams) });
      else imageCalls.push(r.url.pathname);
    },
    handle: (r) => {
      const p = r.url.pathname;
      if (p.startsWith('/fanart/')) return sendImage(r, images, p);
      if (r.url.searchParams.get('api_key') !== apiKey)
        return sendJson(r.res, 401, { status: 'error', 'error message': 'Invalid API key' });
      const tv = /^\/v3\/tv\/(\d+)$/.exec(p);
      if (tv) {
        const id = Number(tv[1]);
        const rec = shows.has(id) ? shows.get(id) : self.synthesize ? fanartTv(origin, id) : null;
        if (!rec) return sendJson(r.res, 404, { status: 'error', 'error message': 'Not found' });
        return sendJson(r.res, 200, rec);
      }
      const m = /^\/v3\/movies\/(\d+)$/.exec(p);
      if (!m) return sendJson(r.res, 404, { status: 'error', 'error message': 'Not found' });
      const id = Number(m[1]);
      const rec = movies.has(id) ? movies.get(id) : self.synthesize ? fanartMovie(origin, id) : null;
      if (!rec) return sendJson(r.res, 404, { status: 'error', 'error message': 'Not found' });
      return sendJson(r.res, 200, rec);
    },
  });
  origin = base.url;
  self = Object.assign(base, {
    apiUrl: `${base.url}/v3`,
    calls,
    imageCalls,
    movies,
    shows,
    synthesize: true,
  }) as FakeFanart;
  return self;
}
