/**
 * NfoService — Kodi movie NFO documents, built and read with an XML library (fast-xml-parser), never
 * by string concatenation: text is escaped by the builder, so markup in a title stays text.
 * Pure functions: no I/O.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

export interface CastMember {
  name: string;
  role: string | null;
  order: number;
  thumb: string | null;
}

/** The enriched movie as enrich-metadata stores it and publish writes it. */
export interface MovieMetadata {
  title: string | null;
  originalTitle: string | null;
  sortTitle: string | null;
  tagline: string | null;
  plot: string | null;
  outline: string | null;
  runtime: number | null;
  year: number | null;
  premiered: string | null;
  certification: string | null;
  rating: { value: number; votes: number } | null;
  genres: string[];
  countries: string[];
  studios: string[];
  set: { name: string; overview: string | null } | null;
  directors: string[];
  writers: string[];
  cast: CastMember[];
  uniqueIds: { tmdb: number | null; imdb: string | null };
  trailer: string | null;
}

export const METADATA_FIELDS = [
  'title',
  'originalTitle',
  'sortTitle',
  'tagline',
  'plot',
  'outline',
  'runtime',
  'year',
  'premiered',
  'certification',
  'rating',
  'genres',
  'countries',
  'studios',
  'set',
  'directors',
  'writers',
  'cast',
  'uniqueIds',
  'trailer',
] as const satisfies readonly (keyof MovieMetadata)[];

export interface NfoArtwork {
  /** Relative file names (Kodi resolves them next to the NFO) or URLs. */
  poster?: string | undefined;
  fanart?: string[];
}

export interface NfoFileInfo {
  container?: string;
}

type XmlNode = Record<string, unknown>;

const XML_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
} as const;

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. With the u flag
// a lone surrogate is a code point of its own in D800–DFFF, so it is stripped too.
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function stripInvalidXmlChars(s: string): string {
  return s.replace(INVALID_XML, '');
}

/** The tags every Kodi video NFO kind Metarr writes (movie, tvshow) owns. */
export const NFO_COMMON_OWN_TAGS = [
  'title',
  'originaltitle',
  'sorttitle',
  'ratings',
  'userrating',
  'top250',
  'outline',
  'plot',
  'tagline',
  'runtime',
  'thumb',
  'fanart',
  'mpaa',
  'id',
  'uniqueid',
  'genre',
] as const;

/** The tags publish writes: an existing NFO's other top-level tags are the user's and are kept. */
const OWN_TAGS = new Set<string>([
  ...NFO_COMMON_OWN_TAGS,
  'country',
  'set',
  'credits',
  'director',
  'premiered',
  'year',
  'studio',
  'trailer',
  'fileinfo',
  'actor',
]);

const text = (tag: string, value: string | number | null | undefined, attrs?: Record<string, string>) => {
  const node: XmlNode = { [tag]: [{ '#text': stripInvalidXmlChars(String(value ?? '')) }] };
  if (attrs) node[':@'] = prefixed(attrs);
  return node;
};
const prefixed = (attrs: Record<string, string>) =>
  Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`@_${k}`, stripInvalidXmlChars(v)]));
const elem = (tag: string, children: XmlNode[], attrs?: Record<string, string>) => {
  const node: XmlNode = { [tag]: children };
  if (attrs) node[':@'] = prefixed(attrs);
  return node;
};

/** `<fanart><thumb>…</thumb>…</fanart>`: the backdrops Kodi offers, main one first. */
const fanartNode = (urls: string[]) =>
  elem(
    'fanart',
    urls.map((u) => text('thumb', u)),
  );

/**
 * Builds the Kodi movie NFO. `userNodes` are the unknown top-level tags of the existing NFO (from
 * parseMovieNfo), appended unchanged. Output is deterministic: same input, same bytes.
 */
