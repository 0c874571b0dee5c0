import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import {
  buildMovieNfo,
  type MovieMetadata,
  parseMovieNfo,
  stripInvalidXmlChars,
} from '../../src/files/nfo.ts';

const matrix: MovieMetadata = {
  title: 'The Matrix',
  originalTitle: 'The Matrix',
  sortTitle: 'Matrix',
  tagline: 'Welcome to the Real World.',
  plot: 'A hacker learns the truth. He fights.',
  outline: 'A hacker learns the truth.',
  runtime: 136,
  year: 1999,
  premiered: '1999-03-31',
  certification: 'R',
  rating: { value: 8.2, votes: 26000 },
  genres: ['Action', 'Science Fiction'],
  countries: ['United States of America'],
  studios: ['Warner Bros. Pictures'],
  set: { name: 'The Matrix Collection', overview: null },
  directors: ['Lana Wachowski', 'Lilly Wachowski'],
  writers: ['Lana Wachowski'],
  cast: [
    { name: 'Laurence Fishburne', role: 'Morpheus', order: 1, thumb: null },
    { name: 'Keanu Reeves', role: 'Neo', order: 0, thumb: 'http://img/t/p/original/k.jpg' },
  ],
  uniqueIds: { tmdb: 603, imdb: 'tt0133093' },
  trailer: 'plugin://plugin.video.youtube/play/?video_id=abc',
};

const GOLDEN = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<movie>
  <title>The Matrix</title>
  <originaltitle>The Matrix</originaltitle>
  <sorttitle>Matrix</sorttitle>
  <ratings>
    <rating name="themoviedb" max="10" default="true">
      <value>8.2</value>
      <votes>26000</votes>
    </rating>
  </ratings>
  <outline>A hacker learns the truth.</outline>
  <plot>A hacker learns the truth. He fights.</plot>
  <tagline>Welcome to the Real World.</tagline>
  <runtime>136</runtime>
  <thumb aspect="poster">http://img/p.jpg</thumb>
  <fanart>
    <thumb>http://img/f.jpg</thumb>
  </fanart>
  <mpaa>R</mpaa>
  <uniqueid type="tmdb" default="true">603</uniqueid>
  <uniqueid type="imdb" default="false">tt0133093</uniqueid>
  <genre>Action</genre>
  <genre>Science Fiction</genre>
  <country>United States of America</country>
  <set>
    <name>The Matrix Collection</name>
  </set>
  <credits>Lana Wachowski</credits>
  <director>Lana Wachowski</director>
  <director>Lilly Wachowski</director>
  <premiered>1999-03-31</premiered>
  <year>1999</year>
  <studio>Warner Bros. Pictures</studio>
  <trailer>plugin://plugin.video.youtube/play/?video_id=abc</trailer>
  <fileinfo>
    <streamdetails>
      <container>mkv</container>
    </streamdetails>
  </fileinfo>
  <actor>
    <name>Keanu Reeves</name>
    <role>Neo</role>
    <order>0</order>
    <thumb>http://img/t/p/original/k.jpg</thumb>
  </actor>
  <actor>
    <name>Laurence Fishburne</name>
    <role>Morpheus</role>
    <order>1</order>
  </actor>
