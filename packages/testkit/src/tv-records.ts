/**
 * TMDB TV records shaped as the public API answers `/tv/{id}` (with
 * `append_to_response=aggregate_credits,images,external_ids,content_ratings,videos`) and
 * `/tv/{id}/season/{n}`, for the fake TMDB and tests. Image file names carry `<w>x<h>` so the fake
 * image host serves real bytes of that size.
 */
import { tmdbImage } from './tmdb-records.ts';

/** A show as the fake TMDB serves it: the `/tv/{id}` record (appended parts included) and its seasons. */
export interface TmdbTvFixture {
  series: Record<string, unknown>;
  /** `/tv/{id}/season/{n}` records by season number (0 = specials). */
  seasons: Map<number, Record<string, unknown>>;
}

/** The `/tv/{id}` keys that only `append_to_response` adds. */
export const TV_APPENDABLE = ['aggregate_credits', 'images', 'external_ids', 'content_ratings', 'videos'];

const person = (id: number, name: string, dept: string, profile: string | null) => ({
  adult: false,
  gender: id % 2 ? 2 : 1,
  id,
  known_for_department: dept,
  name,
  original_name: name,
  popularity: 5.5,
  profile_path: profile,
});

export interface EpisodeSpec {
  episode: number;
  name: string;
  overview: string;
  airDate: string | null;
  runtime?: number | null;
  still?: boolean;
  guestStars?: { name: string; character: string }[];
}

/** A `/tv/{id}/season/{n}` record. */
export function tmdbSeason(
  showId: number,
  season: number,
  episodes: EpisodeSpec[],
  o: { name?: string; overview?: string } = {},
): Record<string, unknown> {
  const tag = (n: number) => `s${String(season).padStart(2, '0')}e${String(n).padStart(2, '0')}`;
  return {
    _id: `5f${String(showId).padStart(6, '0')}${String(season).padStart(4, '0')}abcdef12345`,
    air_date: episodes[0]?.airDate ?? null,
    episodes: episodes.map((e) => ({
      air_date: e.airDate,
      episode_number: e.episode,
      episode_type: e.episode === episodes.length ? 'finale' : 'standard',
      id: showId * 1000 + season * 100 + e.episode,
      name: e.name,
      overview: e.overview,
      production_code: '',
      runtime: e.runtime === undefined ? 45 : e.runtime,
      season_number: season,
      show_id: showId,
      still_path: e.still === false ? null : `/${showId}-${tag(e.episode)}-still-1280x720.jpg`,
      vote_average: e.overview ? 7.6 : 0,
      vote_count: e.overview ? 12 : 0,
      crew: e.overview
        ? [
            {
              job: 'Director',
              department: 'Directing',
              credit_id: `cd${showId}${tag(e.episode)}`,
              ...person(900 + e.episode, `Director ${e.episode}`, 'Directing', null),
            },
            {
              job: 'Writer',
              department: 'Writing',
              credit_id: `cw${showId}${tag(e.episode)}`,
              ...person(950, 'Head Writer', 'Writing', null),
            },
          ]
        : [],
      guest_stars: (e.guestStars ?? []).map((g, i) => ({
        character: g.character,
        credit_id: `cg${showId}${tag(e.episode)}${i}`,
        order: 500 + i,
        ...person(700 + i, g.name, 'Acting', i === 0 ? `/guest-${i}-185x278.jpg` : null),
      })),
    })),
    name: o.name ?? (season === 0 ? 'Specials' : `Season ${season}`),
    overview: o.overview ?? '',
    id: showId * 10 + season,
    poster_path: `/${showId}-season-${season}-680x1000.jpg`,
    season_number: season,
    vote_average: 7.4,
  };
}

/**
 * A show with `seasons` seasons of `episodesPerSeason` plain episodes (and no specials), shaped like
 * `/tv/{id}` with every appendable part; its `/tv/{id}/season/{n}` records alongside.
 */
export function tmdbTvShow(
  id: number,
  o: {
    name?: string;
    year?: number;
    tvdbId?: number;
    imdbId?: string | null;
    seasons?: number;
    episodesPerSeason?: number;
  } = {},
): TmdbTvFixture {
  const name = o.name ?? `Show ${id}`;
  const year = o.year ?? 2000 + (id % 25);
  const seasons = new Map<number, Record<string, unknown>>();
  for (let s = 1; s <= (o.seasons ?? 1); s++) {
    seasons.set(
      s,
      tmdbSeason(
        id,
        s,
        Array.from({ length: o.episodesPerSeason ?? 3 }, (_, i) => ({
          episode: i + 1,
          name: `${name} ${s}.${i + 1}`,
          overview: `Episode ${i + 1} of season ${s}. Things happen.`,
          airDate: `${year + s - 1}-0${(i % 9) + 1}-1${i % 10}`,
        })),
      ),
    );
  }
  return { series: tvSeriesRecord(id, name, year, o.tvdbId ?? 300000 + id, o.imdbId, seasons), seasons };
}