export function buildMovieNfo(
  m: MovieMetadata,
  opts: { artwork?: NfoArtwork; fileinfo?: NfoFileInfo; userNodes?: unknown[] } = {},
): string {
  const c: XmlNode[] = [];
  const opt = (tag: string, v: string | number | null | undefined) => {
    if (v !== null && v !== undefined && v !== '') c.push(text(tag, v));
  };
  opt('title', m.title);
  opt('originaltitle', m.originalTitle);
  opt('sorttitle', m.sortTitle);
  if (m.rating) {
    c.push(
      elem('ratings', [
        elem('rating', [text('value', m.rating.value.toFixed(1)), text('votes', m.rating.votes)], {
          name: 'themoviedb',
          max: '10',
          default: 'true',
        }),
      ]),
    );
  }
  opt('outline', m.outline);
  opt('plot', m.plot);
  opt('tagline', m.tagline);
  if (m.runtime) opt('runtime', m.runtime);
  if (opts.artwork?.poster) c.push(text('thumb', opts.artwork.poster, { aspect: 'poster' }));
  if (opts.artwork?.fanart?.length) c.push(fanartNode(opts.artwork.fanart));
  opt('mpaa', m.certification);
  const defaultId = m.uniqueIds.tmdb !== null ? 'tmdb' : 'imdb';
  if (m.uniqueIds.tmdb !== null)
    c.push(text('uniqueid', m.uniqueIds.tmdb, { type: 'tmdb', default: String(defaultId === 'tmdb') }));
  if (m.uniqueIds.imdb)
    c.push(text('uniqueid', m.uniqueIds.imdb, { type: 'imdb', default: String(defaultId === 'imdb') }));
  for (const g of m.genres) opt('genre', g);
  for (const g of m.countries) opt('country', g);
  if (m.set) {
    const kids = [text('name', m.set.name)];
    if (m.set.overview) kids.push(text('overview', m.set.overview));
    c.push(elem('set', kids));
  }
  for (const w of m.writers) opt('credits', w);
  for (const d of m.directors) opt('director', d);
  opt('premiered', m.premiered);
  opt('year', m.year);
  for (const s of m.studios) opt('studio', s);
  opt('trailer', m.trailer);
  if (opts.fileinfo?.container) {
    c.push(
      elem('fileinfo', [elem('streamdetails', [elem('container', [{ '#text': opts.fileinfo.container }])])]),
    );
  }
  for (const a of [...m.cast].sort((x, y) => x.order - y.order)) {
    const kids = [text('name', a.name)];
    if (a.role) kids.push(text('role', a.role));
    kids.push(text('order', a.order));
    if (a.thumb) kids.push(text('thumb', a.thumb));
    c.push(elem('actor', kids));
  }
  for (const n of opts.userNodes ?? []) c.push(n as XmlNode);

  const doc = [
    { '?xml': [{ '#text': '' }], ':@': { '@_version': '1.0', '@_encoding': 'UTF-8', '@_standalone': 'yes' } },
    { movie: c },
  ];
  const builder = new XMLBuilder({ ...XML_OPTIONS, format: true, indentBy: '  ', suppressEmptyNode: false });
  return `${builder.build(doc).trim()}\n`;
}

/** Strict well-formedness check (XML 1.0): true, or the first problem. */
export function checkWellFormed(xml: string): true | string {
  const r = XMLValidator.validate(xml);
  return r === true ? true : `line ${r.err.line}: ${r.err.msg}`;
}

export interface ParsedNfo {
  ok: boolean;
  /** Why the NFO could not be read (malformed XML, not a movie NFO). */
  error?: string;
  tmdbId?: number;
  imdbId?: string;
  title?: string;
  year?: number;
  /** Top-level tags publish does not own, in document order (opaque library nodes). */
  userNodes: unknown[];
  /** Metadata fields as the NFO states them (for detecting a user's edits of our NFO). */
  fields: Partial<Record<MetadataField, unknown>>;
}

export type MetadataField = (typeof METADATA_FIELDS)[number];

const SCALAR_TAGS: Record<string, MetadataField> = {
  title: 'title',
  originaltitle: 'originalTitle',
  sorttitle: 'sortTitle',
  tagline: 'tagline',
  plot: 'plot',
  outline: 'outline',
  mpaa: 'certification',
  premiered: 'premiered',
};
const NUMBER_TAGS: Record<string, MetadataField> = { runtime: 'runtime', year: 'year' };
const LIST_TAGS: Record<string, MetadataField> = {
  genre: 'genres',
  country: 'countries',
  studio: 'studios',
  director: 'directors',
  credits: 'writers',
};

function nodeName(n: XmlNode): string | undefined {
  return Object.keys(n).find((k) => k !== ':@');
}
function nodeText(n: XmlNode): string {
  const name = nodeName(n);
  const kids = (name ? n[name] : []) as XmlNode[];
  return kids
    .map((k) => (typeof k['#text'] === 'string' || typeof k['#text'] === 'number' ? String(k['#text']) : ''))
    .join('')
    .trim();
}

