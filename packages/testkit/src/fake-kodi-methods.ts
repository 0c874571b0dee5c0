/**
 * The fake Kodi's JSON-RPC methods and its library (movies; TV shows and episodes) — what
 * `VideoLibrary.*` answers, with Kodi's parameter checks, filters and paging.
 */
import { isGone, isUnder, type ToLocal, videosUnder } from './fake-library.ts';

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A movie in the fake's video library, as `VideoLibrary.GetMovies` lists it. */
export interface FakeKodiMovie {
  movieid: number;
  label: string;
  /** The video file, in Kodi's form (e.g. `smb://nas/movies/Heat (1995)/Heat (1995).mkv`). */
  file: string;
}

/** A TV show in the fake's library: `file` is its folder with the trailing separator, as Kodi stores it. */
export interface FakeKodiTvShow {
  tvshowid: number;
  label: string;
  file: string;
}

/** An episode: its video file (several episodes of a multi-episode file share one). */
export interface FakeKodiEpisode {
  episodeid: number;
  tvshowid: number;
  season: number;
  episode: number;
  label: string;
  file: string;
}

export type ParamType = 'string' | 'boolean' | 'number' | 'object' | 'array';
export type Params = Record<string, unknown>;

export class InvalidParams extends Error {}

/** The folder Kodi stores for a file (`strPath`): everything up to and including the last separator. */
export const folderOf = (file: string) =>
  file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);

/** The filter fields of an item with a file: `path` is the file's folder, `filename` its name. */
const fileFields = (file: string, label: string) => ({
  path: folderOf(file),
  filename: file.slice(folderOf(file).length),
  title: label,
});

/**
 * A `List.Filter.Movies`/`.TVShows`/`.Episodes` rule or `and`/`or` group, for the fields a path lookup
 * uses (`path`, `filename`, `title`) and the string operators.
 */
function matches(fields: Record<string, string>, filter: unknown): boolean {
  if (!filter || typeof filter !== 'object') throw new InvalidParams('Invalid filter');
  const f = filter as {
    and?: unknown[];
    or?: unknown[];
    field?: unknown;
    operator?: unknown;
    value?: unknown;
  };
  if (Array.isArray(f.and)) return f.and.every((x) => matches(fields, x));
  if (Array.isArray(f.or)) return f.or.some((x) => matches(fields, x));
  if (typeof f.field !== 'string' || !(f.field in fields)) throw new InvalidParams('Invalid filter field');
  if (typeof f.value !== 'string') throw new InvalidParams('Invalid filter value');
  const have = fields[f.field] as string;
  switch (f.operator) {
    case 'is':
      return have === f.value;
    case 'isnot':
      return have !== f.value;
    case 'startswith':
      return have.startsWith(f.value);
    case 'contains':
      return have.includes(f.value);
    default:
      throw new InvalidParams('Invalid filter operator');
  }
}

/** One page of a list answer (`limits {start, end}`), Kodi's shape: no list key when it is empty. */
function listPage<T>(
  all: T[],
  p: Params,
  key: string,
  shape: (item: T, props: Set<string>) => Record<string, unknown>,
): Record<string, unknown> {
  const limits = (p['limits'] ?? {}) as { start?: number; end?: number };
  const start = limits.start ?? 0;
  const page = all.slice(start, limits.end === undefined || limits.end < 0 ? undefined : limits.end);
  const props = new Set((p['properties'] as string[] | undefined) ?? []);
  const out: Record<string, unknown> = { limits: { start, end: start + page.length, total: all.length } };
  if (page.length) out[key] = page.map((x) => shape(x, props));
  return out;
}

/** Parameter names (in positional order) each supported method accepts. */
export const METHODS: Record<
  string,
  { params: Record<string, ParamType>; required?: string[]; result: (k: KodiState, p: Params) => unknown }
