/**
 * Plex Media Server: find the library section whose location holds the folder
 * (`GET /library/sections`), then ask for a partial scan of that folder
 * (`GET /library/sections/{key}/refresh?path=…`). Authenticated with the `X-Plex-Token` header.
 */
import { AppError } from '../errors.ts';
import { containsPath } from '../paths.ts';
import { type HttpEndpoint, httpCall, parseJson, playerBaseUrl } from './http.ts';
import type { ClientOptions } from './kodi.ts';

export interface PlexConn {
  name: string;
  host: string;
  port: number;
  useTls: boolean;
  apiKey?: string | null;
}

export interface PlexLocation {
  id?: number;
  path: string;
}

export interface PlexSection {
  key: string;
  type: string;
  title: string;
  locations: PlexLocation[];
}

export interface PlexClient {
  sections(signal?: AbortSignal): Promise<PlexSection[]>;
  refreshSection(key: string, path: string, signal?: AbortSignal): Promise<void>;
  /** The section's movies whose title contains `title`, one entry per media file. */
  findMovies(
    sectionKey: string,
    title: string,
    signal?: AbortSignal,
  ): Promise<{ id: string; file: string }[]>;
  /**
   * One page of a section's movies (`/library/sections/{key}/all?type=1` with
   * `X-Plex-Container-Start`/`-Size`), one entry per item with its files and `updatedAt` (seconds
   * since the epoch: when the item's metadata last changed), and the section's total (`totalSize`).
   */
  listMovies(
    sectionKey: string,
    start: number,
    size: number,
    signal?: AbortSignal,
  ): Promise<{ items: { id: string; files: string[]; updatedAt: number | null }[]; total: number }>;
  /**
   * `PUT /library/metadata/{ratingKey}/merge?ids=…`: the other items become versions of this one
   * (Plex's "Merge"); nothing on disk is touched.
   */
  mergeItems(ratingKey: string, otherKeys: string[], signal?: AbortSignal): Promise<void>;
  /** `PUT /library/metadata/{ratingKey}/refresh`: the item's metadata and local artwork are read again. */
  refreshItem(ratingKey: string, signal?: AbortSignal): Promise<void>;
  /** `GET /identity` (public): the server version. */
  identity(signal?: AbortSignal): Promise<{ version: string; machineIdentifier?: string }>;
}

/** Section types that can hold each kind of media. */
const SECTION_TYPES: Record<'video' | 'music', string[]> = { video: ['movie', 'show'], music: ['artist'] };

/**
 * The section whose location holds `folder`; the deepest location wins when locations nest.
 * None → a permanent error naming the folder and every section's locations.
 */
export function findSectionForPath(
  playerName: string,
  sections: PlexSection[],
  folder: string,
  mediaKind?: 'video' | 'music',
): { section: PlexSection; location: string } {
  const candidates = mediaKind ? sections.filter((s) => SECTION_TYPES[mediaKind].includes(s.type)) : sections;
  let best: { section: PlexSection; location: string; depth: number } | null = null;
  for (const section of candidates) {
    for (const loc of section.locations) {
      const depth = containsPath(loc.path, folder);
      if (depth >= 0 && (!best || depth > best.depth)) best = { section, location: loc.path, depth };
    }
  }
  if (!best) {
    const known = sections.length
      ? sections.map(
          (s) => `${s.title} [${s.type}]: ${s.locations.map((l) => l.path).join(', ') || '(none)'}`,
        )
      : ['(no library sections)'];
    throw new AppError(
      'PLEX_NO_SECTION',
      `player ${playerName} has no ${mediaKind ?? ''}${mediaKind ? ' ' : ''}library section containing ${folder}; its sections: ${known.join('; ')}`,
      { retryable: false, details: { player: playerName, folder } },
    );
  }
  return { section: best.section, location: best.location };
}

interface RawDirectory {
  key?: unknown;
  type?: unknown;
  title?: unknown;
  Location?: { id?: unknown; path?: unknown }[];
}

