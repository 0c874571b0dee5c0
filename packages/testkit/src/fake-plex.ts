/**
 * A fake Plex Media Server:
 * - `GET /identity` (public) → MediaContainer.version;
 * - `GET /library/sections` → MediaContainer.Directory[] with Location[] (JSON when `Accept:
 *   application/json`, XML otherwise, as the real server does);
 * - `GET /library/sections/{key}/refresh?path=…` → 200, or 404 for an unknown section;
 * - `GET /library/sections/{key}/all?type=1` → the section's movies, one entry per item with its
 *   `updatedAt` and files, paged by `X-Plex-Container-Start`/`-Size` (headers or query) with
 *   `totalSize` and `offset`, as the real server pages;
 * - `PUT /library/metadata/{ratingKey}/refresh` → the item's `updatedAt` becomes now;
 * - `PUT /library/metadata/{ratingKey}/merge?ids=…` → the other items become versions of this one.
 * Everything but /identity needs the token in `X-Plex-Token` (header or query).
 */

import { isGone, isUnder, type ToLocal, videosUnder } from './fake-library.ts';
import {
  copyHeaders,
  type FakeServerBase,
  type Headers,
  header,
  sendJson,
  sendText,
  startFake,
} from './http-fake.ts';

export interface FakePlexSection {
  key: string;
  type: 'movie' | 'show' | 'artist' | 'photo';
  title: string;
  locations: string[];
}

export interface FakePlexOptions {
  token?: string;
  sections?: FakePlexSection[];
  version?: string;
  /**
   * Lets the fake see the test's files: a (partial) section refresh adds the video files under its
   * path (the section's locations when none) that the section lacks, named after their folder, and
   * removes the section's movies there whose file is gone (Plex's default "empty trash after scan").
   */
  toLocal?: ToLocal;
}

export interface FakePlexCall {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Headers;
  at: number;
}

/** A movie in a section, as `/library/sections/{key}/all` lists it. */
export interface FakePlexMovie {
  ratingKey: string;
  sectionKey: string;
  title: string;
  /** The media file, in the server's form. */
  file: string;
  /** Seconds since the epoch: when the item's metadata last changed (added, refreshed). */
  updatedAt: number;
}

export interface FakePlex extends FakeServerBase {
  token: string;
  calls: FakePlexCall[];
  /** Accepted partial scans, in order. `path` is undefined for a whole-section refresh. */
  refreshes: { key: string; path: string | undefined }[];
  /** The movies the sections hold. Empty unless a test adds movies (as a scan would). */
  movies: FakePlexMovie[];
  addMovie(movie: { title: string; file: string; sectionKey?: string; updatedAt?: number }): FakePlexMovie;
  /** `PUT /library/metadata/{ratingKey}/merge?ids=…` calls, in order. */
  merges: { key: string; ids: string[] }[];
  /** Rating keys `PUT /library/metadata/{ratingKey}/refresh` was called for, in order. */
  itemRefreshes: string[];
  setSections(sections: FakePlexSection[]): void;
}

export const DEFAULT_PLEX_SECTIONS: FakePlexSection[] = [
  { key: '1', type: 'movie', title: 'Movies', locations: ['/data/movies'] },
  { key: '2', type: 'show', title: 'TV Shows', locations: ['/data/tv'] },
  { key: '3', type: 'artist', title: 'Music', locations: ['/data/music'] },
];

