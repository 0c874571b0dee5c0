/**
 * A fake Jellyfin that also plays Emby under `/emby`.
 *
 * - Jellyfin routes authenticate with `Authorization: MediaBrowser Token="<key>"`;
 * - `/emby/...` routes authenticate with `X-Emby-Token: <key>`;
 * - `GET /System/Info/Public` needs no authentication (as on the real servers), `GET /System/Info` does;
 * - `POST /Library/Media/Updated` takes `{Updates:[{Path, UpdateType}]}` and answers 204.
 * Routes match case-insensitively, like ASP.NET's.
 */
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

export interface FakeJellyfin extends FakeServerBase {
  apiKey: string;
  calls: FakeJellyfinCall[];
  /** Accepted `Library/Media/Updated` entries, in order. */
  updates: FakeMediaUpdate[];
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
            updates.push({
              flavor,
              path: u.Path as string,
              updateType: typeof u.UpdateType === 'string' ? u.UpdateType : undefined,
            });
          }
          res.writeHead(204).end();
          return;
        }
        default:
          return sendText(res, 404, 'Not Found');
      }
    },
  });

  return Object.assign(base, { apiKey, calls, updates }) as FakeJellyfin;
}
