import { harbourLights, tmdbSeason } from '@metarr/testkit';
import t from 'tap';
import {
  episodesMetadataFromTmdb,
  isPlaceholderTitle,
  nextPlaceholderCheck,
  placeholderFields,
  seriesMetadataFromTmdb,
  type TmdbSeason,
  type TmdbSeries,
} from '../../src/tv/metadata.ts';

const IMG = 'http://img/t/p';
const show = harbourLights();
const series = show.series as unknown as TmdbSeries;

t.test('a TMDB /tv record maps to the series metadata Kodi needs', async (t) => {
  const m = seriesMetadataFromTmdb(series, { country: 'US', imageBaseUrl: IMG });
  t.same(m, {
    title: 'Harbour Lights',
    originalTitle: 'Harbour Lights',
    sortTitle: null,
    plot: 'When Mara Quinn returns to the harbour town she fled twenty years ago, the lights of the old lighthouse start burning again.',
    outline:
      'When Mara Quinn returns to the harbour town she fled twenty years ago, the lights of the old lighthouse start burning again.',
    premiered: '2021-01-10',
    year: 2021,
    status: 'Returning Series',
    runtime: 45,
    certification: 'TV-MA',
    rating: { value: 8.1, votes: 420 },
    genres: ['Drama', 'Mystery'],
    studios: ['HBO'],
    cast: [
      { name: 'Lead Actor', role: 'Hero', order: 0, thumb: `${IMG}/original/lead-185x278.jpg` },
      { name: 'Second Actor', role: 'Sidekick / Young Sidekick (voice)', order: 1, thumb: null },
    ],
    uniqueIds: { tmdb: 95001, tvdb: 400001, imdb: 'tt9500100' },
    namedSeasons: [
      { season: 0, name: 'Specials' },
      { season: 1, name: 'The Return' },
      { season: 2, name: 'Season 2' },
    ],
    trailer: 'plugin://plugin.video.youtube/play/?video_id=tvtrailer95001',
  });
});

t.test('certification is the configured country’s; an empty or missing rating is none', async (t) => {
  t.equal(seriesMetadataFromTmdb(series, { country: 'DE', imageBaseUrl: IMG }).certification, '16');
  t.equal(seriesMetadataFromTmdb(series, { country: 'GB', imageBaseUrl: IMG }).certification, null);
  t.equal(seriesMetadataFromTmdb(series, { country: 'FR', imageBaseUrl: IMG }).certification, null);
});

t.test(
  'a sparse record: no networks means production companies, no external ids means null ids',
  async (t) => {
    const m = seriesMetadataFromTmdb(
      {
        id: 7,
        name: 'The Sparse Show',
        first_air_date: '',
        production_companies: [{ name: 'Studio A' }, { name: ' ' }],
        vote_count: 0,
        videos: { results: [{ site: 'YouTube', type: 'Trailer', key: 'bad&key=1' }] },
      },
      { country: 'US', imageBaseUrl: IMG },
    );
    t.match(m, {
      sortTitle: 'Sparse Show',
      premiered: null,
      year: null,
      rating: null,
      studios: ['Studio A'],
      uniqueIds: { tmdb: 7, tvdb: null, imdb: null },
      trailer: null,
      cast: [],
      namedSeasons: [],
    });
  },
);

