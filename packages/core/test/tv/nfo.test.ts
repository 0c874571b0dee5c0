import fs from 'node:fs';
import { harbourLights } from '@metarr/testkit';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { stripInvalidXmlChars } from '../../src/files/nfo.ts';
import {
  type EpisodeMetadata,
  episodesMetadataFromTmdb,
  type SeriesMetadata,
  seriesMetadataFromTmdb,
  type TmdbSeason,
  type TmdbSeries,
} from '../../src/tv/metadata.ts';
import { buildEpisodeNfo, episodeNfo, parseEpisodeNfo, parseTvshowNfo, tvshowNfo } from '../../src/tv/nfo.ts';

const golden = (name: string) => fs.readFileSync(new URL(`../fixtures/tv/${name}`, import.meta.url), 'utf8');
const IMG = 'http://img/t/p';
const show = harbourLights();
const series = seriesMetadataFromTmdb(show.series as unknown as TmdbSeries, {
  country: 'US',
  imageBaseUrl: IMG,
});
const episodesOf = (season: number) =>
  episodesMetadataFromTmdb(show.seasons.get(season) as TmdbSeason, {
    showTitle: series.title,
    imageBaseUrl: IMG,
  });
const [e1, e2, e3] = episodesOf(1) as [EpisodeMetadata, EpisodeMetadata, EpisodeMetadata];
const artwork = {
  poster: 'poster.jpg',
  fanart: ['fanart.jpg'],
  seasonPosters: [
    { season: 1, file: 'season01-poster.jpg' },
    { season: 0, file: 'season-specials-poster.jpg' },
  ],
};

t.test('tvshow.nfo matches the golden file, byte for byte, every time', async (t) => {
  const { xml, existingError } = tvshowNfo(series, null, { artwork });
  t.equal(xml, golden('tvshow.nfo'));
  t.equal(existingError, null);
  t.equal(tvshowNfo(series, null, { artwork }).xml, xml, 'deterministic');
  t.equal(XMLValidator.validate(xml), true);
});

t.test('episode NFOs match the golden files: single, multi-episode and a special', async (t) => {
  t.equal(episodeNfo([e3]).xml, golden('episode-single.nfo'), 'markup in a title is escaped text');
  const multi = episodeNfo([e1, e2], null, { thumb: 'Harbour Lights - S01E01E02 - Arrival-thumb.jpg' }).xml;
  t.equal(multi, golden('episode-multi.nfo'));
  t.equal(multi.match(/<episodedetails>/g)?.length, 2, 'one <episodedetails> per episode, in order');
  t.ok(multi.indexOf('<episode>1</episode>') < multi.indexOf('<episode>2</episode>'));
  t.equal(multi.match(/<\?xml/g)?.length, 1, 'one XML declaration');
  t.equal(
    episodeNfo(episodesOf(0), null, { thumb: 'Harbour Lights - S00E01 - Christmas at the Harbour-thumb.jpg' })
      .xml,
    golden('episode-special.nfo'),
    'specials are season 0',
  );
  t.throws(() => buildEpisodeNfo([]), /at least one episode/);
});

t.test('fields TMDB has not filled are left out, not written empty', async (t) => {
  const placeholder = episodesOf(2)[1] as EpisodeMetadata;
  const xml = episodeNfo([placeholder]).xml;
  t.match(xml, '<title>Episode 2</title>');
  t.notMatch(xml, /<plot>|<thumb>|<runtime>|<ratings>|<director>/);
  const sparse: SeriesMetadata = {
    ...series,
    originalTitle: null,
    sortTitle: null,
    plot: null,
    outline: null,
    certification: null,
    rating: null,
    genres: [],
    cast: [],
    namedSeasons: [],
    uniqueIds: { tmdb: 95001, tvdb: null, imdb: null },
  };
  const show = tvshowNfo(sparse).xml;
  t.notMatch(show, /<plot>|<mpaa>|<genre>|<actor>|<namedseason|type="tvdb"/);
  t.match(show, '<uniqueid type="tmdb" default="true">95001</uniqueid>');
});

/** XML 1.0 `Char` production. */
const isXmlChar = (c: number) =>
  c === 0x9 ||
  c === 0xa ||
  c === 0xd ||
  (c >= 0x20 && c <= 0xd7ff) ||
  (c >= 0xe000 && c <= 0xfffd) ||
  (c >= 0x10000 && c <= 0x10ffff);

const HOSTILE = [
  'Tom & Jerry <3 > ]]> end',
  '</title><title>x',
  '</episodedetails><episodedetails><title>injected',
  'bell\u0007 null\u0000 esc\u001b vt\u000b ff\u000c',
  'lone \uD800 high and \uDC00 low surrogates',
  'fine 😀 emoji and \uFFFE\uFFFF noncharacters',
  '<![CDATA[ x ]]>',
  '<?php echo 1 ?>',
  '&amp; already &#x0; escaped',
];

const strictText = (xml: string) =>
  new XMLParser({
    processEntities: true,
    htmlEntities: false,
    parseTagValue: false,
    trimValues: false,
  }).parse(xml);

