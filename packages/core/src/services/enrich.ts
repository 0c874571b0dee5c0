/**
 * EnrichService — turns the cached TMDB record into the movie's metadata, honouring per-field locks:
 * a locked field keeps its stored value whatever the provider says.
 */
import type { Db } from '../db/connect.ts';
import { permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import { METADATA_FIELDS, type MovieMetadata } from '../files/nfo.ts';
import type { Logger } from '../log.ts';
import { readProviderCache, tmdbMovieKey } from '../records/providerCache.ts';

export interface EnrichDeps {
  db: Db;
  log: Logger;
  clock?: () => Date;
  /** The job attempt's write fence (see fence.ts). */
  fence?: Fence;
}

interface TmdbMovie {
  id: number;
  imdb_id?: string | null;
  title?: string;
  original_title?: string;
  tagline?: string;
  overview?: string;
  runtime?: number | null;
  release_date?: string;
  vote_average?: number;
  vote_count?: number;
  genres?: { name?: string }[];
  production_countries?: { iso_3166_1?: string; name?: string }[];
  production_companies?: { name?: string }[];
  belongs_to_collection?: { name?: string; overview?: string } | null;
  credits?: {
    cast?: { name?: string; character?: string; order?: number; profile_path?: string | null }[];
    crew?: { name?: string; job?: string; department?: string }[];
  };
  videos?: { results?: { key?: string; site?: string; type?: string }[] };
  release_dates?: {
    results?: { iso_3166_1?: string; release_dates?: { certification?: string; type?: number }[] }[];
  };
  external_ids?: { imdb_id?: string | null };
}

/** A YouTube video id: its URL-safe alphabet only. */
const YOUTUBE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const nonEmpty = (s: string | null | undefined) => (s?.trim() ? s.trim() : null);
const uniq = (xs: (string | null | undefined)[]) => [
  ...new Set(xs.map(nonEmpty).filter((x): x is string => x !== null)),
];

/** The first sentence of a plot, for Kodi's `outline`. */
export function outlineOf(plot: string | null): string | null {
  if (!plot) return null;
  const m = /^(.+?[.!?])(\s|$)/s.exec(plot);
  return (m?.[1] ?? plot).trim();
}

/** Sort title without a leading English article. */
export function sortTitleOf(title: string | null): string | null {
  if (!title) return null;
  const stripped = title.replace(/^(the|a|an)\s+/i, '');
  return stripped === title ? null : stripped;
}

/**
 * Certification for `country` from release_dates: theatrical (3) first, then limited (2), premiere (1),
 * and any other release type; empty strings are skipped.
 */
export function certificationOf(m: TmdbMovie, country: string): string | null {
  const entry = m.release_dates?.results?.find((r) => r.iso_3166_1 === country);
  const dates = (entry?.release_dates ?? []).filter((d) => nonEmpty(d.certification));
  const order = [3, 2, 1, 4, 5, 6];
  dates.sort((a, b) => {
    const ia = order.indexOf(a.type ?? 0);
    const ib = order.indexOf(b.type ?? 0);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  return nonEmpty(dates[0]?.certification);
}

function collectionOf(m: TmdbMovie): MovieMetadata['set'] {
  const name = nonEmpty(m.belongs_to_collection?.name);
  return name ? { name, overview: nonEmpty(m.belongs_to_collection?.overview) } : null;
}

export function metadataFromTmdb(
  m: TmdbMovie,
  opts: { country: string; imageBaseUrl: string },
): MovieMetadata {
  const title = nonEmpty(m.title);
  const plot = nonEmpty(m.overview);
  const year = m.release_date && /^\d{4}/.test(m.release_date) ? Number(m.release_date.slice(0, 4)) : null;
  const crew = m.credits?.crew ?? [];
  // The key goes into a Kodi plugin URL: only YouTube's id alphabet, nothing that adds parameters.
  const trailer = m.videos?.results?.find(
    (v) => v.site === 'YouTube' && v.type === 'Trailer' && YOUTUBE_ID.test(v.key ?? ''),
  );
  return {
    title,
    originalTitle: nonEmpty(m.original_title),
    sortTitle: sortTitleOf(title),
    tagline: nonEmpty(m.tagline),
    plot,
    outline: outlineOf(plot),
    runtime: m.runtime && m.runtime > 0 ? m.runtime : null,
    year,
    premiered: m.release_date && /^\d{4}-\d{2}-\d{2}$/.test(m.release_date) ? m.release_date : null,
    certification: certificationOf(m, opts.country),
    rating: m.vote_count ? { value: Math.round((m.vote_average ?? 0) * 10) / 10, votes: m.vote_count } : null,
    genres: uniq((m.genres ?? []).map((g) => g.name)),
    countries: uniq((m.production_countries ?? []).map((c) => c.name)),
    studios: uniq((m.production_companies ?? []).map((c) => c.name)),
    set: collectionOf(m),
    directors: uniq(crew.filter((c) => c.job === 'Director').map((c) => c.name)),
    writers: uniq(crew.filter((c) => c.department === 'Writing').map((c) => c.name)),
    cast: (m.credits?.cast ?? [])
      .filter((c) => nonEmpty(c.name))
      .map((c, i) => ({
        name: (c.name as string).trim(),
        role: nonEmpty(c.character),
        order: typeof c.order === 'number' ? c.order : i,
        thumb: c.profile_path ? `${opts.imageBaseUrl}/original${c.profile_path}` : null,
      }))
      .sort((a, b) => a.order - b.order),
    uniqueIds: { tmdb: m.id, imdb: nonEmpty(m.imdb_id ?? m.external_ids?.imdb_id) },
    trailer: trailer ? `plugin://plugin.video.youtube/play/?video_id=${trailer.key}` : null,
  };
}

export async function loadLocks(db: Db, movieId: number): Promise<Set<string>> {
  const rows = await db
    .selectFrom('movie_field_locks')
    .select('field')
    .where('movie_id', '=', movieId)
    .execute();
  return new Set(rows.map((r) => r.field));
}

/**
 * Equal as JSON values, object keys in any order: the stored copy comes back from jsonb, which keeps
 * keys in its own order (shorter first), so `{tmdb, imdb}` returns as `{imdb, tmdb}`.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
    );
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

export async function enrichMovieMetadata(
  deps: EnrichDeps,
  movieId: number,
  opts: { language: string; country: string; imageBaseUrl: string },
): Promise<{ movieId: number; changed: string[]; locked: string[] }> {
  const log = deps.log.child({ service: 'EnrichService', operation: 'enrichMovieMetadata', movieId });
  const movie = await deps.db.selectFrom('movies').selectAll().where('id', '=', movieId).executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  if (movie.tmdb_id === null) throw permanent('MOVIE_NOT_IDENTIFIED', `movie ${movieId} has no TMDB id`);
  // Any age: fetch-provider-assets ran just before; an expired entry is still the best we have.
  const body = await readProviderCache(deps.db, 'tmdb', tmdbMovieKey(movie.tmdb_id, opts.language), {
    fresh: false,
  });
  if (!body || typeof body !== 'object' || (body as { id?: unknown }).id !== movie.tmdb_id)
    throw permanent(
      'PROVIDER_DATA_MISSING',
      `no cached TMDB record for movie ${movieId}; run fetch-provider-assets`,
    );

  const fresh = metadataFromTmdb(body as TmdbMovie, {
    country: opts.country,
    imageBaseUrl: opts.imageBaseUrl,
  });
  const stored = await deps.db
    .selectFrom('movie_metadata')
    .select('data')
    .where('movie_id', '=', movieId)
    .executeTakeFirst();
  const old = (stored?.data ?? null) as MovieMetadata | null;
  const locks = await loadLocks(deps.db, movieId);
  const merged = { ...fresh } as Record<string, unknown>;
  const locked: string[] = [];
  const changed: string[] = [];
  for (const f of METADATA_FIELDS) {
    if (locks.has(f) && old) {
      merged[f] = old[f];
      locked.push(f);
    }
    if (!sameJson(merged[f], old?.[f])) changed.push(f);
  }
  const data = merged as unknown as MovieMetadata;
  const now = (deps.clock ?? (() => new Date()))();
  await fencedWrite(deps.db, deps.fence, async (trx) => {
    if (changed.length || !stored) {
      const json = JSON.stringify(data);
      await trx
        .insertInto('movie_metadata')
        .values({ movie_id: movieId, data: json, updated_at: now })
        .onConflict((oc) => oc.column('movie_id').doUpdateSet({ data: json, updated_at: now }))
        .execute();
    } else {
      // Checked against the provider just now: the scheduled provider update measures staleness here.
      await trx
        .updateTable('movie_metadata')
        .set({ updated_at: now })
        .where('movie_id', '=', movieId)
        .execute();
    }
    await trx
      .updateTable('movies')
      .set({
        ...(data.title && { title: data.title }),
        ...(data.year && { year: data.year }),
        ...(data.uniqueIds.imdb && movie.imdb_id === null && { imdb_id: data.uniqueIds.imdb }),
      })
      .where('id', '=', movieId)
      .execute();
  });
  log.info({ changed, locked }, 'Movie metadata enriched');
  return { movieId, changed, locked };
}
