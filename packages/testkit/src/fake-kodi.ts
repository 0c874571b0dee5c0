/**
 * A fake Kodi speaking JSON-RPC 2.0 over HTTP (`POST /jsonrpc`), with the request/response shapes and
 * error codes of the real one (xbmc/interfaces/json-rpc/schema/methods.json). Its video library
 * answers `VideoLibrary.GetMovies` paged by `limits {start, end}` (with `limits.total`), and
 * `VideoLibrary.RemoveMovie` drops an entry (never a file).
 */

import {
  type FakeKodiEpisode,
  type FakeKodiMovie,
  type FakeKodiTvShow,
  folderOf,
  InvalidParams,
  type KodiState,
  METHODS,
  type Params,
  type ParamType,
  type RpcErrorObject,
} from './fake-kodi-methods.ts';
import type { ToLocal } from './fake-library.ts';
import {
  copyHeaders,
  type FakeServerBase,
  type Headers,
  header,
  sendJson,
  sendText,
  startFake,
} from './http-fake.ts';

export type { FakeKodiEpisode, FakeKodiMovie, FakeKodiTvShow, RpcErrorObject };

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