> = {
  'JSONRPC.Ping': { params: {}, result: () => 'pong' },
  'JSONRPC.Version': { params: {}, result: (k) => ({ version: k.version }) },
  'VideoLibrary.Scan': {
    params: { directory: 'string', showdialogs: 'boolean' },
    result: (k, p) => {
      const dir = p['directory'] as string | undefined;
      if (k.toLocal && dir) {
        const known = new Set([...k.movies.values()].map((m) => m.file));
        for (const v of videosUnder(dir, k.toLocal)) if (!known.has(v.file)) k.add(v.file, v.folderName);
      }
      return 'OK';
    },
  },
  'VideoLibrary.Clean': {
    params: { showdialogs: 'boolean', content: 'string', directory: 'string' },
    result: (k, p) => {
      const dir = p['directory'] as string | undefined;
      const toLocal = k.toLocal;
      if (toLocal)
        for (const m of [...k.movies.values()])
          if ((dir === undefined || isUnder(m.file, dir)) && isGone(m.file, toLocal))
            k.movies.delete(m.movieid);
      return 'OK';
    },
  },
  'AudioLibrary.Scan': { params: { directory: 'string', showdialogs: 'boolean' }, result: () => 'OK' },
  'AudioLibrary.Clean': { params: { showdialogs: 'boolean' }, result: () => 'OK' },
  'VideoLibrary.GetMovies': {
    params: { properties: 'array', limits: 'object', sort: 'object', filter: 'object' },
    result: (k, p) =>
      listPage(
        [...k.movies.values()].filter(
          (m) => p['filter'] === undefined || matches(fileFields(m.file, m.label), p['filter']),
        ),
        p,
        'movies',
        (m, props) => ({ movieid: m.movieid, label: m.label, ...(props.has('file') && { file: m.file }) }),
      ),
  },
  'VideoLibrary.RefreshMovie': {
    params: { movieid: 'number', ignorenfo: 'boolean', title: 'string' },
    required: ['movieid'],
    result: (k, p) => {
      const movieid = p['movieid'] as number;
      if (!k.movies.has(movieid)) throw new InvalidParams(`No movie with id ${movieid}`);
      // Kodi's default: a refresh ignores the NFO unless told otherwise.
      k.refreshes.push({ movieid, ignorenfo: (p['ignorenfo'] as boolean | undefined) ?? true });
      return 'OK';
    },
  },
  'VideoLibrary.RemoveMovie': {
    params: { movieid: 'number' },
    required: ['movieid'],
    result: (k, p) => {
      const movieid = p['movieid'] as number;
      if (!k.movies.has(movieid)) throw new InvalidParams(`No movie with id ${movieid}`);
      // Only the library entry goes; Kodi never deletes the file.
      k.movies.delete(movieid);
      return 'OK';
    },
  },
  // TV: shows are listed by their folder (`file` is the show's path, as Kodi's tvshow `file` is),
  // episodes by their video file; both filterable by `path`/`filename`/`title` like movies.
  'VideoLibrary.GetTVShows': {
    params: { properties: 'array', limits: 'object', sort: 'object', filter: 'object' },
    result: (k, p) =>
      listPage(
        [...k.tvshows.values()].filter(
          (s) =>
            p['filter'] === undefined || matches({ path: s.file, filename: '', title: s.label }, p['filter']),
        ),
        p,
        'tvshows',
        (s, props) => ({ tvshowid: s.tvshowid, label: s.label, ...(props.has('file') && { file: s.file }) }),
      ),
  },
  'VideoLibrary.GetEpisodes': {
    params: {
      tvshowid: 'number',
      season: 'number',
      properties: 'array',
      limits: 'object',
      sort: 'object',
      filter: 'object',
    },
    result: (k, p) =>
      listPage(
        [...k.episodes.values()].filter(
          (e) =>
            (p['tvshowid'] === undefined || e.tvshowid === p['tvshowid']) &&
            (p['season'] === undefined || e.season === p['season']) &&
            (p['filter'] === undefined || matches(fileFields(e.file, e.label), p['filter'])),
        ),
        p,
        'episodes',
        (e, props) => ({
          episodeid: e.episodeid,
          label: e.label,
          ...(props.has('file') && { file: e.file }),
          ...(props.has('season') && { season: e.season }),
          ...(props.has('episode') && { episode: e.episode }),
          ...(props.has('tvshowid') && { tvshowid: e.tvshowid }),
        }),
      ),
  },
  'VideoLibrary.RefreshTVShow': {
    params: { tvshowid: 'number', ignorenfo: 'boolean', refreshepisodes: 'boolean', title: 'string' },
    required: ['tvshowid'],
    result: (k, p) => {
      const tvshowid = p['tvshowid'] as number;
      if (!k.tvshows.has(tvshowid)) throw new InvalidParams(`No tv show with id ${tvshowid}`);
      k.tvRefreshes.push({
        tvshowid,
        ignorenfo: (p['ignorenfo'] as boolean | undefined) ?? true,
        refreshepisodes: (p['refreshepisodes'] as boolean | undefined) ?? false,
      });
      return 'OK';
    },
  },
  'VideoLibrary.RefreshEpisode': {
    params: { episodeid: 'number', ignorenfo: 'boolean', title: 'string' },
    required: ['episodeid'],
    result: (k, p) => {
      const episodeid = p['episodeid'] as number;
      if (!k.episodes.has(episodeid)) throw new InvalidParams(`No episode with id ${episodeid}`);
      k.episodeRefreshes.push({ episodeid, ignorenfo: (p['ignorenfo'] as boolean | undefined) ?? true });
      return 'OK';
    },
  },
  'Player.GetActivePlayers': {
    params: {},
    result: (k) =>
      k.playing === 'audio'
        ? [{ playerid: 0, type: 'audio', playertype: 'internal' }]
        : k.playing
          ? [{ playerid: 1, type: 'video', playertype: 'internal' }]
          : [],
  },
};

export interface KodiState {
  version: { major: number; minor: number; patch: number };
  playing: boolean | 'audio';
  rpcError: RpcErrorObject | null;
  movies: Map<number, FakeKodiMovie>;
  refreshes: { movieid: number; ignorenfo: boolean }[];
  toLocal: ToLocal | undefined;
  add(file: string, label?: string): FakeKodiMovie;
  tvshows: Map<number, FakeKodiTvShow>;
  episodes: Map<number, FakeKodiEpisode>;
  tvRefreshes: { tvshowid: number; ignorenfo: boolean; refreshepisodes: boolean }[];
  episodeRefreshes: { episodeid: number; ignorenfo: boolean }[];
}
