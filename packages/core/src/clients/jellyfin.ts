/**
 * Jellyfin and Emby: both accept `POST /Library/Media/Updated` with `{Updates:[{Path, UpdateType}]}` and
 * then rescan just the reported paths. Jellyfin authenticates with
 * `Authorization: MediaBrowser Token="<key>"`; Emby serves the API under `/emby` and takes `X-Emby-Token`.
 */
import { AppError } from '../errors.ts';
import { type HttpEndpoint, httpCall, parseJson, playerBaseUrl } from './http.ts';
import type { ClientOptions } from './kodi.ts';

export type JellyfinFlavor = 'jellyfin' | 'emby';
export type MediaUpdateType = 'Created' | 'Modified' | 'Deleted';

export interface JellyfinConn {
  name: string;
  host: string;
  port: number;
  useTls: boolean;
  apiKey?: string | null;
}

export interface JellyfinServerInfo {
  version: string;
  name?: string;
  id?: string;
}

export interface JellyfinClient {
  readonly flavor: JellyfinFlavor;
  /** `POST /Library/Media/Updated`; the server answers 204. */
  mediaUpdated(updates: { path: string; updateType: MediaUpdateType }[], signal?: AbortSignal): Promise<void>;
  /** `GET /System/Info/Public`: reachable and really Jellyfin/Emby (no authentication needed). */
  /** Movies whose name matches `searchTerm`, with their file paths (`GET /Items`, recursive). */
  findMovies(searchTerm: string, signal?: AbortSignal): Promise<{ id: string; file: string }[]>;
  /**
   * One page of the server's movies with their file paths (`GET /Items`, recursive, `StartIndex` and
   * `Limit`), and the total (`TotalRecordCount`). The item DTO carries no date of its last refresh
   * (`DateLastSaved`/`DateLastRefreshed` are ItemFields the server does not put in the DTO), so none is
   * asked for.
   */
  listMovies(
    startIndex: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<{ items: { id: string; file: string }[]; total: number }>;
  /**
   * `POST /Items/{id}/Refresh` in the "scan for new and updated files" mode: the server re-reads
   * local NFO and artwork that changed, without replacing anything from its own providers.
   */
  refreshItem(id: string, signal?: AbortSignal): Promise<void>;
  publicInfo(signal?: AbortSignal): Promise<JellyfinServerInfo>;
  /** `GET /System/Info`: the same, but only with a valid API key. */
  systemInfo(signal?: AbortSignal): Promise<JellyfinServerInfo>;
}

export function createJellyfinClient(
  conn: JellyfinConn,
  flavor: JellyfinFlavor,
  opts: ClientOptions = {},
): JellyfinClient {
  if (!conn.apiKey) {
    throw new AppError('PLAYER_AUTH', `check the credentials of player ${conn.name}`, {
      retryable: false,
      details: { player: conn.name, reason: 'no API key configured' },
    });
  }
  const base = playerBaseUrl(conn.name, conn);
  const endpoint: HttpEndpoint = {
    name: conn.name,
    baseUrl: flavor === 'emby' && !/\/emby$/i.test(base) ? `${base}/emby` : base,
    timeoutMs: opts.timeoutMs,
    dispatcher: opts.dispatcher,
  };
  const auth: Record<string, string> =
    flavor === 'emby'
      ? { 'x-emby-token': conn.apiKey }
      : { authorization: `MediaBrowser Token="${conn.apiKey}"` };

  async function info(path: string, headers: Record<string, string>, signal?: AbortSignal) {
    const res = await httpCall(endpoint, {
      method: 'GET',
      path,
      headers: { accept: 'application/json', ...headers },
      signal,
    });
    const body = parseJson(endpoint, res.text) as {
      Version?: unknown;
      ServerName?: unknown;
      Id?: unknown;
    } | null;
    if (!body || typeof body.Version !== 'string') {
      throw new AppError('PLAYER_BAD_RESPONSE', `player ${conn.name} did not report a server version`, {
        retryable: false,
      });
    }
    return {
      version: body.Version,
      ...(typeof body.ServerName === 'string' ? { name: body.ServerName } : {}),
      ...(typeof body.Id === 'string' ? { id: body.Id } : {}),
    };
  }

  const oddItems = () =>
    new AppError('PLAYER_BAD_RESPONSE', `player ${conn.name} answered an item query oddly`, {
      retryable: false,
    });

  /** `GET /Items` over the whole library's movies (file paths included) with these extra parameters. */
  async function movieItems(extra: Record<string, string>, signal?: AbortSignal) {
    const res = await httpCall(endpoint, {
      method: 'GET',
      path: '/Items',
      query: { Recursive: 'true', IncludeItemTypes: 'Movie', Fields: 'Path', ...extra },
      headers: { accept: 'application/json', ...auth },
      signal,
    });
    const body = parseJson(endpoint, res.text) as {
      Items?: { Id?: unknown; Path?: unknown }[];
      TotalRecordCount?: unknown;
    } | null;
    if (!body || !Array.isArray(body.Items)) throw oddItems();
    return { Items: body.Items, TotalRecordCount: body.TotalRecordCount };
  }

  return {
    flavor,
    async mediaUpdated(updates, signal) {
      await httpCall(endpoint, {
        method: 'POST',
        path: '/Library/Media/Updated',
        headers: auth,
        json: { Updates: updates.map((u) => ({ Path: u.path, UpdateType: u.updateType })) },
        signal,
      });
    },
    async findMovies(searchTerm, signal) {
      const body = await movieItems({ SearchTerm: searchTerm, Limit: '50' }, signal);
      return body.Items.filter((i) => typeof i?.Id === 'string' && typeof i.Path === 'string').map((i) => ({
        id: i.Id as string,
        file: i.Path as string,
      }));
    },
    async listMovies(startIndex, limit, signal) {
      const body = await movieItems(
        {
          // Oldest first: an item added while the audit pages through lands on a later page instead
          // of shifting the pages not read yet.
          SortBy: 'DateCreated,SortName',
          SortOrder: 'Ascending',
          StartIndex: String(startIndex),
          Limit: String(limit),
        },
        signal,
      );
      if (typeof body.TotalRecordCount !== 'number') throw oddItems();
      return {
        total: body.TotalRecordCount,
        items: body.Items.filter((i) => typeof i?.Id === 'string').map((i) => ({
          id: i.Id as string,
          file: typeof i.Path === 'string' ? i.Path : '',
        })),
      };
    },
    async refreshItem(id, signal) {
      await httpCall(endpoint, {
        method: 'POST',
        path: `/Items/${encodeURIComponent(id)}/Refresh`,
        query: {
          MetadataRefreshMode: 'Default',
          ImageRefreshMode: 'Default',
          ReplaceAllMetadata: 'false',
          ReplaceAllImages: 'false',
        },
        headers: auth,
        signal,
      });
    },
    publicInfo: (signal) => info('/System/Info/Public', {}, signal),
    systemInfo: (signal) => info('/System/Info', auth, signal),
  };
}
