/**
 * Kodi JSON-RPC 2.0 over HTTP (`POST /jsonrpc`). Transport only: which folder to scan and when is
 * the notification service's business.
 */
import type { Dispatcher } from 'undici';
import { AppError } from '../errors.ts';
import { basicAuth, type HttpEndpoint, httpCall, parseJson, playerBaseUrl } from './http.ts';

export interface KodiConn {
  name: string;
  host: string;
  port: number;
  useTls: boolean;
  username?: string | null;
  password?: string | null;
}

export interface ClientOptions {
  /** Per-call timeout in ms (capped at 10 s). */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

export interface KodiVersion {
  major: number;
  minor: number;
  patch: number;
}

export interface KodiActivePlayer {
  playerid: number;
  type: string;
  playertype?: string;
}

export interface KodiClient {
  ping(signal?: AbortSignal): Promise<string>;
  /** The JSON-RPC API version (`JSONRPC.Version`). */
  version(signal?: AbortSignal): Promise<KodiVersion>;
  scanVideo(directory: string, signal?: AbortSignal): Promise<void>;
  scanAudio(directory: string, signal?: AbortSignal): Promise<void>;
  cleanVideo(directory: string, signal?: AbortSignal): Promise<void>;
  /** `AudioLibrary.Clean` takes no directory: it cleans the whole music library. */
  cleanAudio(signal?: AbortSignal): Promise<void>;
  activePlayers(signal?: AbortSignal): Promise<KodiActivePlayer[]>;
  /**
   * The library's movies whose files are in `directory` (Kodi form, with its trailing separator):
   * `VideoLibrary.GetMovies` filtered on `path` (the folder Kodi stored for the file).
   */
  moviesInFolder(directory: string, signal?: AbortSignal): Promise<{ movieid: number; file: string }[]>;
  /**
   * One page of the whole movie library (`VideoLibrary.GetMovies`, `limits: {start, end}`, end
   * exclusive), with each movie's file and the library's total. Kodi exposes no date of an item's
   * last refresh (Video.Fields.Movie has `dateadded` and `lastplayed` only), so none is asked for.
   */
  listMovies(
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<{ movies: { movieid: number; file: string }[]; total: number }>;
  /** `VideoLibrary.RemoveMovie`: drops the entry from Kodi's library; the files are not touched. */
  removeMovie(movieid: number, signal?: AbortSignal): Promise<void>;
  /** `VideoLibrary.RefreshMovie` reading the NFO and artwork beside the file (Kodi ignores them by default). */
  refreshMovie(movieid: number, signal?: AbortSignal): Promise<void>;
  /** Any method, for diagnostics. */
  call<T = unknown>(method: string, params?: Record<string, unknown>, signal?: AbortSignal): Promise<T>;
}

/**
 * Kodi's own codes (xbmc JSONRPC_STATUS): -32603 internal error and -32100 "failed to execute" are
 * conditions of the box right now (busy, a library job still running), so a later attempt can work.
 * Parse/invalid request/params, method not found and bad permission will fail the same way again.
 */
const TRANSIENT_RPC_CODES = new Set([-32603, -32100]);

interface RpcError {
  code?: unknown;
  message?: unknown;
}

export function createKodiClient(conn: KodiConn, opts: ClientOptions = {}): KodiClient {
  const endpoint: HttpEndpoint = {
    name: conn.name,
    baseUrl: playerBaseUrl(conn.name, conn),
    timeoutMs: opts.timeoutMs,
    dispatcher: opts.dispatcher,
  };
  const headers: Record<string, string> = { accept: 'application/json' };
  if (conn.username) headers['authorization'] = basicAuth(conn.username, conn.password);
  let nextId = 1;

  async function call<T>(method: string, params?: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const id = nextId++;
    const payload: Record<string, unknown> = { jsonrpc: '2.0', method, id };
    if (params !== undefined) payload['params'] = params;
    const res = await httpCall(endpoint, {
      method: 'POST',
      path: '/jsonrpc',
      headers,
      json: payload,
      signal,
    });
    const body = parseJson(endpoint, res.text);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new AppError('PLAYER_BAD_RESPONSE', `player ${conn.name} sent a malformed JSON-RPC answer`, {
        retryable: false,
      });
    }
    const obj = body as { id?: unknown; result?: unknown; error?: RpcError | null };
    if (obj.error && typeof obj.error === 'object') {
      const code = typeof obj.error.code === 'number' ? obj.error.code : undefined;
      const message = typeof obj.error.message === 'string' ? obj.error.message : 'unknown error';
      throw new AppError(
        'KODI_RPC_ERROR',
        `player ${conn.name} rejected ${method}: ${message}${code === undefined ? '' : ` (${code})`}`,
        {
          retryable: code !== undefined && TRANSIENT_RPC_CODES.has(code),
          details: { player: conn.name, method, rpcCode: code },
        },
      );
    }
    if (!('result' in obj) || (obj.id !== undefined && obj.id !== null && obj.id !== id)) {
      throw new AppError(
        'PLAYER_BAD_RESPONSE',
        `player ${conn.name} sent a malformed JSON-RPC answer to ${method}`,
        {
          retryable: false,
        },
      );
    }
    return obj.result as T;
  }

