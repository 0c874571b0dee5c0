/**
 * Kodi TV NFO documents: `tvshow.nfo` (`<tvshow>`) and an episode file's `<video basename>.nfo`
 * (`<episodedetails>`; a file holding several episodes gets one `<episodedetails>` per episode, one
 * after the other, which is how Kodi reads multi-episode files). Built and read exactly as the movie
 * NFO is (files/nfo.ts, whose building blocks these are): through the XML library, never by string
 * concatenation, so hostile text stays text; the existing file's unknown tags are the user's and are
 * kept; same input, same bytes, so an unchanged NFO hashes the same and is not rewritten.
 * Pure functions: no I/O.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  type CastMember,
  nfoElem as elem,
  nfoFanart as fanart,
  NFO_COMMON_OWN_TAGS,
  NFO_XML_OPTIONS,
  nfoNodeName as nodeName,
  nfoNodeText as nodeText,
  nfoText as text,
  type NfoXmlNode as XmlNode,
} from '../files/nfo.ts';
import type { EpisodeMetadata, SeriesMetadata } from './metadata.ts';

/** The tags a `tvshow.nfo` rewrite owns (what we write, and what a scraper would): others are kept. */
const TVSHOW_OWN_TAGS = new Set<string>([
  ...NFO_COMMON_OWN_TAGS,
  'showtitle',
  'episodeguide',
  'premiered',
  'year',
  'status',
  'studio',
  'trailer',
  'actor',
  'namedseason',
]);

/**
 * The tags an episode block's rewrite owns. `displayseason`/`displayepisode` (where a special sorts)
 * are not: TMDB does not say, so they are the user's.
 */
const EPISODE_OWN_TAGS = new Set([
  'title',
  'showtitle',
  'ratings',
  'userrating',
  'top250',
  'season',
  'episode',
  'outline',
  'plot',
  'tagline',
  'runtime',
  'thumb',
  'mpaa',
  'id',
  'uniqueid',
  'genre',
  'credits',
  'director',
  'premiered',
  'year',
  'aired',
  'studio',
  'trailer',
  'fileinfo',
  'actor',
]);

const DECLARATION = {
  '?xml': [{ '#text': '' }],
  ':@': { '@_version': '1.0', '@_encoding': 'UTF-8', '@_standalone': 'yes' },
};

function render(roots: XmlNode[]): string {
  const builder = new XMLBuilder({
    ...NFO_XML_OPTIONS,
    format: true,
    indentBy: '  ',
    suppressEmptyNode: false,
  });
  return `${builder.build([DECLARATION, ...roots]).trim()}\n`;
}

/** Appends `<tag>` when the value is there (null, undefined and '' write nothing). */
const optional = (c: XmlNode[]) => (tag: string, v: string | number | null | undefined) => {
  if (v !== null && v !== undefined && v !== '') c.push(text(tag, v));
};

const ratingsNode = (rating: { value: number; votes: number }) =>
  elem('ratings', [
    elem('rating', [text('value', rating.value.toFixed(1)), text('votes', rating.votes)], {
      name: 'themoviedb',
      max: '10',
      default: 'true',
    }),
  ]);

/** `<uniqueid>`s in the order given; the first one present is the default. */
function uniqueIdNodes(ids: [type: string, value: string | number | null][]): XmlNode[] {
  const present = ids.filter((id): id is [string, string | number] => id[1] !== null && id[1] !== '');
  return present.map(([type, value], i) => text('uniqueid', value, { type, default: String(i === 0) }));
}

function actorNodes(cast: readonly CastMember[]): XmlNode[] {
  return [...cast]
    .sort((x, y) => x.order - y.order)
    .map((a) => {
      const kids = [text('name', a.name)];
      if (a.role) kids.push(text('role', a.role));
      kids.push(text('order', a.order));
      if (a.thumb) kids.push(text('thumb', a.thumb));
      return elem('actor', kids);
    });
}

export interface TvshowArtwork {
  /** Relative file names (Kodi resolves them next to the NFO) or URLs. */
  poster?: string | undefined;
  fanart?: string[];
  /** Season posters (0 = specials). */
  seasonPosters?: { season: number; file: string }[];
}

