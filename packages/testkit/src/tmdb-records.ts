/** TMDB movie records shaped as the public API answers `/movie/{id}` (for the fake TMDB and tests). */
export interface TmdbImageSpec {
  file_path: string;
  width: number;
  height: number;
  iso_639_1: string | null;
  vote_average: number;
  vote_count: number;
  aspect_ratio: number;
}

/** A TMDB image entry (`images.posters[]` etc.) with its aspect ratio computed. */
export const tmdbImage = (
  file_path: string,
  width: number,
  height: number,
  lang: string | null,
  vote = 5.3,
  votes = 10,
): TmdbImageSpec => ({
  aspect_ratio: Math.round((width / height) * 1000) / 1000,
  file_path,
  height,
  iso_639_1: lang,
  vote_average: vote,
  vote_count: votes,
  width,
});

/** A movie record shaped like `/movie/{id}?append_to_response=credits,images,videos,release_dates,external_ids`. */
export function tmdbMovie(
  id: number,
  o: { title?: string; year?: number; imdbId?: string; imagesPerType?: number } = {},
): Record<string, unknown> {
  const title = o.title ?? `Movie ${id}`;
  const year = o.year ?? 2000 + (id % 25);
  const n = o.imagesPerType ?? 3;
  const posters = [];
  const backdrops = [];
  for (let i = 0; i < n; i++) {
    posters.push(
      tmdbImage(
        `/${id}-poster-${i}-${i === 0 ? 'en' : i === 1 ? 'xx' : 'de'}-${1000 - i * 100}x${1500 - i * 150}.jpg`,
        1000 - i * 100,
        1500 - i * 150,
        i === 0 ? 'en' : i === 1 ? null : 'de',
        5.5 - i / 10,
        12 - i,
      ),
    );
    backdrops.push(
      tmdbImage(`/${id}-backdrop-${i}-1920x1080.jpg`, 1920, 1080, i === 0 ? null : 'en', 5.4 - i / 10, 8 - i),
    );
  }
  return {
    adult: false,
    backdrop_path: backdrops[0]?.file_path ?? null,
    belongs_to_collection: null,
    budget: 1000000,
    genres: [
      { id: 28, name: 'Action' },
      { id: 878, name: 'Science Fiction' },
    ],
    homepage: '',
    id,
    imdb_id: o.imdbId ?? `tt${String(id).padStart(7, '0')}`,
    origin_country: ['US'],
    original_language: 'en',
    original_title: title,
    overview: `${title} is a film. It has a plot.`,
    popularity: 10.5,
    poster_path: posters[0]?.file_path ?? null,
    production_companies: [{ id: 1, logo_path: null, name: 'Fake Studio', origin_country: 'US' }],
    production_countries: [{ iso_3166_1: 'US', name: 'United States of America' }],
    release_date: `${year}-03-31`,
    revenue: 2000000,
    runtime: 100 + (id % 40),
    spoken_languages: [{ english_name: 'English', iso_639_1: 'en', name: 'English' }],
    status: 'Released',
    tagline: `The ${title} tagline.`,
    title,
    video: false,
    vote_average: 7.25,
    vote_count: 1234,
    credits: {
      cast: [
        {
          adult: false,
          gender: 2,
          id: 1,
          known_for_department: 'Acting',
          name: 'Lead Actor',
          original_name: 'Lead Actor',
          popularity: 1,
          profile_path: '/lead-185x278.jpg',
          cast_id: 1,
          character: 'Hero',
          credit_id: 'c1',
          order: 0,
        },
        {
          adult: false,
          gender: 1,
          id: 2,
          known_for_department: 'Acting',
          name: 'Second Actor',
          original_name: 'Second Actor',
          popularity: 1,
          profile_path: null,
          cast_id: 2,
          character: 'Sidekick',
          credit_id: 'c2',
          order: 1,
        },
      ],
      crew: [
        {
          adult: false,
          gender: 2,
          id: 3,
          known_for_department: 'Directing',
          name: 'Some Director',
          original_name: 'Some Director',
          popularity: 1,
          profile_path: null,
          credit_id: 'c3',
          department: 'Directing',
          job: 'Director',
        },
        {
          adult: false,
          gender: 2,
          id: 4,
          known_for_department: 'Writing',
          name: 'Some Writer',
          original_name: 'Some Writer',
          popularity: 1,
          profile_path: null,
          credit_id: 'c4',
          department: 'Writing',
          job: 'Screenplay',
        },
      ],
    },
    images: { backdrops, logos: [tmdbImage(`/${id}-logo-en-800x310.png`, 800, 310, 'en')], posters },
    videos: {
      results: [
        {
          iso_639_1: 'en',
          iso_3166_1: 'US',
          name: 'Official Trailer',
          key: `trailer${id}`,
          site: 'YouTube',
          size: 1080,
          type: 'Trailer',
          official: true,
          published_at: '2020-01-01T00:00:00.000Z',
          id: `v${id}`,
        },
      ],
    },
    release_dates: {
      results: [
        {
          iso_3166_1: 'US',
          release_dates: [
            {
              certification: '',
              descriptors: [],
              iso_639_1: '',
              note: 'Premiere',
              release_date: `${year}-03-24T00:00:00.000Z`,
              type: 1,
            },
            {
              certification: 'R',
              descriptors: [],
              iso_639_1: '',
              note: '',
              release_date: `${year}-03-31T00:00:00.000Z`,
              type: 3,
            },
          ],
        },
        {
          iso_3166_1: 'DE',
          release_dates: [
            {
              certification: '16',
              descriptors: [],
              iso_639_1: '',
              note: '',
              release_date: `${year}-06-17T00:00:00.000Z`,
              type: 3,
            },
          ],
        },
      ],
    },
    external_ids: {
      imdb_id: o.imdbId ?? `tt${String(id).padStart(7, '0')}`,
      wikidata_id: null,
      facebook_id: null,
      instagram_id: null,
      twitter_id: null,
    },
  };
}

