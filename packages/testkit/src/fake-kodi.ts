/**
 * A fake Kodi speaking JSON-RPC 2.0 over HTTP (`POST /jsonrpc`), with the request/response shapes and
 * error codes of the real one (xbmc/interfaces/json-rpc/schema/methods.json). Its video library
 * answers `VideoLibrary.GetMovies` paged by `limits {start, end}` (with `limits.total`), and
 * `VideoLibrary.RemoveMovie` drops an entry (never a file).
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

export interface FakeKodiOptions {
  /** When set, every request must carry Basic auth with these credentials. */
  username?: string;
  password?: string;
  version?: { major: number; minor: number; patch: number };
  /**
   * Lets the fake see the test's files: `VideoLibrary.Scan {directory}` then adds the video files
   * under it that the library lacks, and `VideoLibrary.Clean` drops movies whose file is gone (under
   * `directory` when given), as Kodi does. Without it both only answer "OK".
   */
  toLocal?: ToLocal;
}

export interface FakeKodiCall {
  /** The JSON-RPC method ('' when the body was not a valid request). */
  method: string;
  params: unknown;
  id: unknown;
  /** The raw request body (shared by every call of a batch). */
  body: string;
  headers: Headers;
  at: number;
}

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

export interface FakeKodi extends FakeServerBase {
  calls: FakeKodiCall[];
  /** The video library: movies by id. Empty unless a test adds movies (as a scan would). */
  movies: Map<number, FakeKodiMovie>;
  addMovie(file: string, label?: string): FakeKodiMovie;
  /** Movie ids `VideoLibrary.RefreshMovie` was called for, with its `ignorenfo`, in order. */
  refreshes: { movieid: number; ignorenfo: boolean }[];
  /** The TV library (empty unless a test adds shows and episodes). */
  tvshows: Map<number, FakeKodiTvShow>;
  episodes: Map<number, FakeKodiEpisode>;
  addTvShow(folder: string, label: string): FakeKodiTvShow;
  addEpisode(
    tvshowid: number,
    e: { season: number; episode: number; file: string; label?: string },
  ): FakeKodiEpisode;
  /** `VideoLibrary.RefreshTVShow` / `RefreshEpisode` calls, in order. */
  tvRefreshes: { tvshowid: number; ignorenfo: boolean; refreshepisodes: boolean }[];
  episodeRefreshes: { episodeid: number; ignorenfo: boolean }[];
  /** `true` plays a video; `'audio'` plays music. */
  setPlaying(playing: boolean | 'audio'): void;
  /** Makes every method answer with this JSON-RPC error (null: back to normal). */
  setRpcError(error: RpcErrorObject | null): void;
}

type ParamType = 'string' | 'boolean' | 'number' | 'object' | 'array';
type Params = Record<string, unknown>;

class InvalidParams extends Error {}

/** The folder Kodi stores for a file (`strPath`): everything up to and including the last separator. */
const folderOf = (file: string) => file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);

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
const METHODS: Record<
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