t.test(
  'a season record maps each episode: crew, guest stars, still, placeholders kept as null',
  async (t) => {
    const s1 = episodesMetadataFromTmdb(show.seasons.get(1) as TmdbSeason, {
      showTitle: 'Harbour Lights',
      imageBaseUrl: IMG,
    });
    t.same(
      s1.map((e) => [e.season, e.episode, e.title]),
      [
        [1, 1, 'Arrival (1)'],
        [1, 2, 'Arrival (2)'],
        [1, 3, 'Fish & Chips <Special>'],
      ],
    );
    t.same(s1[0], {
      showTitle: 'Harbour Lights',
      season: 1,
      episode: 1,
      title: 'Arrival (1)',
      plot: 'Mara returns to the harbour town she left. Nobody is pleased.',
      aired: '2021-01-10',
      runtime: 45,
      rating: { value: 7.6, votes: 12 },
      directors: ['Director 1'],
      writers: ['Head Writer'],
      guestStars: [
        {
          name: 'Guest Star',
          role: 'Harbour Master',
          order: 500,
          thumb: `${IMG}/original/guest-0-185x278.jpg`,
        },
      ],
      still: `${IMG}/original/95001-s01e01-still-1280x720.jpg`,
      uniqueIds: { tmdb: 95001101, tvdb: null, imdb: null },
    });
    const s2 = episodesMetadataFromTmdb(show.seasons.get(2) as TmdbSeason, {
      showTitle: 'Harbour Lights',
      imageBaseUrl: IMG,
    });
    t.match(s2[1], {
      episode: 2,
      title: 'Episode 2',
      plot: null,
      still: null,
      runtime: null,
      rating: null,
      directors: [],
    });
    const specials = episodesMetadataFromTmdb(show.seasons.get(0) as TmdbSeason, {
      showTitle: null,
      imageBaseUrl: IMG,
    });
    t.match(specials, [{ season: 0, episode: 1, title: 'Christmas at the Harbour', runtime: 60 }]);
    const unordered = tmdbSeason(1, 3, [
      { episode: 2, name: 'B', overview: 'b', airDate: null },
      { episode: 1, name: 'A', overview: 'a', airDate: 'soon' },
    ]) as TmdbSeason;
    t.same(
      episodesMetadataFromTmdb(unordered, { showTitle: null, imageBaseUrl: IMG }).map((e) => [
        e.episode,
        e.aired,
      ]),
      [
        [1, null],
        [2, null],
      ],
      'episode order, and a malformed air date is none',
    );
  },
);

t.test('placeholder titles in several languages; real titles that look alike are not', async (t) => {
  for (const title of [
    'TBA',
    'tbd',
    'T.B.A.',
    'To Be Announced',
    'Episode 5',
    'Episode #12',
    'Ep. 3',
    'Folge 7',
    'Épisode 2',
    'Episodio 4',
    'Capítulo 9',
    'Aflevering 1',
    '',
    '  ',
    null,
  ])
    t.ok(isPlaceholderTitle(title), `${JSON.stringify(title)} is a placeholder`);
  for (const title of ['Episode 5: The Return', 'The Episode 5', 'TBA Live', 'Pilot', 'Arrival (2)', '42'])
    t.notOk(isPlaceholderTitle(title), `${JSON.stringify(title)} is a real title`);
});

t.test('placeholderFields lists the title, plot and still still waiting for TMDB', async (t) => {
  t.same(placeholderFields({ title: 'Episode 2', plot: '', still: null }), ['title', 'plot', 'still']);
  t.same(placeholderFields({ title: 'Low Tide', plot: 'TBA', still: 'http://x/s.jpg' }), ['plot']);
  t.same(placeholderFields({ title: 'Low Tide', plot: 'A year later.', still: null }), ['still']);
  t.same(placeholderFields({ title: 'Low Tide', plot: 'A year later.', still: 'http://x/s.jpg' }), []);
});

t.test('placeholder rechecks back off from the air date, doubling, and stop 30 days after it', async (t) => {
  const first = 21600;
  const at = (iso: string) => new Date(iso);
  const next = (checks: number, now: string, airDate: string | null = '2026-12-01') =>
    nextPlaceholderCheck({ airDate, checks, now: at(now), firstDelaySeconds: first })?.toISOString() ?? null;
  t.equal(next(0, '2026-12-01T10:00:00Z'), '2026-12-01T16:00:00.000Z', 'first after 6 h');
  t.equal(next(1, '2026-12-01T16:00:00Z'), '2026-12-02T04:00:00.000Z', 'then 12 h');
  t.equal(next(2, '2026-12-02T04:00:00Z'), '2026-12-03T04:00:00.000Z', 'then a day');
  t.equal(
    next(0, '2026-11-20T00:00:00Z'),
    '2026-12-01T06:00:00.000Z',
    'not polled before it airs: the first recheck is 6 h after the air date',
  );
  t.equal(next(7, '2026-12-25T00:00:00Z'), '2026-12-31T00:00:00.000Z', 'the last recheck is on day 30');
  t.equal(next(2, '2026-12-31T00:00:00Z'), null, 'none from day 30 on');
  t.equal(next(0, '2027-03-01T00:00:00Z'), null);
  t.equal(next(3, '2026-12-01T00:00:00Z', null), '2026-12-03T00:00:00.000Z', 'no air date: plain backoff');
  t.equal(next(40, '2026-12-01T00:00:00Z', null), '2026-12-31T00:00:00.000Z', 'at most monthly');
});