/** The Matrix, as TMDB answers for it (trimmed lists, real field names and values). */
export function theMatrix(): Record<string, unknown> {
  const m = tmdbMovie(603, { title: 'The Matrix', year: 1999, imdbId: 'tt0133093' });
  return {
    ...m,
    overview:
      'Set in the 22nd century, The Matrix tells the story of a computer hacker who joins a group of underground insurgents fighting the vast and powerful computers who now rule the earth.',
    tagline: 'Welcome to the Real World.',
    runtime: 136,
    vote_average: 8.2,
    vote_count: 26000,
    belongs_to_collection: {
      id: 2344,
      name: 'The Matrix Collection',
      poster_path: '/matrix-col-1000x1500.jpg',
      backdrop_path: null,
    },
    production_companies: [
      {
        id: 79,
        logo_path: '/at4uYdwAAgNRKhZuuFX8ShKSybw.png',
        name: 'Village Roadshow Pictures',
        origin_country: 'US',
      },
      {
        id: 174,
        logo_path: '/zhD3hhtKB5qyv7ZeL4uLpNxgMVU.png',
        name: 'Warner Bros. Pictures',
        origin_country: 'US',
      },
    ],
    credits: {
      cast: [
        {
          adult: false,
          gender: 2,
          id: 6384,
          known_for_department: 'Acting',
          name: 'Keanu Reeves',
          original_name: 'Keanu Reeves',
          popularity: 50,
          profile_path: '/keanu-185x278.jpg',
          cast_id: 34,
          character: 'Thomas A. Anderson / Neo',
          credit_id: '52fe425bc3a36847f80181c1',
          order: 0,
        },
        {
          adult: false,
          gender: 2,
          id: 2975,
          known_for_department: 'Acting',
          name: 'Laurence Fishburne',
          original_name: 'Laurence Fishburne',
          popularity: 20,
          profile_path: null,
          cast_id: 21,
          character: 'Morpheus',
          credit_id: '52fe425bc3a36847f801818d',
          order: 1,
        },
      ],
      crew: [
        {
          adult: false,
          gender: 1,
          id: 9340,
          known_for_department: 'Directing',
          name: 'Lana Wachowski',
          original_name: 'Lana Wachowski',
          popularity: 3,
          profile_path: null,
          credit_id: '52fe425bc3a36847f8018181',
          department: 'Directing',
          job: 'Director',
        },
        {
          adult: false,
          gender: 1,
          id: 9339,
          known_for_department: 'Directing',
          name: 'Lilly Wachowski',
          original_name: 'Lilly Wachowski',
          popularity: 3,
          profile_path: null,
          credit_id: '52fe425bc3a36847f801817b',
          department: 'Directing',
          job: 'Director',
        },
        {
          adult: false,
          gender: 1,
          id: 9340,
          known_for_department: 'Directing',
          name: 'Lana Wachowski',
          original_name: 'Lana Wachowski',
          popularity: 3,
          profile_path: null,
          credit_id: '52fe425bc3a36847f8018187',
          department: 'Writing',
          job: 'Writer',
        },
      ],
    },
  };
}
