/**
 * TV metadata from TMDB: a `/tv/{id}` record (with aggregate_credits, images, external_ids,
 * content_ratings and videos appended) becomes the series' metadata, a `/tv/{id}/season/{n}` record
 * its episodes'. Also which episode fields are still placeholders ("TBA", "Episode 5", no plot, no
 * still) and when to look again. Pure functions: no I/O.
 */
import type { CastMember } from '../files/nfo.ts';

export interface SeriesMetadata {
  title: string | null;
  originalTitle: string | null;
  sortTitle: string | null;
  plot: string | null;
  outline: string | null;
  /** First air date, `YYYY-MM-DD`. */
  premiered: string | null;
  year: number | null;
  /** TMDB's words: `Returning Series`, `Ended`, `Canceled`, `In Production`, `Planned`, `Pilot`. */
  status: string | null;
  /** Typical episode length in minutes. */
  runtime: number | null;
  certification: string | null;
  rating: { value: number; votes: number } | null;
  genres: string[];
  /** The networks (what Kodi shows as a show's studio), else the production companies. */
  studios: string[];
  cast: CastMember[];
  uniqueIds: { tmdb: number; tvdb: number | null; imdb: string | null };
  /** Season titles as TMDB names them (`<namedseason>`), specials (0) included. */
  namedSeasons: { season: number; name: string }[];
  trailer: string | null;
}

export interface EpisodeMetadata {
  showTitle: string | null;
  season: number;
  episode: number;
  title: string | null;
  plot: string | null;
  /** Air date, `YYYY-MM-DD`. */
  aired: string | null;
  runtime: number | null;
  rating: { value: number; votes: number } | null;
  directors: string[];
  writers: string[];
  guestStars: CastMember[];
  /** The still's URL, or null when TMDB has none yet. */
  still: string | null;
  uniqueIds: { tmdb: number | null; tvdb: number | null; imdb: string | null };
}

interface TmdbPerson {
  name?: string;
  profile_path?: string | null;
  order?: number;
}

export interface TmdbSeries {
  id: number;
  name?: string;
  original_name?: string;
  overview?: string;
  first_air_date?: string | null;
  status?: string;
  episode_run_time?: number[];
  vote_average?: number;
  vote_count?: number;
  genres?: { name?: string }[];
  networks?: { name?: string }[];
  production_companies?: { name?: string }[];
  seasons?: { season_number?: number; name?: string }[];
  aggregate_credits?: {
    cast?: (TmdbPerson & { roles?: { character?: string; episode_count?: number }[] })[];
  };
  content_ratings?: { results?: { iso_3166_1?: string; rating?: string }[] };
  external_ids?: { imdb_id?: string | null; tvdb_id?: number | null };
  videos?: { results?: { key?: string; site?: string; type?: string }[] };
}

export interface TmdbSeason {
  season_number?: number;
  episodes?: {
    id?: number;
    episode_number?: number;
    season_number?: number;
    name?: string;
    overview?: string;
    air_date?: string | null;
    runtime?: number | null;
    still_path?: string | null;
    vote_average?: number;
    vote_count?: number;
    crew?: { name?: string; job?: string; department?: string }[];
    guest_stars?: (TmdbPerson & { character?: string })[];
  }[];
}

// The same small rules as the movie mapping (services/enrich.ts); kept here so that a future TV
// service and the movie service share no code through services/.
const YOUTUBE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const nonEmpty = (s: string | null | undefined) => (s?.trim() ? s.trim() : null);
const uniq = (xs: (string | null | undefined)[]) => [
  ...new Set(xs.map(nonEmpty).filter((x): x is string => x !== null)),
];
const ratingOf = (average: number | undefined, votes: number | undefined) =>
  votes ? { value: Math.round((average ?? 0) * 10) / 10, votes } : null;
const outlineOf = (plot: string | null) =>
  plot ? (/^(.+?[.!?])(\s|$)/s.exec(plot)?.[1] ?? plot).trim() : null;
