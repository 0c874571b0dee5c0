import { theMatrix } from '@metarr/testkit';
import t from 'tap';
import { certificationOf, metadataFromTmdb, outlineOf, sortTitleOf } from '../../src/services/enrich.ts';
import { scoreCandidate } from '../../src/services/select.ts';

t.test('TMDB record → movie metadata, certification from the configured country', async (t) => {
  const m = metadataFromTmdb(theMatrix() as never, { country: 'US', imageBaseUrl: 'http://img/t/p' });
  t.match(m, {
    title: 'The Matrix',
    originalTitle: 'The Matrix',
    sortTitle: 'Matrix',
    tagline: 'Welcome to the Real World.',
    runtime: 136,
    year: 1999,
    premiered: '1999-03-31',
    certification: 'R',
    rating: { value: 8.2, votes: 26000 },
    genres: ['Action', 'Science Fiction'],
    countries: ['United States of America'],
    studios: ['Village Roadshow Pictures', 'Warner Bros. Pictures'],
    set: { name: 'The Matrix Collection', overview: null },
    directors: ['Lana Wachowski', 'Lilly Wachowski'],
    writers: ['Lana Wachowski'],
    uniqueIds: { tmdb: 603, imdb: 'tt0133093' },
  });
  t.same(m.cast[0], {
    name: 'Keanu Reeves',
    role: 'Thomas A. Anderson / Neo',
    order: 0,
    thumb: 'http://img/t/p/original/keanu-185x278.jpg',
  });
  t.equal(certificationOf(theMatrix() as never, 'DE'), '16');
  t.equal(certificationOf(theMatrix() as never, 'FR'), null, 'no release in that country');
  t.equal(outlineOf('First sentence. Second one.'), 'First sentence.');
  t.equal(sortTitleOf('An American Werewolf'), 'American Werewolf');
  t.equal(sortTitleOf('Heat'), null);
});

t.test('artwork scoring: language preferred > none > other; resolution and aspect count', async (t) => {
  const base = { type: 'poster', provider: 'tmdb', width: 1000, height: 1500, votes: 5 };
  const en = scoreCandidate({ ...base, language: 'en' }, 'en');
  const none = scoreCandidate({ ...base, language: null }, 'en');
  const de = scoreCandidate({ ...base, language: 'de' }, 'en');
  t.ok(en > none && none > de, `en ${en} > none ${none} > de ${de}`);
  const small = scoreCandidate({ ...base, language: 'en', width: 300, height: 450 }, 'en');
  t.ok(small < en, 'lower resolution scores lower');
  const squashed = scoreCandidate({ ...base, language: 'en', width: 1500, height: 1500 }, 'en');
  t.ok(squashed < en, 'wrong aspect ratio scores lower');
  // Fanart is best without text.
  const bg = { type: 'fanart', provider: 'tmdb', width: 1920, height: 1080, votes: 5 };
  t.ok(scoreCandidate({ ...bg, language: null }, 'en') > scoreCandidate({ ...bg, language: 'en' }, 'en'));
  const liked = scoreCandidate({ ...base, language: 'en', votes: 50 }, 'en');
  t.ok(liked > en, 'more votes/likes score higher');
});