function tvSeriesRecord(
  id: number,
  name: string,
  year: number,
  tvdbId: number,
  imdbId: string | null | undefined,
  seasons: Map<number, Record<string, unknown>>,
): Record<string, unknown> {
  const seasonList = [...seasons.values()].sort(
    (a, b) => (a.season_number as number) - (b.season_number as number),
  );
  const allEpisodes = seasonList
    .filter((s) => s.season_number !== 0)
    .flatMap((s) => s.episodes as Record<string, unknown>[]);
  const last = allEpisodes[allEpisodes.length - 1];
  return {
    adult: false,
    backdrop_path: `/${id}-backdrop-0-1920x1080.jpg`,
    created_by: [
      {
        id: 950,
        credit_id: `cb${id}`,
        name: 'Head Writer',
        original_name: 'Head Writer',
        gender: 1,
        profile_path: null,
      },
    ],
    episode_run_time: [],
    first_air_date: `${year}-01-10`,
    genres: [
      { id: 18, name: 'Drama' },
      { id: 9648, name: 'Mystery' },
    ],
    homepage: '',
    id,
    in_production: true,
    languages: ['en'],
    last_air_date: last?.air_date ?? null,
    last_episode_to_air: last ? { ...last, crew: undefined, guest_stars: undefined } : null,
    name,
    next_episode_to_air: null,
    networks: [{ id: 49, logo_path: '/tuomPhY2UtuPTqqFnKMVHvSb724.png', name: 'HBO', origin_country: 'US' }],
    number_of_episodes: allEpisodes.length,
    number_of_seasons: seasonList.filter((s) => s.season_number !== 0).length,
    origin_country: ['US'],
    original_language: 'en',
    original_name: name,
    overview: `${name} is a series. It has a plot.`,
    popularity: 20.1,
    poster_path: `/${id}-poster-0-en-1000x1500.jpg`,
    production_companies: [{ id: 7, logo_path: null, name: 'Fake Television', origin_country: 'US' }],
    production_countries: [{ iso_3166_1: 'US', name: 'United States of America' }],
    seasons: seasonList.map((s) => ({
      air_date: s.air_date,
      episode_count: (s.episodes as unknown[]).length,
      id: s.id,
      name: s.name,
      overview: s.overview,
      poster_path: s.poster_path,
      season_number: s.season_number,
      vote_average: s.vote_average,
    })),
    spoken_languages: [{ english_name: 'English', iso_639_1: 'en', name: 'English' }],
    status: 'Returning Series',
    tagline: '',
    type: 'Scripted',
    vote_average: 8.1,
    vote_count: 420,
    aggregate_credits: {
      cast: [
        {
          ...person(101, 'Lead Actor', 'Acting', '/lead-185x278.jpg'),
          roles: [{ credit_id: `r${id}a`, character: 'Hero', episode_count: allEpisodes.length }],
          total_episode_count: allEpisodes.length,
          order: 0,
        },
        {
          ...person(102, 'Second Actor', 'Acting', null),
          roles: [
            { credit_id: `r${id}b`, character: 'Sidekick', episode_count: allEpisodes.length },
            { credit_id: `r${id}c`, character: 'Young Sidekick (voice)', episode_count: 1 },
          ],
          total_episode_count: allEpisodes.length,
          order: 1,
        },
      ],
      crew: [
        {
          ...person(950, 'Head Writer', 'Writing', null),
          jobs: [{ credit_id: `j${id}`, job: 'Writer', episode_count: allEpisodes.length }],
          department: 'Writing',
          total_episode_count: allEpisodes.length,
        },
      ],
    },
    images: {
      backdrops: [
        tmdbImage(`/${id}-backdrop-0-1920x1080.jpg`, 1920, 1080, null, 5.6),
        tmdbImage(`/${id}-backdrop-1-de-1920x1080.jpg`, 1920, 1080, 'de', 5.2),
      ],
      logos: [tmdbImage(`/${id}-logo-en-800x310.png`, 800, 310, 'en')],
      posters: [
        tmdbImage(`/${id}-poster-0-en-1000x1500.jpg`, 1000, 1500, 'en', 5.5),
        tmdbImage(`/${id}-poster-1-xx-1000x1500.jpg`, 1000, 1500, null, 5.4),
        tmdbImage(`/${id}-poster-2-de-1000x1500.jpg`, 1000, 1500, 'de', 5.3),
      ],
    },
    external_ids: {
      imdb_id: imdbId === undefined ? `tt${String(id).padStart(8, '0')}` : imdbId,
      freebase_mid: null,
      freebase_id: null,
      tvdb_id: tvdbId,
      tvrage_id: null,
      wikidata_id: null,
      facebook_id: null,
      instagram_id: null,
      twitter_id: null,
    },
    content_ratings: {
      results: [
        { descriptors: [], iso_3166_1: 'US', rating: 'TV-MA' },
        { descriptors: [], iso_3166_1: 'DE', rating: '16' },
        { descriptors: [], iso_3166_1: 'GB', rating: '' },
      ],
    },
    videos: {
      results: [
        {
          iso_639_1: 'en',
          iso_3166_1: 'US',
          name: 'Official Trailer',
          key: `tvtrailer${id}`,
          site: 'YouTube',
          size: 1080,
          type: 'Trailer',
          official: true,
          published_at: `${year}-01-01T00:00:00.000Z`,
          id: `tv${id}`,
        },
      ],
    },
  };
}

