import { fanartTv, harbourLights, startFakeFanart } from '@metarr/testkit';
import t from 'tap';
import { createFanartClient } from '../../src/clients/fanart.ts';
import {
  artworkSlot,
  episodeThumbFileName,
  pickSeriesArtwork,
  type SeriesCandidate,
  seriesArtworkFileName,
  seriesCandidatesFrom,
} from '../../src/tv/artwork.ts';

const IMG = 'http://img/t/p';

t.test('series and season artwork get the file names Kodi reads (golden), specials included', async (t) => {
  const names = [
    ...['poster', 'fanart', 'banner', 'clearlogo', 'clearart', 'landscape', 'characterart'].map((type) =>
      seriesArtworkFileName(type, null),
    ),
    ...[1, 12, 0].flatMap((season) =>
      ['poster', 'banner', 'landscape'].map((type) => seriesArtworkFileName(type, season)),
    ),
  ];
  t.strictSame(names, [
    'poster.jpg',
    'fanart.jpg',
    'banner.jpg',
    'clearlogo.png',
    'clearart.png',
    'landscape.jpg',
    'characterart.png',
    'season01-poster.jpg',
    'season01-banner.jpg',
    'season01-landscape.jpg',
    'season12-poster.jpg',
    'season12-banner.jpg',
    'season12-landscape.jpg',
    'season-specials-poster.jpg',
    'season-specials-banner.jpg',
    'season-specials-landscape.jpg',
  ]);
  t.equal(seriesArtworkFileName('discart', null), null, 'no series discart');
  t.equal(seriesArtworkFileName('clearlogo', 1), null, 'no season clearlogo');
  t.equal(seriesArtworkFileName('poster', -1), null, 'no negative season');
});

t.test('an episode thumbnail sits beside its video as <basename>-thumb.jpg', async (t) => {
  t.equal(
    episodeThumbFileName('Season 01/Harbour Lights - S01E01 - Arrival (1).mkv'),
    'Season 01/Harbour Lights - S01E01 - Arrival (1)-thumb.jpg',
  );
  t.equal(episodeThumbFileName('Show.S01E02.v2.mp4'), 'Show.S01E02.v2-thumb.jpg');
});

t.test(
  'candidates: TMDB series images and every fanart.tv TV type, season art with its season',
  async (t) => {
    const show = harbourLights();
    const fanart = fanartTv('http://fanart', 400001, 'Harbour Lights', [0, 1]);
    const list = seriesCandidatesFrom(show.series, fanart, IMG);
    const slots = new Set(list.map((c) => artworkSlot(c.type, c.season)));
    t.strictSame(
      [...slots].sort(),
      [
        'banner',
        'banner@0',
        'banner@1',
        'characterart',
        'clearart',
        'clearlogo',
        'fanart',
        'landscape',
        'landscape@0',
        'landscape@1',
        'poster',
        'poster@0',
        'poster@1',
      ].sort(),
    );
    t.ok(
      list.some((c) => c.provider === 'tmdb' && c.type === 'poster' && c.url.startsWith(`${IMG}/original/`)),
      'TMDB posters are candidates',
    );
    // showbackground "season: all" is still the series' fanart, not a season's.
    t.ok(list.filter((c) => c.type === 'fanart').every((c) => c.season === null));
  },
);

t.test('the pick prefers the configured language and leaves a locked slot alone', async (t) => {
  const c = (over: Partial<SeriesCandidate>): SeriesCandidate => ({
    type: 'poster',
    provider: 'fanart',
    url: `http://x/${Math.random()}`,
    language: null,
    width: 1000,
    height: 1500,
    votes: 1,
    season: null,
    ...over,
  });
  const de = c({ language: 'de', votes: 50 });
  const en = c({ language: 'en' });
  const s1 = c({ season: 1, language: 'en' });
  const logo = c({ type: 'clearlogo', width: 800, height: 310 });
  const picked = pickSeriesArtwork([de, en, s1, logo], {
    language: 'en',
    lockedSlots: new Set(['clearlogo']),
  });
  t.equal(picked.get('poster'), en, 'the English poster over a better-liked German one');
  t.equal(picked.get('poster@1'), s1, "season 1's own poster");
  t.notOk(picked.has('clearlogo'), 'a locked clearlogo gets no remote pick');
});

t.test('the fanart.tv client asks /v3/tv/{tvdbId} with the key; an unknown show is null', async (t) => {
  const fake = await startFakeFanart({ apiKey: 'k' });
  t.teardown(() => fake.close());
  fake.synthesize = false;
  fake.shows.set(400001, fanartTv(fake.url, 400001, 'Harbour Lights'));
  const client = createFanartClient({ baseUrl: fake.apiUrl, apiKey: 'k', clientKey: 'mine' });
  t.match(await client.tv(400001, {}), { name: 'Harbour Lights', tvposter: [{}] });
  t.match(fake.calls.at(-1), { path: '/tv/400001', query: { api_key: 'k', client_key: 'mine' } });
  t.equal(await client.tv(400002, {}), null);
});