</movie>
`;

t.test('the Kodi movie NFO matches the golden file', async (t) => {
  const xml = buildMovieNfo(matrix, {
    artwork: { poster: 'http://img/p.jpg', fanart: ['http://img/f.jpg'] },
    fileinfo: { container: 'mkv' },
  });
  t.equal(xml, GOLDEN);
  t.equal(
    buildMovieNfo(matrix, {
      artwork: { poster: 'http://img/p.jpg', fanart: ['http://img/f.jpg'] },
      fileinfo: { container: 'mkv' },
    }),
    xml,
    'deterministic',
  );
});

/** XML 1.0 `Char` production. */
function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

const HOSTILE = [
  'Tom & Jerry <3 > ]]> end',
  '</title><title>x',
  'bell\u0007 null\u0000 esc\u001b vt\u000b ff\u000c',
  'lone \uD800 high and \uDC00 low surrogates',
  'fine 😀 emoji and \uFFFE\uFFFF noncharacters',
  '<![CDATA[ x ]]>',
  '<?php echo 1 ?>',
  '&amp; already &#x0; escaped',
];

t.test('hostile titles round-trip through a strict parser as text', async (t) => {
  for (const title of HOSTILE) {
    const xml = buildMovieNfo({
      ...matrix,
      title,
      plot: title,
      cast: [{ name: title, role: title, order: 0, thumb: null }],
    });
    const valid = XMLValidator.validate(xml);
    t.equal(valid, true, `well-formed for ${JSON.stringify(title)}`);
    // Every character is an XML 1.0 Char; no lone surrogate survives encoding.
    const bad = [...xml].filter((ch) => !isXmlChar(ch.codePointAt(0) ?? 0));
    t.same(bad, [], 'only XML 1.0 characters');
    t.equal(Buffer.from(xml, 'utf8').toString('utf8'), xml, 'valid UTF-8 round trip');
    t.equal(xml.match(/<title>/g)?.length, 1, 'an injected tag stays text: one <title>');
    const parsed = new XMLParser({
      processEntities: true,
      htmlEntities: false,
      parseTagValue: false,
      trimValues: false,
    }).parse(xml);
    t.equal(
      parsed.movie.title,
      stripInvalidXmlChars(title),
      `title text survives for ${JSON.stringify(title)}`,
    );
    t.equal(parseMovieNfo(xml).title, stripInvalidXmlChars(title).trim());
  }
  t.equal(stripInvalidXmlChars('a\uD800b\uDC00c\u0001d😀'), 'abcd😀');
});

t.test(
  'parseMovieNfo reads ids, title and year, keeps unknown user tags, and reports malformed XML',
  async (t) => {
    const p = parseMovieNfo(`<?xml version="1.0"?>
<movie>
  <title>The Matrix</title>
  <year>1999</year>
  <uniqueid type="imdb">tt0133093</uniqueid>
  <uniqueid type="tmdb" default="true">603</uniqueid>
  <mycollection source="me">Favourites &amp; more</mycollection>
  <watched>true</watched>
</movie>
https://www.themoviedb.org/movie/603`);
    t.match(p, { ok: true, tmdbId: 603, imdbId: 'tt0133093', title: 'The Matrix', year: 1999 });
    t.equal(p.userNodes.length, 2);
    const rebuilt = buildMovieNfo(matrix, { userNodes: p.userNodes });
    t.match(rebuilt, '<mycollection source="me">Favourites &amp; more</mycollection>');
    t.match(rebuilt, '<watched>true</watched>');
    t.equal(XMLValidator.validate(rebuilt), true);

    const legacy = parseMovieNfo(
      '<movie><id>tt0133093</id><tmdbid>603</tmdbid><premiered>1999-03-31</premiered></movie>',
    );
    t.match(legacy, { ok: true, tmdbId: 603, imdbId: 'tt0133093', year: 1999 });

    const broken = parseMovieNfo('<movie><title>Oops</titel></movie>');
    t.equal(broken.ok, false);
    t.match(broken.error, /malformed XML/);
    t.equal(parseMovieNfo('<tvshow><title>x</title></tvshow>').ok, false);
  },
);

t.test('hostile existing NFOs: entity expansion stays bounded, external entities are refused', async (t) => {
  const levels = ['<!ENTITY l0 "lol">'];
  for (let i = 1; i < 9; i++) levels.push(`<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`);
  const bomb = `<?xml version="1.0"?><!DOCTYPE m [${levels.join('')}]><movie><title>&l8;</title></movie>`;
  const started = Date.now();
  const p = parseMovieNfo(bomb);
  t.ok(Date.now() - started < 2000, 'parsed quickly');
  t.ok((p.title ?? '').length < 10_000, 'no billion laughs');
  const ext = parseMovieNfo(
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><movie><title>&x;</title></movie>',
  );
  t.equal(ext.ok, false);
  t.notMatch(JSON.stringify(ext), /root:/, 'no file content leaks in');
});