/**
 * "Harbour Lights" (2021): two seasons and a special, with what real shows have — a multi-part
 * premiere (S01E01/E02, one file in a library), guest stars, a name with markup characters, and a
 * fresh episode TMDB still shows as a placeholder (S02E02 "Episode 2": no plot, no still, no runtime).
 * TMDB 95001, TVDB 400001, IMDb tt9500100.
 */
export function harbourLights(): TmdbTvFixture {
  const id = 95001;
  const seasons = new Map<number, Record<string, unknown>>([
    [
      0,
      tmdbSeason(id, 0, [
        {
          episode: 1,
          name: 'Christmas at the Harbour',
          overview: 'A holiday special. The lights go out on Christmas Eve.',
          airDate: '2021-12-24',
          runtime: 60,
        },
      ]),
    ],
    [
      1,
      tmdbSeason(
        id,
        1,
        [
          {
            episode: 1,
            name: 'Arrival (1)',
            overview: 'Mara returns to the harbour town she left. Nobody is pleased.',
            airDate: '2021-01-10',
            guestStars: [{ name: 'Guest Star', character: 'Harbour Master' }],
          },
          {
            episode: 2,
            name: 'Arrival (2)',
            overview: 'The lighthouse keeper is missing. Mara starts asking questions.',
            airDate: '2021-01-10',
          },
          {
            episode: 3,
            name: 'Fish & Chips <Special>',
            overview: 'A feud at the chip shop. "Nobody" saw anything.',
            airDate: '2021-01-17',
            runtime: 47,
          },
        ],
        { name: 'The Return', overview: 'Mara comes home.' },
      ),
    ],
    [
      2,
      tmdbSeason(id, 2, [
        {
          episode: 1,
          name: 'Low Tide',
          overview: 'A year later, the harbour is drying out.',
          airDate: '2026-11-29',
        },
        { episode: 2, name: 'Episode 2', overview: '', airDate: '2026-12-06', runtime: null, still: false },
      ]),
    ],
  ]);
  const series = tvSeriesRecord(id, 'Harbour Lights', 2021, 400001, 'tt9500100', seasons);
  return {
    series: {
      ...series,
      overview:
        'When Mara Quinn returns to the harbour town she fled twenty years ago, the lights of the old lighthouse start burning again.',
      episode_run_time: [45],
    },
    seasons,
  };
}

/** `/find/{id}?external_source=…`'s `tv_results` entry for a show. */
export function tmdbFindTvResult(series: Record<string, unknown>): Record<string, unknown> {
  return {
    adult: false,
    backdrop_path: series.backdrop_path,
    id: series.id,
    name: series.name,
    original_language: series.original_language,
    original_name: series.original_name,
    overview: series.overview,
    poster_path: series.poster_path,
    media_type: 'tv',
    genre_ids: ((series.genres as { id: number }[] | undefined) ?? []).map((g) => g.id),
    popularity: series.popularity,
    first_air_date: series.first_air_date,
    vote_average: series.vote_average,
    vote_count: series.vote_count,
    origin_country: series.origin_country,
  };
}
