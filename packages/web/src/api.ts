/**
 * The one client every call of the app goes through: the base path, the API key header, JSON and
 * errors in one place. The key: `?apikey=` once (then removed from the address bar and history),
 * kept in sessionStorage for this tab, or asked for; a 401 forgets it and asks again — as the jobs
 * page at `{BASE}/` does.
 */
import type {
  Candidate,
  EditableField,
  EpisodeLockable,
  IdentifyMatch,
  JobSummary,
  Movie,
  MovieDetail,
  MovieMetadata,
  MovieSort,
  PublishedFile,
  SeriesDetail,
  SeriesListItem,
  SeriesLockable,
  SeriesSort,
} from './types.ts';

const KEY_STORE = 'metarr.apikey';

export const BASE =
  document.querySelector<HTMLMetaElement>('meta[name="metarr-base"]')?.content.replace(/\/$/, '') ?? '';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type KeyListener = (reason: string | null) => void;
const keyListeners = new Set<KeyListener>();

export function initKey(): void {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('apikey');
  if (fromUrl) {
    sessionStorage.setItem(KEY_STORE, fromUrl);
    url.searchParams.delete('apikey');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
}

export const getKey = (): string | null => sessionStorage.getItem(KEY_STORE);

export function setKey(value: string): void {
  sessionStorage.setItem(KEY_STORE, value);
  for (const l of keyListeners) l(null);
}

function refuseKey(reason: string): void {
  sessionStorage.removeItem(KEY_STORE);
  for (const l of keyListeners) l(reason);
}

/** Called with a reason when the key is needed (again), with null when one was entered. */
export function onKeyChange(l: KeyListener): () => void {
  keyListeners.add(l);
  return () => keyListeners.delete(l);
}

async function raw(method: string, route: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'x-api-key': getKey() ?? '' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(BASE + route, {
    method,
    headers,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (res.status === 401) {
    refuseKey('That API key was refused');
    throw new ApiError(401, 'unauthorized');
  }
  return res;
}

async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
  const res = await raw(method, route, body);
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json?.message || `HTTP ${res.status}`);
  return json as T;
}

const qs = (params: Record<string, string | number | undefined>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

export type MovieFilter = 'no-metadata' | 'locked';

export interface MovieQuery {
  q?: string;
  sort?: MovieSort;
  filter?: MovieFilter;
  libraryId?: number;
}

export type MetadataEdit = Partial<Pick<MovieMetadata, EditableField>>;

/**
 * Images need the key, which an `<img>` cannot send: they are fetched with the header and shown
 * from an object URL (the CSP allows `blob:` images). Cached per URL until `forgetImages`.
 */
const images = new Map<string, Promise<string | null>>();

/**
 * Every item of a list route matching: a first page of 100 (a screenful, shown at once), then the
 * rest 1000 at a time (the API's largest page). `onPage` sees the list so far after each page; false
 * stops.
 */
async function allPages<T>(
  route: string,
  query: Record<string, string | number | undefined>,
  onPage: (soFar: T[]) => boolean,
): Promise<void> {
  let all: T[] = [];
  for (let offset = 0, limit = 100; ; offset += limit, limit = 1000) {
    const page = await call<T[]>('GET', `${route}${qs({ ...query, limit, offset })}`);
    all = all.concat(page);
    if (!onPage(all) || page.length < limit) return;
    // Let the first screen's thumbnails go first; the rest of the list is below the fold.
    if (offset === 0) await new Promise((r) => setTimeout(r, 300));
  }
}

export const api = {
  /** Every movie matching, page by page (see `allPages`). */
  movies: (query: MovieQuery, onPage: (soFar: Movie[]) => boolean) =>
    allPages<Movie>('/api/movies', { ...query }, onPage),
  libraries: () => call<{ id: number; name: string; type: string }[]>('GET', '/api/libraries'),
  movie: (id: number) => call<MovieDetail>('GET', `/api/movies/${id}`),
  artwork: (id: number) =>
    call<{ candidates: Candidate[]; locks: string[] }>('GET', `/api/movies/${id}/artwork`),
  choose: (id: number, type: string, candidateId: number) =>
    call<{ jobId: string | null; locks: string[] }>('PUT', `/api/movies/${id}/artwork/${type}`, {
      candidateId,
    }),
  files: (id: number) => call<{ files: PublishedFile[] }>('GET', `/api/movies/${id}/files`),
  editMetadata: (id: number, edit: MetadataEdit) =>
    call<{ jobId: string | null; changed: string[]; locks: string[] }>(
      'PATCH',
      `/api/movies/${id}/metadata`,
      edit,
    ),
  lock: (id: number, field: string, locked: boolean) =>
    call<{ locks: string[] }>('POST', `/api/movies/${id}/locks`, { field, locked }),
  identifySearch: (id: number, query: string, year?: number) =>
    call<{ matches: IdentifyMatch[] }>('GET', `/api/movies/${id}/identify${qs({ query, year })}`),
  identify: (id: number, tmdbId: number) =>
    call<{ jobId: string | null }>('POST', `/api/movies/${id}/identify`, { tmdbId }),
  refresh: (id: number) => call<{ jobId: string | null }>('POST', `/api/movies/${id}/refresh`),
  jobs: (movieId: number) => call<JobSummary[]>('GET', `/api/jobs${qs({ movieId, limit: 50 })}`),

  /** An object URL of a published image (a thumbnail with `width`), or null when there is none. */
  image(movieId: number, type: string, width?: number): Promise<string | null> {
    const route = `/api/movies/${movieId}/artwork/${type}/image${qs({ width })}`;
    let p = images.get(route);
    if (!p) {
      p = raw('GET', route).then(
        async (res) => (res.ok ? URL.createObjectURL(await res.blob()) : null),
        () => null,
      );
      images.set(route, p);
    }
    return p;
  },
  forgetImages(movieId: number): void {
    const prefix = `/api/movies/${movieId}/`;
    for (const [route, p] of images)
      if (route.startsWith(prefix)) {
        images.delete(route);
        void p.then((u) => u && URL.revokeObjectURL(u));
      }
  },
};

// ---- Series (issue 17's series views) ----

export type SeriesFilter = 'placeholders' | 'locked';

export interface SeriesQuery {
  q?: string;
  sort?: SeriesSort;
  filter?: SeriesFilter;
  libraryId?: number;
}

export const tv = {
  /** Every series matching, page by page (see `allPages`). */
  list: (query: SeriesQuery, onPage: (soFar: SeriesListItem[]) => boolean) =>
    allPages<SeriesListItem>('/api/series', { ...query }, onPage),
  series: (id: number) => call<SeriesDetail>('GET', `/api/series/${id}`),
  lock: (id: number, field: SeriesLockable, locked: boolean) =>
    call<{ locks: string[] }>('POST', `/api/series/${id}/locks`, { field, locked }),
  lockEpisode: (episodeId: number, field: EpisodeLockable, locked: boolean) =>
    call<{ locks: string[] }>('POST', `/api/episodes/${episodeId}/locks`, { field, locked }),
  refresh: (id: number) => call<{ jobId: string | null }>('POST', `/api/series/${id}/refresh`),
};

// ---- Settings and the first-run wizard: the configuration routes, typed as the API answers ----

export type LibraryType = 'movie' | 'tv' | 'music';
export type Manager = 'radarr' | 'sonarr' | 'lidarr';
export type PlayerType = 'kodi' | 'jellyfin' | 'emby' | 'plex';

export interface Library {
  id: number;
  name: string;
  type: LibraryType;
  path: string;
  createdAt: string;
}
export interface FolderListing {
  path: string | null;
  parent: string | null;
  folders: { name: string; path: string }[];
  truncated: boolean;
}
export interface PathMapping {
  id: number;
  manager: Manager;
  from: string;
  to: string;
}
export interface Explanation {
  input: string;
  ok: boolean;
  metarrPath: string | null;
  folder: { exists: boolean; path: string } | null;
  library: { id: number; name: string; path: string } | null;
  groups: { id: number; name: string; playerPath: string }[];
  reason: string | null;
  steps: string[];
}
export interface PlayerGroup {
  id: number;
  name: string;
  type: PlayerType;
  libraryIds: number[];
  pathMappings: { from: string; to: string }[];
}
export interface Player {
  id: number;
  groupId: number;
  name: string;
  type: PlayerType;
  host: string;
  port: number;
  useTls: boolean;
  username: string | null;
  hasPassword: boolean;
  hasApiKey: boolean;
  enabled: boolean;
}
export interface PlayerInput {
  groupId: number;
  name: string;
  type: PlayerType;
  host: string;
  port: number;
  username?: string | null;
  password?: string | null;
  apiKey?: string | null;
}
export interface PlayerTest {
  status: 'ok' | 'auth_failed' | 'unreachable' | 'refused' | 'error';
  reachable: boolean;
  version: string | null;
  authOk: boolean;
  message: string;
}
export interface KeyState {
  configured: boolean;
  source: 'environment' | 'database' | null;
  masked: string | null;
}
export interface ScheduleView {
  timezone: string;
  fileScan: { cron: string; enabled: boolean; nextRun: string | null };
  providerUpdate: { cron: string; enabled: boolean; staleAfterDays: number; nextRun: string | null };
  libraries: { libraryId: number; name: string; cron: string; enabled: boolean; nextRun: string | null }[];
}

export const config = {
  libraryList: () => call<Library[]>('GET', '/api/libraries'),
  addLibrary: (b: { name: string; type: LibraryType; path: string }) =>
    call<Library>('POST', '/api/libraries', b),
  removeLibrary: (id: number) => call<null>('DELETE', `/api/libraries/${id}`),
  scan: (id: number) => call<{ jobId: string | null }>('POST', `/api/libraries/${id}/scan`),
  folders: (path?: string) => call<FolderListing>('GET', `/api/folders${qs({ path })}`),
  mappings: () => call<PathMapping[]>('GET', '/api/path-mappings'),
  addMapping: (b: { manager: Manager; from: string; to: string }) =>
    call<PathMapping>('POST', '/api/path-mappings', b),
  removeMapping: (id: number) => call<null>('DELETE', `/api/path-mappings/${id}`),
  explain: (manager: Manager, path: string) =>
    call<Explanation>('GET', `/api/paths/explain${qs({ manager, path })}`),
  groups: () => call<PlayerGroup[]>('GET', '/api/player-groups'),
  addGroup: (b: {
    name: string;
    type: PlayerType;
    libraryIds: number[];
    pathMappings?: { from: string; to: string }[];
  }) => call<PlayerGroup>('POST', '/api/player-groups', b),
  editGroup: (id: number, b: { name?: string; libraryIds?: number[] }) =>
    call<PlayerGroup>('PATCH', `/api/player-groups/${id}`, b),
  removeGroup: (id: number) => call<null>('DELETE', `/api/player-groups/${id}`),
  players: () => call<Player[]>('GET', '/api/players'),
  addPlayer: (b: PlayerInput) => call<Player>('POST', '/api/players', b),
  editPlayer: (id: number, b: Partial<PlayerInput>) => call<Player>('PATCH', `/api/players/${id}`, b),
  removePlayer: (id: number) => call<null>('DELETE', `/api/players/${id}`),
  testPlayer: (id: number) => call<PlayerTest>('POST', `/api/players/${id}/test`),
  providers: () => call<{ tmdb: KeyState; fanart: KeyState }>('GET', '/api/settings/providers'),
  setProviders: (b: { tmdbApiKey?: string | null; fanartApiKey?: string | null }) =>
    call<{ tmdb: KeyState; fanart: KeyState }>('PUT', '/api/settings/providers', b),
  rotateKey: () => call<{ apiKey: string }>('POST', '/api/settings/api-key/rotate'),
  schedules: () => call<ScheduleView>('GET', '/api/schedules'),
  /** The newest jobs of a type (newest first), with their payload: a schedule's last runs. */
  recentJobs: (type: string, limit: number) =>
    call<(JobSummary & { payload: Record<string, unknown> | null; startedAt: string | null })[]>(
      'GET',
      `/api/jobs${qs({ type, limit })}`,
    ),
};

/** The webhook URL an *arr app posts to: this page's origin and the base path. */
export const webhookUrl = (manager: Manager) => `${location.origin}${BASE}/api/webhooks/${manager}`;