interface KodiState {
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

type RpcResponse =
  | { jsonrpc: '2.0'; id: unknown; result: unknown }
  | { jsonrpc: '2.0'; id: unknown; error: RpcErrorObject };

function rpcError(id: unknown, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** The params as named values, or the reason Kodi would refuse them. */
function checkParams(
  method: string,
  spec: { params: Record<string, ParamType>; required?: string[] },
  params: unknown,
): Params | string {
  let named: Params = {};
  if (Array.isArray(params)) {
    const names = Object.keys(spec.params);
    if (params.length > names.length) return `Too many parameters for ${method}`;
    named = Object.fromEntries(params.map((v, i) => [names[i], v]));
  } else if (params !== undefined && params !== null && typeof params === 'object') {
    named = params as Params;
  } else if (params !== undefined && params !== null) {
    return 'Invalid type for params';
  }
  for (const [k, v] of Object.entries(named)) {
    const type = spec.params[k];
    if (!type) return `Unknown parameter "${k}"`;
    const actual = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
    if (actual !== type) return `Invalid type ${actual} received for "${k}"`;
  }
  for (const k of spec.required ?? []) if (!(k in named)) return `Missing parameter "${k}"`;
  return named;
}

export async function startFakeKodi(opts: FakeKodiOptions = {}): Promise<FakeKodi> {
  const calls: FakeKodiCall[] = [];
  const state: KodiState = {
    version: opts.version ?? { major: 21, minor: 1, patch: 0 },
    playing: false,
    rpcError: null,
    movies: new Map(),
    refreshes: [],
    toLocal: opts.toLocal,
    add(file, label) {
      const movie = { movieid: nextMovieId++, label: label ?? file.slice(folderOf(file).length), file };
      state.movies.set(movie.movieid, movie);
      return movie;
    },
    tvshows: new Map(),
    episodes: new Map(),
    tvRefreshes: [],
    episodeRefreshes: [],
  };
  let nextMovieId = 1;
  let nextTvShowId = 1;
  let nextEpisodeId = 1;
  const expectedAuth = opts.username
    ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
    : null;

  function parse(body: string): unknown {
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  }

  function answer(msg: unknown): RpcResponse | null {
    if (!msg || typeof msg !== 'object' || Array.isArray(msg))
      return rpcError(null, -32600, 'Invalid request.');
    const req = msg as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const isNotification = !('id' in req);
    const id = req.id ?? null;
    if (req.jsonrpc !== '2.0' || typeof req.method !== 'string')
      return rpcError(id, -32600, 'Invalid request.');
    const spec = METHODS[req.method];
    let res: RpcResponse;
    if (!spec) res = rpcError(id, -32601, 'Method not found.');
    else if (state.rpcError) res = { jsonrpc: '2.0', id, error: state.rpcError };
    else {
      const invalid = (message: string) =>
        rpcError(id, -32602, 'Invalid params.', { method: req.method, stack: { message, name: 'params' } });
      const named = checkParams(req.method, spec, req.params);
      if (typeof named === 'string') res = invalid(named);
      else {
        try {
          res = { jsonrpc: '2.0', id, result: spec.result(state, named) };
        } catch (err) {
          if (!(err instanceof InvalidParams)) throw err;
          res = invalid(err.message);
        }
      }
    }
    return isNotification ? null : res;
  }

  const base = await startFake({
    realm: 'Kodi',
    record({ req, body }) {
      const parsed = parse(body);
      const list = Array.isArray(parsed) ? parsed : [parsed];
      for (const m of list) {
        const msg = (m && typeof m === 'object' ? m : {}) as {
          method?: unknown;
          params?: unknown;
          id?: unknown;
        };
        calls.push({
          method: typeof msg.method === 'string' ? msg.method : '',
          params: msg.params,
          id: msg.id,
          body,
          headers: copyHeaders(req.headers),
          at: Date.now(),
        });
      }
    },
    handle({ req, res, url, body }) {
      if (url.pathname !== '/jsonrpc') return sendText(res, 404, 'Not Found');
      if (expectedAuth && header(req, 'authorization') !== expectedAuth) {
        res.setHeader('www-authenticate', 'Basic realm="Kodi"');
        return sendText(res, 401, 'Unauthorized');
      }
      if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
      if (!(header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) {
        return sendText(res, 415, 'Unsupported Media Type');
      }
      const parsed = parse(body);
      if (parsed === undefined) return sendJson(res, 200, rpcError(null, -32700, 'Parse error.'));
      if (Array.isArray(parsed)) {
        const out = parsed.map(answer).filter((r) => r !== null);
        if (out.length === 0) {
          res.writeHead(204).end();
          return;
        }
        return sendJson(res, 200, out);
      }
      const out = answer(parsed);
      if (out === null) {
        res.writeHead(204).end();
        return;
      }
      sendJson(res, 200, out);
    },
  });

  return Object.assign(base, {
    calls,
    movies: state.movies,
    refreshes: state.refreshes,
    addMovie: (file: string, label?: string) => state.add(file, label),
    tvshows: state.tvshows,
    episodes: state.episodes,
    tvRefreshes: state.tvRefreshes,
    episodeRefreshes: state.episodeRefreshes,
    addTvShow(folder: string, label: string) {
      const show = { tvshowid: nextTvShowId++, label, file: folder.replace(/[\\/]*$/, '/') };
      state.tvshows.set(show.tvshowid, show);
      return show;
    },
    addEpisode(tvshowid: number, e: { season: number; episode: number; file: string; label?: string }) {
      const episode = {
        episodeid: nextEpisodeId++,
        tvshowid,
        season: e.season,
        episode: e.episode,
        label: e.label ?? `${e.season}x${String(e.episode).padStart(2, '0')}`,
        file: e.file,
      };
      state.episodes.set(episode.episodeid, episode);
      return episode;
    },
    setPlaying(playing: boolean | 'audio') {
      state.playing = playing;
    },
    setRpcError(error: RpcErrorObject | null) {
      state.rpcError = error;
    },
  }) as FakeKodi;
}