t.test(
  'hostile names round-trip through the strict parser as text, in tvshow and episode NFOs',
  async (t) => {
    for (const name of HOSTILE) {
      const label = JSON.stringify(name);
      const cast = [{ name, role: name, order: 0, thumb: null }];
      const show = tvshowNfo({
        ...series,
        title: name,
        plot: name,
        cast,
        namedSeasons: [{ season: 1, name }],
      }).xml;
      t.equal(XMLValidator.validate(show), true, `tvshow well-formed for ${label}`);
      t.same(
        [...show].filter((ch) => !isXmlChar(ch.codePointAt(0) ?? 0)),
        [],
        'only XML 1.0 characters',
      );
      t.equal(show.match(/<title>/g)?.length, 1, 'an injected tag stays text');
      const parsedShow = strictText(show).tvshow;
      t.equal(parsedShow.title, stripInvalidXmlChars(name), `tvshow title survives for ${label}`);
      t.equal(parsedShow.actor.role, stripInvalidXmlChars(name));
      t.equal(parseTvshowNfo(show).title, stripInvalidXmlChars(name).trim());

      const hostileEp = { ...e1, title: name, showTitle: name, plot: name, guestStars: cast };
      const multi = episodeNfo([hostileEp, { ...e2, title: name }]).xml;
      // Kodi reads each <episodedetails> on its own: each block is a strict XML document.
      const blocks = multi.split(/(?=<episodedetails>)/).slice(1);
      t.equal(blocks.length, 2, `two blocks for ${label}`);
      for (const block of blocks) {
        t.equal(XMLValidator.validate(block), true, `episode block well-formed for ${label}`);
        t.equal(strictText(block).episodedetails.title, stripInvalidXmlChars(name));
      }
      t.equal(strictText(blocks[0] as string).episodedetails.showtitle, stripInvalidXmlChars(name));
      t.same(
        [...multi].filter((ch) => !isXmlChar(ch.codePointAt(0) ?? 0)),
        [],
      );
      const reread = parseEpisodeNfo(multi);
      t.equal(reread.ok, true);
      t.same(
        reread.episodes.map((e) => [e.season, e.episode]),
        [
          [1, 1],
          [1, 2],
        ],
        'the hostile text adds no block',
      );
    }
  },
);

t.test('a rewrite keeps the user’s own tags, replaces ours, and is byte-stable', async (t) => {
  const userShow = `<?xml version="1.0" encoding="UTF-8"?>
<tvshow>
  <title>Old Title</title>
  <uniqueid type="tvdb" default="true">400001</uniqueid>
  <mycollection source="me">Favourites &amp; more</mycollection>
  <genre>Old Genre</genre>
  <watched>true</watched>
</tvshow>
https://www.themoviedb.org/tv/95001`;
  const first = tvshowNfo(series, userShow);
  t.equal(first.existingError, null);
  t.match(first.xml, '<mycollection source="me">Favourites &amp; more</mycollection>');
  t.match(first.xml, '<watched>true</watched>');
  t.notMatch(first.xml, /Old Title|Old Genre/, 'our tags are replaced, not doubled');
  t.equal(first.xml.match(/<uniqueid type="tvdb"/g)?.length, 1);
  t.equal(XMLValidator.validate(first.xml), true);
  t.equal(tvshowNfo(series, first.xml).xml, first.xml, 'rewriting our own output changes nothing');

  const userEpisodes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<episodedetails>
  <title>Arrival (2)</title>
  <season>1</season>
  <episode>2</episode>
  <displayseason>0</displayseason>
  <playcount>3</playcount>
</episodedetails>
<episodedetails>
  <title>Arrival (1)</title>
  <season>1</season>
  <episode>1</episode>
  <lastplayed>2024-01-01</lastplayed>
</episodedetails>`;
  const multi = episodeNfo([e1, e2], userEpisodes);
  const [b1, b2] = multi.xml.split(/(?=<episodedetails>)/).slice(1) as [string, string];
  t.match(b1, '<lastplayed>2024-01-01</lastplayed>', "episode 1's tags stay with episode 1");
  t.notMatch(b1, /playcount|displayseason/);
  t.match(b2, '<displayseason>0</displayseason>');
  t.match(b2, '<playcount>3</playcount>');
  t.equal(episodeNfo([e1, e2], multi.xml).xml, multi.xml, 'byte-stable');

  const unnumbered = episodeNfo([e3], '<episodedetails><title>x</title><tag>mine</tag></episodedetails>');
  t.match(unnumbered.xml, '<tag>mine</tag>', 'a block stating no numbers is matched by position');
});

t.test('a malformed or foreign existing NFO is reported and its tags are not kept', async (t) => {
  const broken = tvshowNfo(series, '<tvshow><title>Oops</titel><mine>x</mine></tvshow>');
  t.match(broken.existingError, /malformed XML/);
  t.notMatch(broken.xml, /mine/);
  t.equal(broken.xml, tvshowNfo(series).xml);
  t.match(tvshowNfo(series, '<movie><title>x</title></movie>').existingError, /no <tvshow> root/);
  t.match(episodeNfo([e1], '<tvshow><title>x</title></tvshow>').existingError, /no <episodedetails> root/);
  const levels = ['<!ENTITY l0 "lol">'];
  for (let i = 1; i < 9; i++) levels.push(`<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`);
  const bomb = `<?xml version="1.0"?><!DOCTYPE e [${levels.join('')}]><episodedetails><title>&l8;</title></episodedetails>`;
  const started = Date.now();
  t.equal(parseEpisodeNfo(bomb).ok, false, 'a DOCTYPE is refused');
  t.ok(Date.now() - started < 2000);
  const ext = parseTvshowNfo(
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><tvshow><title>&x;</title></tvshow>',
  );
  t.equal(ext.ok, false);
  t.notMatch(JSON.stringify(ext), /root:/);
});

t.test('parseTvshowNfo reads the tmdb, tvdb and imdb ids a tvshow.nfo states', async (t) => {
  t.match(parseTvshowNfo(golden('tvshow.nfo')), {
    ok: true,
    title: 'Harbour Lights',
    ids: { tmdbId: 95001, tvdbId: 400001, imdbId: 'tt9500100' },
    userNodes: [],
  });
  t.same(parseTvshowNfo('<tvshow><uniqueid type="tvdb">abc</uniqueid></tvshow>').ids, {});
});