const sortTitleOf = (title: string | null) => {
  const stripped = title?.replace(/^(the|a|an)\s+/i, '') ?? null;
  return stripped === title ? null : stripped;
};
const thumbOf = (path: string | null | undefined, imageBaseUrl: string) =>
  path ? `${imageBaseUrl}/original${path}` : null;

/** The rating for `country` in content_ratings (`TV-MA`, `16`, …); null when that country has none. */
export function seriesCertificationOf(s: TmdbSeries, country: string): string | null {
  return nonEmpty(s.content_ratings?.results?.find((r) => r.iso_3166_1 === country)?.rating);
}

/**
 * An actor's role across the series: their characters, the one in most episodes first (a regular
 * who also voiced a flashback keeps the regular role first).
 */
function roleOf(roles: { character?: string; episode_count?: number }[] | undefined): string | null {
  const sorted = [...(roles ?? [])].sort((a, b) => (b.episode_count ?? 0) - (a.episode_count ?? 0));
  return nonEmpty(uniq(sorted.map((r) => r.character)).join(' / '));
}

function castOf<P extends TmdbPerson>(
  people: P[] | undefined,
  role: (p: P) => string | null,
  imageBaseUrl: string,
): CastMember[] {
  return (people ?? [])
    .filter((p) => nonEmpty(p.name))
    .map((p, i) => ({
      name: (p.name as string).trim(),
      role: role(p),
      order: typeof p.order === 'number' ? p.order : i,
      thumb: thumbOf(p.profile_path, imageBaseUrl),
    }))
    .sort((a, b) => a.order - b.order);
}

export function seriesMetadataFromTmdb(
  s: TmdbSeries,
  opts: { country: string; imageBaseUrl: string },
): SeriesMetadata {
  const title = nonEmpty(s.name);
  const plot = nonEmpty(s.overview);
  const premiered = s.first_air_date && DATE.test(s.first_air_date) ? s.first_air_date : null;
  const networks = uniq((s.networks ?? []).map((n) => n.name));
  // The key goes into a Kodi plugin URL: only YouTube's id alphabet, nothing that adds parameters.
  const trailer = s.videos?.results?.find(
    (v) => v.site === 'YouTube' && v.type === 'Trailer' && YOUTUBE_ID.test(v.key ?? ''),
  );
  const runtime = (s.episode_run_time ?? []).find((r) => r > 0) ?? null;
  return {
    title,
    originalTitle: nonEmpty(s.original_name),
    sortTitle: sortTitleOf(title),
    plot,
    outline: outlineOf(plot),
    premiered,
    year: premiered ? Number(premiered.slice(0, 4)) : null,
    status: nonEmpty(s.status),
    runtime,
    certification: seriesCertificationOf(s, opts.country),
    rating: ratingOf(s.vote_average, s.vote_count),
    genres: uniq((s.genres ?? []).map((g) => g.name)),
    studios: networks.length ? networks : uniq((s.production_companies ?? []).map((c) => c.name)),
    cast: castOf(s.aggregate_credits?.cast, (p) => roleOf(p.roles), opts.imageBaseUrl),
    uniqueIds: {
      tmdb: s.id,
      tvdb: typeof s.external_ids?.tvdb_id === 'number' ? s.external_ids.tvdb_id : null,
      imdb: nonEmpty(s.external_ids?.imdb_id),
    },
    namedSeasons: (s.seasons ?? [])
      .filter((x) => typeof x.season_number === 'number' && nonEmpty(x.name))
      .map((x) => ({ season: x.season_number as number, name: (x.name as string).trim() }))
      .sort((a, b) => a.season - b.season),
    trailer: trailer ? `plugin://plugin.video.youtube/play/?video_id=${trailer.key}` : null,
  };
}

