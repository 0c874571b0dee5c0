/**
 * A fake Jellyfin that also plays Emby under `/emby`.
 *
 * - Jellyfin routes authenticate with `Authorization: MediaBrowser Token="<key>"`;
 * - `/emby/...` routes authenticate with `X-Emby-Token: <key>`;
 * - `GET /System/Info/Public` needs no authentication (as on the real servers), `GET /System/Info` does;
 * - `POST /Library/Media/Updated` takes `{Updates:[{Path, UpdateType}]}` and answers 204;
 * - `GET /Items` lists the library the test gave it (`addItem`), filtered by `IncludeItemTypes` and
 *   `SearchTerm` (case-insensitive, in the name), recursive only when asked, `Path` only in `Fields`,
 *   paged by `StartIndex`/`Limit` with `TotalRecordCount`;
 * - `POST /Items/{id}/Refresh` records the refresh modes and answers 204 (404 for an unknown id).
 * Routes match case-insensitively, like ASP.NET's.
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

export interface FakeJellyfinOptions {
  apiKey?: string;
  serverName?: string;
  version?: string;
  /**
   * Lets the fake see the test's files: a `Created`/`Modified` media update adds the video files under
   * its path that the library lacks (named after their folder), a `Deleted` one drops the items under
   * it whose file is gone — what the server's library monitor does with them.
   */
  toLocal?: ToLocal;
}

export interface FakeJellyfinCall {
  /** HTTP method. */
  method: string;
  /** Path without the `/emby` prefix, e.g. `/Library/Media/Updated`. */
  path: string;
  flavor: 'jellyfin' | 'emby';
  query: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  headers: Headers;
  at: number;
}

export interface FakeMediaUpdate {
  flavor: 'jellyfin' | 'emby';
  path: string;
  updateType: string | undefined;
}

export interface FakeJellyfinItem {
  Id: string;
  Name: string;
  Type: string;
  /** The media file, in the server's form. */
  Path: string;
}

export interface FakeJellyfin extends FakeServerBase {
  apiKey: string;
  calls: FakeJellyfinCall[];
  /** Accepted `Library/Media/Updated` entries, in order. */
  updates: FakeMediaUpdate[];
  /** The library: items by id. Empty unless a test adds items (as a library scan would). */
  items: Map<string, FakeJellyfinItem>;
  addItem(item: { name: string; path: string; type?: string }): FakeJellyfinItem;
  /** `Items/{id}/Refresh` calls, in order, with their query (keys as sent). */
  itemRefreshes: { id: string; query: Record<string, string> }[];
}

/** `MediaBrowser Client="x", Token="abc"` → { client: 'x', token: 'abc' } (keys lowercased). */
function parseMediaBrowserAuth(value: string | undefined): Record<string, string> | null {
  if (!value) return null;
  const m = /^\s*(?:MediaBrowser|Emby)\s+(.*)$/i.exec(value);
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const part of m[1]!.matchAll(/([A-Za-z]+)\s*=\s*"([^"]*)"/g)) out[part[1]!.toLowerCase()] = part[2]!;
  return out;
}