export function createPlexClient(conn: PlexConn, opts: ClientOptions = {}): PlexClient {
  if (!conn.apiKey) {
    throw new AppError('PLAYER_AUTH', `check the credentials of player ${conn.name}`, {
      retryable: false,
      details: { player: conn.name, reason: 'no Plex token configured' },
    });
  }
  const endpoint: HttpEndpoint = {
    name: conn.name,
    baseUrl: playerBaseUrl(conn.name, conn),
    timeoutMs: opts.timeoutMs,
    dispatcher: opts.dispatcher,
  };
  const headers: Record<string, string> = {
    accept: 'application/json',
    'x-plex-token': conn.apiKey,
    'x-plex-product': 'Metarr',
    'x-plex-client-identifier': 'metarr',
  };

  function bad(what: string): AppError {
    return new AppError('PLAYER_BAD_RESPONSE', `player ${conn.name} sent an unexpected ${what}`, {
      retryable: false,
    });
  }

  return {
    async sections(signal) {
      const res = await httpCall(endpoint, { method: 'GET', path: '/library/sections', headers, signal });
      const body = parseJson(endpoint, res.text) as {
        MediaContainer?: { Directory?: RawDirectory[] };
      } | null;
      const container = body?.MediaContainer;
      if (!container || typeof container !== 'object') throw bad('library section list');
      const dirs = Array.isArray(container.Directory) ? container.Directory : [];
      return dirs.map((d) => ({
        key: String(d.key ?? ''),
        type: String(d.type ?? ''),
        title: String(d.title ?? ''),
        locations: (Array.isArray(d.Location) ? d.Location : [])
          .filter((l) => typeof l?.path === 'string')
          .map((l) => ({ ...(typeof l.id === 'number' ? { id: l.id } : {}), path: l.path as string })),
      }));
    },
    async refreshSection(key, path, signal) {
      await httpCall(endpoint, {
        method: 'GET',
        path: `/library/sections/${encodeURIComponent(key)}/refresh`,
        query: { path },
        headers,
        signal,
      });
    },
    async findMovies(sectionKey, title, signal) {
      const res = await httpCall(endpoint, {
        method: 'GET',
        path: `/library/sections/${encodeURIComponent(sectionKey)}/all`,
        query: { type: '1', title },
        headers,
        signal,
      });
      const body = parseJson(endpoint, res.text) as {
        MediaContainer?: { Metadata?: { ratingKey?: unknown; Media?: { Part?: { file?: unknown }[] }[] }[] };
      } | null;
      const mc = body?.MediaContainer;
      if (!mc || typeof mc !== 'object') throw bad('item list');
      return (Array.isArray(mc.Metadata) ? mc.Metadata : []).flatMap((m) =>
        typeof m?.ratingKey === 'string' || typeof m?.ratingKey === 'number'
          ? (m.Media ?? []).flatMap((media) =>
              (media?.Part ?? [])
                .filter((part) => typeof part?.file === 'string')
                .map((part) => ({ id: String(m.ratingKey), file: part.file as string })),
            )
          : [],
      );
    },
    async listMovies(sectionKey, start, size, signal) {
      const res = await httpCall(endpoint, {
        method: 'GET',
        path: `/library/sections/${encodeURIComponent(sectionKey)}/all`,
        // Oldest first: an item added during the audit lands on a later page.
        query: { type: '1', sort: 'addedAt:asc' },
        headers: {
          ...headers,
          'x-plex-container-start': String(start),
          'x-plex-container-size': String(size),
        },
        signal,
      });
      const body = parseJson(endpoint, res.text) as {
        MediaContainer?: {
          totalSize?: unknown;
          size?: unknown;
          Metadata?: {
            ratingKey?: unknown;
            updatedAt?: unknown;
            Media?: { Part?: { file?: unknown }[] }[];
          }[];
        };
      } | null;
      const mc = body?.MediaContainer;
      if (!mc || typeof mc !== 'object') throw bad('item list');
      const list = Array.isArray(mc.Metadata) ? mc.Metadata : [];
      const total = typeof mc.totalSize === 'number' ? mc.totalSize : start + list.length;
      return {
        total,
        items: list
          .filter((m) => typeof m?.ratingKey === 'string' || typeof m?.ratingKey === 'number')
          .map((m) => ({
            id: String(m.ratingKey),
            files: (m.Media ?? []).flatMap((media) =>
              (media?.Part ?? []).filter((p) => typeof p?.file === 'string').map((p) => p.file as string),
            ),
            updatedAt: typeof m.updatedAt === 'number' ? m.updatedAt : null,
          })),
      };
    },
    async mergeItems(ratingKey, otherKeys, signal) {
      await httpCall(endpoint, {
        method: 'PUT',
        path: `/library/metadata/${encodeURIComponent(ratingKey)}/merge`,
        query: { ids: otherKeys.join(',') },
        headers,
        signal,
      });
    },
    async refreshItem(ratingKey, signal) {
      await httpCall(endpoint, {
        method: 'PUT',
        path: `/library/metadata/${encodeURIComponent(ratingKey)}/refresh`,
        headers,
        signal,
      });
    },
    async identity(signal) {
      const res = await httpCall(endpoint, { method: 'GET', path: '/identity', headers, signal });
      const body = parseJson(endpoint, res.text) as {
        MediaContainer?: { version?: unknown; machineIdentifier?: unknown };
      } | null;
      const mc = body?.MediaContainer;
      if (!mc || typeof mc.version !== 'string') throw bad('identity');
      return {
        version: mc.version,
        ...(typeof mc.machineIdentifier === 'string' ? { machineIdentifier: mc.machineIdentifier } : {}),
      };
    },
  };
}