const AGENTS: Record<FakePlexSection['type'], string> = {
  movie: 'tv.plex.agents.movie',
  show: 'tv.plex.agents.series',
  artist: 'tv.plex.agents.music',
  photo: 'com.plexapp.agents.none',
};

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startFakePlex(opts: FakePlexOptions = {}): Promise<FakePlex> {
  const token = opts.token ?? 'plex-test-token';
  const version = opts.version ?? '1.41.3.9314-a0bfb8370';
  let sections = opts.sections ?? DEFAULT_PLEX_SECTIONS;
  const calls: FakePlexCall[] = [];
  const refreshes: { key: string; path: string | undefined }[] = [];
  const movies: FakePlexMovie[] = [];
  const itemRefreshes: string[] = [];
  let nextRatingKey = 1001;
  let nextLocationId = 1;
  const locationIds = new Map<string, number>();
  const locId = (path: string) => {
    let id = locationIds.get(path);
    if (id === undefined) {
      id = nextLocationId++;
      locationIds.set(path, id);
    }
    return id;
  };

  const merges: { key: string; ids: string[] }[] = [];
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  function add(movie: {
    title: string;
    file: string;
    sectionKey?: string;
    updatedAt?: number;
  }): FakePlexMovie {
    const added = {
      ratingKey: String(nextRatingKey++),
      sectionKey: movie.sectionKey ?? '1',
      title: movie.title,
      file: movie.file,
      updatedAt: movie.updatedAt ?? nowSeconds(),
    };
    movies.push(added);
    return added;
  }

  function scanSection(key: string, path: string | null, toLocal: ToLocal) {
    const section = sections.find((s) => s.key === key);
    const roots = path !== null ? [path] : (section?.locations ?? []);
    for (const root of roots) {
      for (let i = movies.length - 1; i >= 0; i--) {
        const mv = movies[i] as FakePlexMovie;
        if (mv.sectionKey === key && isUnder(mv.file, root) && isGone(mv.file, toLocal)) movies.splice(i, 1);
      }
      const known = new Set(movies.filter((mv) => mv.sectionKey === key).map((mv) => mv.file));
      for (const v of videosUnder(root, toLocal))
        if (!known.has(v.file)) add({ title: v.folderName, file: v.file, sectionKey: key });
    }
  }

  const base = await startFake({
    realm: 'Plex',
    record({ req, url }) {
      calls.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: copyHeaders(req.headers),
        at: Date.now(),
      });
    },
    handle({ req, res, url }) {
      const json = (header(req, 'accept') ?? '').includes('application/json');
      const authed = (header(req, 'x-plex-token') ?? url.searchParams.get('X-Plex-Token')) === token;
      const itemRefresh = /^\/library\/metadata\/([^/]+)\/refresh$/.exec(url.pathname);
      const merge = /^\/library\/metadata\/([^/]+)\/merge$/.exec(url.pathname);
      if (req.method !== 'GET' && !(req.method === 'PUT' && (itemRefresh || merge)))
        return sendText(res, 405, 'Method Not Allowed');
      if (url.pathname === '/identity') {
        const mc = { size: 0, apiVersion: '1.1.1', claimed: true, machineIdentifier: 'f4k3pl3x', version };
        if (json) return sendJson(res, 200, { MediaContainer: mc });
        return sendText(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" claimed="1" machineIdentifier="${mc.machineIdentifier}" version="${version}"/>\n`,
          'text/xml;charset=utf-8',
        );
      }
      if (!authed)
        return sendText(res, 401, '<html><head><title>Unauthorized</title></head></html>', 'text/html');
      if (url.pathname === '/library/sections' || url.pathname === '/library/sections/') {
        if (json) {
          return sendJson(res, 200, {
            MediaContainer: {
              size: sections.length,
              allowSync: false,
              title1: 'Plex Library',
              Directory: sections.map((s) => ({
                allowSync: true,
                key: s.key,
                type: s.type,
                title: s.title,
                agent: AGENTS[s.type],
                language: 'en-US',
                refreshing: false,
                Location: s.locations.map((p) => ({ id: locId(p), path: p })),
              })),
            },
          });
        }
        const dirs = sections
          .map(
            (s) =>
              `<Directory key="${xmlEscape(s.key)}" type="${s.type}" title="${xmlEscape(s.title)}">` +
              s.locations.map((p) => `<Location id="${locId(p)}" path="${xmlEscape(p)}"/>`).join('') +
              '</Directory>',
          )
          .join('');
        return sendText(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="${sections.length}">${dirs}</MediaContainer>\n`,
          'text/xml;charset=utf-8',
        );
      }
      if (itemRefresh) {
        const key = decodeURIComponent(itemRefresh[1]!);
        if (req.method !== 'PUT') return sendText(res, 405, 'Method Not Allowed');
        if (!movies.some((mv) => mv.ratingKey === key)) return sendText(res, 404, 'Not Found');
        itemRefreshes.push(key);
        for (const mv of movies) if (mv.ratingKey === key) mv.updatedAt = nowSeconds();
        res.writeHead(200, { 'content-length': 0 }).end();
        return;
      }
      if (merge) {
        // The other items become versions of this one. The fake keeps one entry per item and file,
        // so merging entries of the same file leaves this one; another file stays listed under it.
        const key = decodeURIComponent(merge[1]!);
        const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
        const target = movies.find((mv) => mv.ratingKey === key);
        if (!target || !ids.length) return sendText(res, 404, 'Not Found');
        merges.push({ key, ids });
        for (let i = movies.length - 1; i >= 0; i--) {
          const mv = movies[i] as FakePlexMovie;
          if (!ids.includes(mv.ratingKey)) continue;
          if (mv.file === target.file) movies.splice(i, 1);
          else mv.ratingKey = key;
        }
        target.updatedAt = nowSeconds();
        res.writeHead(200, { 'content-length': 0 }).end();
        return;
      }
      const listing = /^\/library\/sections\/([^/]+)\/all$/.exec(url.pathname);
      if (listing) {
        const key = decodeURIComponent(listing[1]!);
        if (!sections.some((s) => s.key === key)) return sendText(res, 404, 'Not Found');
        const type = url.searchParams.get('type');
        const title = (url.searchParams.get('title') ?? '').toLowerCase();
        // type=1 is movies; the title filter matches anywhere in the title, ignoring case.
        const found = movies.filter(
          (mv) =>
            mv.sectionKey === key &&
            (type === null || type === '1') &&
            mv.title.toLowerCase().includes(title),
        );
        // One entry per item: entries sharing a rating key (merged versions) are its Media.
        const items = new Map<string, FakePlexMovie[]>();
        for (const mv of found) items.set(mv.ratingKey, [...(items.get(mv.ratingKey) ?? []), mv]);
        // Paging as Plex does it: X-Plex-Container-Start/-Size, as headers or query parameters.
        const paging = (name: string) => header(req, name) ?? url.searchParams.get(name);
        const start = Number(paging('x-plex-container-start') ?? 0);
        const sizeAsked = paging('x-plex-container-size');
        const all = [...items.values()];
        const page = all.slice(start, sizeAsked === null ? undefined : start + Number(sizeAsked));
        const metadata = page.map((entries) => {
          const mv = entries[0] as FakePlexMovie;
          return {
            ratingKey: mv.ratingKey,
            key: `/library/metadata/${mv.ratingKey}`,
            type: 'movie',
            title: mv.title,
            updatedAt: Math.max(...entries.map((e) => e.updatedAt)),
            Media: entries.map((e, i) => ({
              id: Number(mv.ratingKey) * 10 + i,
              Part: [{ id: Number(mv.ratingKey) * 100 + i, file: e.file }],
            })),
          };
        });
        if (json)
          return sendJson(res, 200, {
            MediaContainer: {
              size: page.length,
              totalSize: all.length,
              offset: start,
              librarySectionID: Number(key),
              Metadata: metadata,
            },
          });
        const videos = metadata
          .map(
            (v) =>
              `<Video ratingKey="${v.ratingKey}" key="${v.key}" type="movie" title="${xmlEscape(v.title)}">` +
              `<Media id="${v.Media[0]!.id}"><Part id="${v.Media[0]!.Part[0]!.id}" file="${xmlEscape(v.Media[0]!.Part[0]!.file)}"/></Media></Video>`,
          )
          .join('');
        return sendText(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="${page.length}" totalSize="${all.length}" offset="${start}">${videos}</MediaContainer>\n`,
          'text/xml;charset=utf-8',
        );
      }
      const m = /^\/library\/sections\/([^/]+)\/refresh$/.exec(url.pathname);
      if (m) {
        const key = decodeURIComponent(m[1]!);
        if (!sections.some((s) => s.key === key)) return sendText(res, 404, 'Not Found');
        refreshes.push({ key, path: url.searchParams.get('path') ?? undefined });
        if (opts.toLocal) scanSection(key, url.searchParams.get('path'), opts.toLocal);
        res.writeHead(200, { 'content-length': 0 }).end();
        return;
      }
      return sendText(res, 404, 'Not Found');
    },
  });

  return Object.assign(base, {
    token,
    calls,
    refreshes,
    movies,
    itemRefreshes,
    merges,
    addMovie: add,
    setSections(next: FakePlexSection[]) {
      sections = next;
    },
  }) as FakePlex;
}