export async function startFakeJellyfin(opts: FakeJellyfinOptions = {}): Promise<FakeJellyfin> {
  const apiKey = opts.apiKey ?? 'jf-test-key';
  const calls: FakeJellyfinCall[] = [];
  const updates: FakeMediaUpdate[] = [];
  const items = new Map<string, FakeJellyfinItem>();
  const itemRefreshes: { id: string; query: Record<string, string> }[] = [];
  let nextItem = 1;

  function add(item: { name: string; path: string; type?: string }): FakeJellyfinItem {
    const added = {
      Id: (nextItem++).toString(16).padStart(32, '0'),
      Name: item.name,
      Type: item.type ?? 'Movie',
      Path: item.path,
    };
    items.set(added.Id, added);
    return added;
  }

  function applyUpdate(path: string, updateType: string | undefined, toLocal: ToLocal) {
    if (updateType === 'Deleted') {
      for (const i of [...items.values()])
        if (isUnder(i.Path, path) && isGone(i.Path, toLocal)) items.delete(i.Id);
      return;
    }
    const known = new Set([...items.values()].map((i) => i.Path));
    for (const v of videosUnder(path, toLocal))
      if (!known.has(v.file)) add({ name: v.folderName, path: v.file });
  }

  function split(pathname: string): { flavor: 'jellyfin' | 'emby'; path: string } {
    const m = /^\/emby(\/.*)?$/i.exec(pathname);
    return m ? { flavor: 'emby', path: m[1] ?? '/' } : { flavor: 'jellyfin', path: pathname };
  }

  function parseBody(body: string): unknown {
    if (body === '') return undefined;
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }

  const base = await startFake({
    realm: 'Jellyfin',
    record({ req, url, body }) {
      const { flavor, path } = split(url.pathname);
      calls.push({
        method: req.method ?? '',
        path,
        flavor,
        query: Object.fromEntries(url.searchParams),
        body: parseBody(body),
        headers: copyHeaders(req.headers),
        at: Date.now(),
      });
    },
    handle({ req, res, url, body }) {
      const { flavor, path } = split(url.pathname);
      const route = `${req.method} ${path.toLowerCase().replace(/\/+$/, '')}`;
      const authed =
        flavor === 'emby'
          ? header(req, 'x-emby-token') === apiKey
          : parseMediaBrowserAuth(header(req, 'authorization'))?.['token'] === apiKey;
      const info = {
        LocalAddress: `http://127.0.0.1:${base.port}`,
        ServerName: opts.serverName ?? (flavor === 'emby' ? 'Fake Emby' : 'Fake Jellyfin'),
        Version: opts.version ?? (flavor === 'emby' ? '4.8.10.0' : '10.10.7'),
        ProductName: flavor === 'emby' ? 'Emby Server' : 'Jellyfin Server',
        OperatingSystem: '',
        Id: 'f4c3f4c3f4c3f4c3f4c3f4c3f4c3f4c3',
        StartupWizardCompleted: true,
      };
      switch (route) {
        case 'GET /system/info/public':
          return sendJson(res, 200, info);
        case 'GET /system/info':
          if (!authed) return sendText(res, 401, 'Unauthorized');
          return sendJson(res, 200, {
            ...info,
            OperatingSystemDisplayName: 'Linux',
            HasPendingRestart: false,
          });
        case 'POST /library/media/updated': {
          if (!authed) return sendText(res, 401, 'Unauthorized');
          if (!(header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) {
            return sendText(res, 415, 'Unsupported Media Type');
          }
          const dto = parseBody(body) as { Updates?: unknown } | undefined;
          if (!dto || typeof dto !== 'object' || !Array.isArray(dto.Updates)) {
            return sendJson(res, 400, { title: 'One or more validation errors occurred.', status: 400 });
          }
          const items = dto.Updates as { Path?: unknown; UpdateType?: unknown }[];
          if (items.some((u) => !u || typeof u.Path !== 'string')) {
            return sendJson(res, 400, { title: "Item path can't be null.", status: 400 });
          }
          for (const u of items) {
            const update = {
              flavor,
              path: u.Path as string,
              updateType: typeof u.UpdateType === 'string' ? u.UpdateType : undefined,
            };
            updates.push(update);
            if (opts.toLocal) applyUpdate(update.path, update.updateType, opts.toLocal);
          }
          res.writeHead(204).end();
          return;
        }
        case 'GET /items': {
          if (!authed) return sendText(res, 401, 'Unauthorized');
          // ASP.NET binds query names case-insensitively.
          const q = new Map([...url.searchParams].map(([k, v]) => [k.toLowerCase(), v]));
          const types = (q.get('includeitemtypes') ?? '').split(',').filter(Boolean);
          const term = (q.get('searchterm') ?? '').toLowerCase();
          const fields = (q.get('fields') ?? '').split(',');
          // Movies sit below library folders: without Recursive the root lists none of them.
          const found =
            q.get('recursive')?.toLowerCase() !== 'true'
              ? []
              : [...items.values()]
                  .filter((i) => !types.length || types.some((t) => t.toLowerCase() === i.Type.toLowerCase()))
                  .filter((i) => i.Name.toLowerCase().includes(term));
          // Paging as the server does it: `StartIndex` (default 0) and `Limit` (default all).
          const start = Number(q.get('startindex') ?? 0);
          const limit = Number(q.get('limit') ?? found.length);
          return sendJson(res, 200, {
            Items: found.slice(start, start + limit).map(({ Path, ...rest }) => ({
              ...rest,
              ...(fields.includes('Path') && { Path }),
            })),
            TotalRecordCount: found.length,
            StartIndex: start,
          });
        }
        default: {
          const refresh = /^post \/items\/([^/]+)\/refresh$/i.exec(route);
          if (refresh) {
            if (!authed) return sendText(res, 401, 'Unauthorized');
            const id = decodeURIComponent(path.split('/')[2] ?? '');
            if (!items.has(id)) return sendText(res, 404, 'Not Found');
            itemRefreshes.push({ id, query: Object.fromEntries(url.searchParams) });
            res.writeHead(204).end();
            return;
          }
          return sendText(res, 404, 'Not Found');
        }
      }
    },
  });

  return Object.assign(base, {
    apiKey,
    calls,
    updates,
    items,
    itemRefreshes,
    addItem: add,
  }) as FakeJellyfin;
}