  async function ack(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    const result = await call<unknown>(method, params, signal);
    if (result !== 'OK') {
      throw new AppError(
        'PLAYER_BAD_RESPONSE',
        `player ${conn.name} answered ${method} with an unexpected result`,
        {
          retryable: false,
        },
      );
    }
  }

  return {
    call,
    async ping(signal) {
      const result = await call<unknown>('JSONRPC.Ping', undefined, signal);
      if (result !== 'pong') {
        throw new AppError(
          'PLAYER_BAD_RESPONSE',
          `player ${conn.name} answered JSONRPC.Ping with an unexpected result`,
          {
            retryable: false,
          },
        );
      }
      return result;
    },
    async version(signal) {
      const result = await call<{ version?: Partial<KodiVersion> }>('JSONRPC.Version', undefined, signal);
      const v = result?.version;
      if (!v || typeof v.major !== 'number') {
        throw new AppError(
          'PLAYER_BAD_RESPONSE',
          `player ${conn.name} answered JSONRPC.Version without a version`,
          {
            retryable: false,
          },
        );
      }
      return { major: v.major, minor: v.minor ?? 0, patch: v.patch ?? 0 };
    },
    scanVideo: (directory, signal) => ack('VideoLibrary.Scan', { directory, showdialogs: false }, signal),
    scanAudio: (directory, signal) => ack('AudioLibrary.Scan', { directory, showdialogs: false }, signal),
    cleanVideo: (directory, signal) => ack('VideoLibrary.Clean', { directory, showdialogs: false }, signal),
    cleanAudio: (signal) => ack('AudioLibrary.Clean', { showdialogs: false }, signal),
    async moviesInFolder(directory, signal) {
      const result = await call<{ movies?: unknown }>(
        'VideoLibrary.GetMovies',
        {
          properties: ['file'],
          // `startswith`: a disc folder's files live deeper (…/Movie (2000)/BDMV/…) and are the same movie.
          filter: { field: 'path', operator: 'startswith', value: directory },
          limits: { start: 0, end: 50 },
        },
        signal,
      );
      // An empty answer has no `movies` list at all.
      const movies = result?.movies ?? [];
      if (!Array.isArray(movies) || movies.some((m) => typeof m?.movieid !== 'number')) {
        throw new AppError(
          'PLAYER_BAD_RESPONSE',
          `player ${conn.name} answered VideoLibrary.GetMovies oddly`,
          {
            retryable: false,
          },
        );
      }
      return (movies as { movieid: number; file?: unknown }[]).map((m) => ({
        movieid: m.movieid,
        file: typeof m.file === 'string' ? m.file : '',
      }));
    },
    async listMovies(start, end, signal) {
      const result = await call<{ movies?: unknown; limits?: { total?: unknown } }>(
        'VideoLibrary.GetMovies',
        { properties: ['file'], limits: { start, end }, sort: { method: 'none' } },
        signal,
      );
      const movies = result?.movies ?? [];
      const total = result?.limits?.total;
      if (
        !Array.isArray(movies) ||
        typeof total !== 'number' ||
        movies.some((m) => typeof m?.movieid !== 'number')
      ) {
        throw new AppError(
          'PLAYER_BAD_RESPONSE',
          `player ${conn.name} answered VideoLibrary.GetMovies oddly`,
          { retryable: false },
        );
      }
      return {
        total,
        movies: (movies as { movieid: number; file?: unknown }[]).map((m) => ({
          movieid: m.movieid,
          file: typeof m.file === 'string' ? m.file : '',
        })),
      };
    },
    removeMovie: (movieid, signal) => ack('VideoLibrary.RemoveMovie', { movieid }, signal),
    refreshMovie: (movieid, signal) =>
      ack('VideoLibrary.RefreshMovie', { movieid, ignorenfo: false }, signal),
    async activePlayers(signal) {
      const result = await call<unknown>('Player.GetActivePlayers', undefined, signal);
      if (!Array.isArray(result)) {
        throw new AppError(
          'PLAYER_BAD_RESPONSE',
          `player ${conn.name} answered Player.GetActivePlayers oddly`,
          {
            retryable: false,
          },
        );
      }
      return result as KodiActivePlayer[];
    },
  };
}
