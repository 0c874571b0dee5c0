/**
 * The one client every call of the app goes through: the base path, the API key header, JSON and
 * errors in one place. The key: `?apikey=` once (then removed from the address bar and history),
 * kept in sessionStorage for this tab, or asked for; a 401 forgets it and asks again — as the jobs
 * page at `{BASE}/` does.
 */
import type {
  Candidate,
  EditableField,
  IdentifyMatch,
  JobSummary,
  Movie,
  MovieDetail,
  MovieMetadata,
  MovieSort,
  PublishedFile,
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

export const api = {
  /**
   * Every movie matching: a first page of 100 (a screenful, shown at once), then the rest 1000 at
   * a time (the API's largest page). `onPage` sees the list so far after each page; false stops.
   */
  async movies(query: MovieQuery, onPage: (soFar: Movie[]) => boolean): Promise<void> {
    let all: Movie[] = [];
    for (let offset = 0, limit = 100; ; offset += limit, limit = 1000) {
      const page = await call<Movie[]>('GET', `/api/movies${qs({ ...query, limit, offset })}`);
      all = all.concat(page);
      if (!onPage(all) || page.length < limit) return;
      // Let the first screen's thumbnails go first; the rest of the list is below the fold.
      if (offset === 0) await new Promise((r) => setTimeout(r, 300));
    }
  },
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