/**
 * The ids an NFO states, in the form the movies table keeps them (IMDb lower-case, TMDB within an
 * int): `<uniqueid type="tmdb|imdb">`, else legacy `<tmdbid>`/`<imdbid>`/`<id>`. A malformed NFO
 * states none.
 */
export function idsFromNfo(raw: string): { tmdbId?: number; imdbId?: string } {
  const nfo = parseMovieNfo(raw);
  return {
    ...(nfo.tmdbId !== undefined && nfo.tmdbId <= 999_999_999 && { tmdbId: nfo.tmdbId }),
    ...(nfo.imdbId !== undefined && /^tt\d{5,10}$/i.test(nfo.imdbId) && { imdbId: nfo.imdbId.toLowerCase() }),
  };
}

/**
 * Reads a Kodi movie NFO. Kodi allows a URL line after the XML (a "combination" NFO); that tail is
 * ignored. A malformed file is reported in `error`, never thrown.
 */
export function parseMovieNfo(raw: string): ParsedNfo {
  const end = raw.lastIndexOf('</movie>');
  const xml = end >= 0 ? raw.slice(0, end + '</movie>'.length) : raw;
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    return {
      ok: false,
      error: `malformed XML at line ${valid.err.line}: ${valid.err.msg}`,
      userNodes: [],
      fields: {},
    };
  }
  let doc: XmlNode[];
  try {
    doc = new XMLParser(XML_OPTIONS).parse(xml) as XmlNode[];
  } catch (err) {
    return { ok: false, error: `malformed XML: ${(err as Error).message}`, userNodes: [], fields: {} };
  }
  const movie = doc.find((n) => nodeName(n) === 'movie');
  if (!movie)
    return { ok: false, error: 'not a Kodi movie NFO (no <movie> root)', userNodes: [], fields: {} };
  const out: ParsedNfo = { ok: true, userNodes: [], fields: {} };
  for (const n of movie.movie as XmlNode[]) {
    const name = nodeName(n);
    if (!name || name === '#text') continue;
    const value = nodeText(n);
    const attrs = (n[':@'] ?? {}) as Record<string, string>;
    if (name === 'uniqueid') {
      const type = (attrs['@_type'] ?? '').toLowerCase();
      if (type === 'tmdb' && /^\d+$/.test(value)) out.tmdbId = Number(value);
      if (type === 'imdb' && /^tt\d+$/.test(value)) out.imdbId = value;
    } else if ((name === 'tmdbid' || name === 'tmdb') && /^\d+$/.test(value)) {
      out.tmdbId ??= Number(value);
    } else if ((name === 'id' || name === 'imdbid' || name === 'imdb') && /^tt\d+$/.test(value)) {
      out.imdbId ??= value;
    } else if (name === 'title' && value) {
      out.title = value;
    } else if (name === 'year' && /^\d{4}$/.test(value)) {
      out.year = Number(value);
    } else if (name === 'premiered' && /^\d{4}-/.test(value)) {
      out.year ??= Number(value.slice(0, 4));
    }
    const scalar = SCALAR_TAGS[name];
    if (scalar) out.fields[scalar] = value || null;
    const num = NUMBER_TAGS[name];
    if (num) out.fields[num] = /^\d+$/.test(value) ? Number(value) : null;
    const list = LIST_TAGS[name];
    if (list && value) out.fields[list] = [...((out.fields[list] as string[] | undefined) ?? []), value];
    if (name === 'set') {
      const kids = (n.set ?? []) as XmlNode[];
      const nameNode = kids.find((k) => nodeName(k) === 'name');
      const setName = nameNode ? nodeText(nameNode) : value;
      const ov = kids.find((k) => nodeName(k) === 'overview');
      out.fields.set = setName ? { name: setName, overview: ov ? nodeText(ov) || null : null } : null;
    }
    if (!OWN_TAGS.has(name) && !name.startsWith('?')) out.userNodes.push(n);
  }
  return out;
}

// The building blocks of the other Kodi NFO kinds (tv/nfo.ts): the same parser options, escaping
// (text goes through the builder, invalid XML characters stripped) and node shapes as the movie NFO.
export {
  elem as nfoElem,
  fanartNode as nfoFanart,
  nodeName as nfoNodeName,
  nodeText as nfoNodeText,
  text as nfoText,
  XML_OPTIONS as NFO_XML_OPTIONS,
  type XmlNode as NfoXmlNode,
};