/** Every episode of a `/tv/{id}/season/{n}` record, in episode order. */
export function episodesMetadataFromTmdb(
  season: TmdbSeason,
  opts: { showTitle: string | null; imageBaseUrl: string },
): EpisodeMetadata[] {
  return (season.episodes ?? [])
    .filter((e) => typeof e.episode_number === 'number')
    .map((e) => {
      const crew = e.crew ?? [];
      return {
        showTitle: opts.showTitle,
        season: e.season_number ?? season.season_number ?? 0,
        episode: e.episode_number as number,
        title: nonEmpty(e.name),
        plot: nonEmpty(e.overview),
        aired: e.air_date && DATE.test(e.air_date) ? e.air_date : null,
        runtime: e.runtime && e.runtime > 0 ? e.runtime : null,
        rating: ratingOf(e.vote_average, e.vote_count),
        directors: uniq(crew.filter((c) => c.job === 'Director').map((c) => c.name)),
        writers: uniq(crew.filter((c) => c.department === 'Writing').map((c) => c.name)),
        guestStars: castOf(e.guest_stars, (p) => nonEmpty(p.character), opts.imageBaseUrl),
        still: thumbOf(e.still_path, opts.imageBaseUrl),
        uniqueIds: { tmdb: typeof e.id === 'number' ? e.id : null, tvdb: null, imdb: null },
      };
    })
    .sort((a, b) => a.episode - b.episode);
}

// ---------------------------------------------------------------------------------------------
// Placeholders: what Sonarr and TMDB publish for an episode nobody has described yet

export type PlaceholderField = 'title' | 'plot' | 'still';

/** "Episode 5" as TMDB and Sonarr write it in the languages users configure most. */
const NUMBERED_TITLE =
  /^(?:episode|ep\.?|folge|épisode|episodio|episódio|capítulo|capitulo|aflevering|avsnitt|afsnit|jakso|odcinek|epizoda|серия|эпизод|第)\s*#?\s*\d+(?:\s*話)?$/iu;
/** "TBA", "TBD", "T.B.A.", "To Be Announced", "À venir"… (compared without surrounding space). */
const UNKNOWN_TITLE =
  /^(?:t\.?\s?b\.?\s?[adc]\.?|to be (?:announced|determined|confirmed)|unknown|untitled|à venir|por anunciar|por confirmar|noch nicht bekannt)$/iu;

/** True when an episode title is a stand-in (`TBA`, `Episode 5`, `Folge 5`, `Épisode 5`, empty). */
export function isPlaceholderTitle(title: string | null | undefined): boolean {
  const t = title?.trim() ?? '';
  return t === '' || UNKNOWN_TITLE.test(t) || NUMBERED_TITLE.test(t);
}

/** Which of an episode's title, plot and still are still placeholders, in that order. */
export function placeholderFields(episode: {
  title: string | null;
  plot: string | null;
  still: string | null;
}): PlaceholderField[] {
  const out: PlaceholderField[] = [];
  if (isPlaceholderTitle(episode.title)) out.push('title');
  const plot = episode.plot?.trim() ?? '';
  if (plot === '' || UNKNOWN_TITLE.test(plot)) out.push('plot');
  if (!episode.still) out.push('still');
  return out;
}

/** No more rechecks this long after the air date: what TMDB has not filled by then stays as is. */
export const PLACEHOLDER_GIVE_UP_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * When to look at an episode with placeholders again, or null never. The backoff starts at its air
 * date (TMDB's stand-ins before it are expected, so they are not polled) or now if later: the first
 * recheck is `firstDelaySeconds` after that, each next one twice as far as the last (`checks` is the
 * number already made). None after PLACEHOLDER_GIVE_UP_DAYS past the air date; the last is made on
 * that day. An episode with no air date yet is rechecked with the same backoff, at most monthly.
 */
export function nextPlaceholderCheck(input: {
  airDate: string | null;
  checks: number;
  now: Date;
  firstDelaySeconds: number;
}): Date | null {
  const aired = input.airDate && DATE.test(input.airDate) ? Date.parse(`${input.airDate}T00:00:00Z`) : null;
  const now = input.now.getTime();
  const delay = Math.min(input.firstDelaySeconds * 1000 * 2 ** Math.max(0, input.checks), 30 * DAY_MS);
  if (aired === null || Number.isNaN(aired)) return new Date(now + delay);
  const giveUp = aired + PLACEHOLDER_GIVE_UP_DAYS * DAY_MS;
  if (now >= giveUp) return null;
  return new Date(Math.min(Math.max(now, aired) + delay, giveUp));
}