/** The `<tvshow>` document. `userNodes` are the unknown top-level tags of the existing NFO, appended unchanged. */
export function buildTvshowNfo(
  m: SeriesMetadata,
  opts: { artwork?: TvshowArtwork; userNodes?: unknown[] } = {},
): string {
  const c: XmlNode[] = [];
  const opt = optional(c);
  opt('title', m.title);
  opt('originaltitle', m.originalTitle);
  opt('showtitle', m.title);
  opt('sorttitle', m.sortTitle);
  if (m.rating) c.push(ratingsNode(m.rating));
  opt('outline', m.outline);
  opt('plot', m.plot);
  if (m.runtime) opt('runtime', m.runtime);
  if (opts.artwork?.poster) c.push(text('thumb', opts.artwork.poster, { aspect: 'poster' }));
  for (const s of [...(opts.artwork?.seasonPosters ?? [])].sort((a, b) => a.season - b.season))
    c.push(text('thumb', s.file, { aspect: 'poster', type: 'season', season: String(s.season) }));
  if (opts.artwork?.fanart?.length) c.push(fanart(opts.artwork.fanart));
  opt('mpaa', m.certification);
  c.push(
    ...uniqueIdNodes([
      ['tmdb', m.uniqueIds.tmdb],
      ['tvdb', m.uniqueIds.tvdb],
      ['imdb', m.uniqueIds.imdb],
    ]),
  );
  for (const g of m.genres) opt('genre', g);
  opt('premiered', m.premiered);
  opt('year', m.year);
  opt('status', m.status);
  for (const s of m.studios) opt('studio', s);
  opt('trailer', m.trailer);
  c.push(...actorNodes(m.cast));
  for (const s of m.namedSeasons) c.push(text('namedseason', s.name, { number: String(s.season) }));
  for (const n of opts.userNodes ?? []) c.push(n as XmlNode);
  return render([{ tvshow: c }]);
}

function episodeNode(
  e: EpisodeMetadata,
  opts: { thumb?: string | undefined; userNodes?: unknown[] },
): XmlNode {
  const c: XmlNode[] = [];
  const opt = optional(c);
  opt('title', e.title);
  opt('showtitle', e.showTitle);
  if (e.rating) c.push(ratingsNode(e.rating));
  opt('season', e.season);
  opt('episode', e.episode);
  opt('plot', e.plot);
  if (e.runtime) opt('runtime', e.runtime);
  opt('thumb', opts.thumb ?? e.still);
  c.push(
    ...uniqueIdNodes([
      ['tmdb', e.uniqueIds.tmdb],
      ['tvdb', e.uniqueIds.tvdb],
      ['imdb', e.uniqueIds.imdb],
    ]),
  );
  for (const w of e.writers) opt('credits', w);
  for (const d of e.directors) opt('director', d);
  opt('aired', e.aired);
  c.push(...actorNodes(e.guestStars));
  for (const n of opts.userNodes ?? []) c.push(n as XmlNode);
  return { episodedetails: c };
}

/**
 * The episode NFO of one video file: one `<episodedetails>` per episode, in the order given (a
 * multi-episode file lists its episodes in order). `thumb` replaces every block's still URL with the
 * file's local thumbnail; `userNodes[i]` are the kept tags of the i-th block.
 */
