/**
 * IdentifyService — finds the TMDB movie a folder holds when its name carried no usable id: by title
 * (and year), by a TMDB id (`603`, `tmdb-603`) or an IMDb id (`tt0133093`). Read-only: choosing a
 * match is `identifyMovie` (records/movieEdits.ts), and the pipeline does the rest.
 */
import type { TmdbClient } from '../clients/tmdb.ts';
import type { Logger } from '../log.ts';

export interface IdentifyMatch {
  tmdbId: number;
  title: string;
  originalTitle: string | null;
  year: number | null;
  overview: string | null;
  /** A small poster (w185), for a picker. */
  posterUrl: string | null;
}

interface TmdbHit {
  id?: unknown;
  title?: unknown;
  original_title?: unknown;
  release_date?: unknown;
  overview?: unknown;
  poster_path?: unknown;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

function matchOf(hit: TmdbHit, imageBaseUrl: string): IdentifyMatch | null {
  const title = text(hit.title);
  if (typeof hit.id !== 'number' || !Number.isInteger(hit.id) || hit.id <= 0 || !title) return null;
  const date = text(hit.release_date);
  const year = date && /^\d{4}/.test(date) ? Number(date.slice(0, 4)) : null;
  const poster = text(hit.poster_path);
  return {
    tmdbId: hit.id,
    title,
    originalTitle: text(hit.original_title),
    year,
    overview: text(hit.overview),
    posterUrl: poster ? `${imageBaseUrl}/w185${poster}` : null,
  };
}

/** At most this many matches: a picker, not a catalogue. */
const MAX_MATCHES = 20;

export async function identifyMatches(
  deps: { tmdb: TmdbClient; log: Logger },
  input: { query: string; year?: number; language: string; imageBaseUrl: string; signal?: AbortSignal },
): Promise<IdentifyMatch[]> {
  const log = deps.log.child({ service: 'IdentifyService', operation: 'identifyMatches' });
  const query = input.query.trim();
  const signal = input.signal ? { signal: input.signal } : {};
  let hits: TmdbHit[];
  const imdb = /^tt\d{5,10}$/i.exec(query);
  const tmdb = /^(?:tmdb(?:id)?[-:=]?)?(\d{1,9})$/i.exec(query);
  if (imdb) {
    const found = (await deps.tmdb.findByImdb(query.toLowerCase(), signal)) as {
      movie_results?: unknown;
    } | null;
    hits = Array.isArray(found?.movie_results) ? (found.movie_results as TmdbHit[]) : [];
  } else if (tmdb) {
    const movie = (await deps.tmdb.movie(Number(tmdb[1]), {
      language: input.language,
      ...signal,
    })) as TmdbHit | null;
    hits = movie ? [movie] : [];
  } else {
    const page = (await deps.tmdb.searchMovies(query, {
      language: input.language,
      ...(input.year !== undefined && { year: input.year }),
      ...signal,
    })) as { results?: unknown } | null;
    hits = Array.isArray(page?.results) ? (page.results as TmdbHit[]) : [];
  }
  const matches = hits.flatMap((h) => matchOf(h, input.imageBaseUrl) ?? []).slice(0, MAX_MATCHES);
  log.info(
    { kind: imdb ? 'imdb' : tmdb ? 'tmdb' : 'title', year: input.year ?? null, matches: matches.length },
    'Identify search',
  );
  return matches;
}