export function buildEpisodeNfo(
  episodes: readonly EpisodeMetadata[],
  opts: { thumb?: string; userNodes?: unknown[][] } = {},
): string {
  if (episodes.length === 0) throw new Error('an episode NFO needs at least one episode');
  return render(
    episodes.map((e, i) => episodeNode(e, { thumb: opts.thumb, userNodes: opts.userNodes?.[i] ?? [] })),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading existing TV NFOs

/**
 * The `<root>` elements of an NFO, each as its child nodes. A multi-episode NFO has several roots,
 * which no XML parser takes as one document, so the roots are read inside a wrapper element: that is
 * still strict XML 1.0, and a DOCTYPE (with it any entity declaration) is refused. Text after
 * the last root (Kodi's "combination" NFO URL line) is ignored.
 */
function readRoots(raw: string, root: string): { roots: XmlNode[][] } | { error: string } {
  const endTag = `</${root}>`;
  const end = raw.lastIndexOf(endTag);
  const body = (end >= 0 ? raw.slice(0, end + endTag.length) : raw)
    .replace(/^\uFEFF/, '')
    .replace(/^\s*<\?xml[^>]*\?>/, '');
  // No NFO needs a DOCTYPE; inside the wrapper the validator would let one through, and with it
  // entity declarations (expansion bombs, external entities).
  if (/<!DOCTYPE/i.test(body)) return { error: 'malformed XML: a DOCTYPE is not allowed in an NFO' };
  const wrapped = `<metarr-nfo>${body}</metarr-nfo>`;
  const valid = XMLValidator.validate(wrapped);
  if (valid !== true) return { error: `malformed XML at line ${valid.err.line}: ${valid.err.msg}` };
  let doc: XmlNode[];
  try {
    doc = new XMLParser(NFO_XML_OPTIONS).parse(wrapped) as XmlNode[];
  } catch (err) {
    return { error: `malformed XML: ${(err as Error).message}` };
  }
  const wrapper = (doc[0]?.['metarr-nfo'] ?? []) as XmlNode[];
  const roots = wrapper.filter((n) => nodeName(n) === root).map((n) => n[root] as XmlNode[]);
  if (roots.length === 0) return { error: `not a Kodi ${root} NFO (no <${root}> root)` };
  return { roots };
}

function userNodesOf(children: XmlNode[], own: ReadonlySet<string>): unknown[] {
  return children.filter((n) => {
    const name = nodeName(n);
    return name !== undefined && name !== '#text' && !own.has(name) && !name.startsWith('?');
  });
}

export interface ParsedTvshowNfo {
  ok: boolean;
  /** Why the NFO could not be read (malformed XML, not a `<tvshow>` NFO). */
  error?: string;
  ids: { tmdbId?: number; tvdbId?: number; imdbId?: string };
  title?: string;
  /** Top-level tags a rewrite does not own, in document order. */
  userNodes: unknown[];
}

/** Reads a `tvshow.nfo`: its ids, title and the user's own tags. A malformed file is reported, never thrown. */
export function parseTvshowNfo(raw: string): ParsedTvshowNfo {
  const read = readRoots(raw, 'tvshow');
  if ('error' in read) return { ok: false, error: read.error, ids: {}, userNodes: [] };
  const children = read.roots[0] as XmlNode[];
  const out: ParsedTvshowNfo = { ok: true, ids: {}, userNodes: userNodesOf(children, TVSHOW_OWN_TAGS) };
  for (const n of children) {
    const name = nodeName(n);
    const value = nodeText(n);
    if (name === 'title' && value) out.title = value;
    if (name !== 'uniqueid') continue;
    const type = (((n[':@'] ?? {}) as Record<string, string>)['@_type'] ?? '').toLowerCase();
    if (type === 'tmdb' && /^\d{1,9}$/.test(value)) out.ids.tmdbId = Number(value);
    if (type === 'tvdb' && /^\d{1,9}$/.test(value)) out.ids.tvdbId = Number(value);
    if (type === 'imdb' && /^tt\d{5,10}$/i.test(value)) out.ids.imdbId = value.toLowerCase();
  }
  return out;
}

export interface ParsedEpisodeNfo {
  ok: boolean;
  error?: string;
  /** One entry per `<episodedetails>`, in file order. */
  episodes: { season?: number; episode?: number; userNodes: unknown[] }[];
}

/** Reads an episode NFO (one or several `<episodedetails>`). A malformed file is reported, never thrown. */
export function parseEpisodeNfo(raw: string): ParsedEpisodeNfo {
  const read = readRoots(raw, 'episodedetails');
  if ('error' in read) return { ok: false, error: read.error, episodes: [] };
  return {
    ok: true,
    episodes: read.roots.map((children) => {
      const num = (tag: string) => {
        const v = nodeText(children.find((n) => nodeName(n) === tag) ?? {});
        return /^\d{1,4}$/.test(v) ? Number(v) : undefined;
      };
      const season = num('season');
      const episode = num('episode');
      return {
        ...(season !== undefined && { season }),
        ...(episode !== undefined && { episode }),
        userNodes: userNodesOf(children, EPISODE_OWN_TAGS),
      };
    }),
  };
}

export interface TvNfoResult {
  xml: string;
  /** Why the existing NFO's tags could not be kept (it was malformed or another kind), or null. */
  existingError: string | null;
}

/** `tvshow.nfo` for the series, keeping the existing file's own tags when it can be read. */
export function tvshowNfo(
  m: SeriesMetadata,
  existingXml?: string | null,
  opts: { artwork?: TvshowArtwork } = {},
): TvNfoResult {
  const parsed = existingXml ? parseTvshowNfo(existingXml) : null;
  return {
    xml: buildTvshowNfo(m, { ...opts, userNodes: parsed?.ok ? parsed.userNodes : [] }),
    existingError: parsed && !parsed.ok ? (parsed.error ?? 'unreadable') : null,
  };
}

/**
 * The episode NFO of one video file, keeping each existing block's own tags: a block is matched by
 * the season and episode it states, else by its position (a block that states neither).
 */
export function episodeNfo(
  episodes: readonly EpisodeMetadata[],
  existingXml?: string | null,
  opts: { thumb?: string } = {},
): TvNfoResult {
  const parsed = existingXml ? parseEpisodeNfo(existingXml) : null;
  const blocks = parsed?.ok ? parsed.episodes : [];
  const userNodes = episodes.map((e, i) => {
    const same = blocks.find((b) => b.season === e.season && b.episode === e.episode);
    const unnumbered =
      blocks[i]?.season === undefined && blocks[i]?.episode === undefined ? blocks[i] : undefined;
    return (same ?? unnumbered)?.userNodes ?? [];
  });
  return {
    xml: buildEpisodeNfo(episodes, { ...opts, userNodes }),
    existingError: parsed && !parsed.ok ? (parsed.error ?? 'unreadable') : null,
  };
}
