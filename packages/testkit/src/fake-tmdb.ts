/**
 * Fake TMDB v3 API on 127.0.0.1: `/3/movie/{id}` (with append_to_response), `/3/find/{imdb}`, and an
 * image host at `/t/p/{size}{file_path}` serving real, tiny, generated JPEG/PNG bytes. Response shapes
 * follow the public API reference. Failure switches: 429 with Retry-After, 5xx, malformed JSON, hanging
 * or reset connections, and arbitrary bytes for an image path (oversized files, HTML posing as a JPEG).
 */
import { crc32, deflateSync } from 'node:zlib';
import { type FakeRequest, type FakeServerBase, sendJson, startFake } from './http-fake.ts';

// ---- tiny real images -------------------------------------------------------------------------

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A valid RGB PNG of one colour, `label` stored in a tEXt chunk (different labels → different bytes). */
export function makePng(
  width: number,
  height: number,
  label = '',
  rgb: [number, number, number] = [40, 90, 160],
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.alloc(row.length * height);
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('tEXt', Buffer.from(`Comment\0${label}`, 'latin1')),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const DC_CODES: [number, number][] = [
  [0b00, 2],
  [0b010, 3],
  [0b011, 3],
  [0b100, 3],
  [0b101, 3],
  [0b110, 3],
  [0b1110, 4],
  [0b11110, 5],
  [0b111110, 6],
  [0b1111110, 7],
  [0b11111110, 8],
  [0b111111110, 9],
];

/**
 * A valid baseline greyscale JPEG of one shade: quantisation 1, the standard luminance DC table and a
 * one-symbol AC table (end-of-block), so every 8×8 block after the first is 3 bits. `label` goes
 * into a COM segment.
 */
export function makeJpeg(width: number, height: number, label = '', shade = 128): Buffer {
  const seg = (marker: number, body: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(0xff00 | marker, 0);
    h.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([h, body]);
  };
  const sof = Buffer.alloc(9);
  sof.writeUInt8(8, 0);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof.set([1, 1, 0x11, 0], 5);
  const dht = (cls: number, counts: number[], values: number[]) =>
    seg(0xc4, Buffer.from([cls, ...counts, ...values]));
  const dcCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const acCounts = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

  // Entropy-coded data.
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  const put = (code: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >> i) & 1);
      if (++nbits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const dc = Math.max(-1023, Math.min(1023, (shade - 128) * 8));
  for (let b = 0; b < blocks; b++) {
    const diff = b === 0 ? dc : 0;
    const mag = Math.abs(diff);
    const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
    const [code, len] = DC_CODES[cat] as [number, number];
    put(code, len);
    if (cat > 0) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
    put(0, 1); // EOB
  }
  if (nbits > 0) put((1 << (8 - nbits)) - 1, 8 - nbits);

  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xfe, Buffer.from(label || 'metarr-fake', 'latin1')),
    seg(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)])),
    seg(0xc0, sof),
    dht(0x00, dcCounts, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    dht(0x10, acCounts, [0]),
    seg(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])),
    Buffer.from(out),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** Image bytes for a path whose name carries `<w>x<h>` and ends .jpg or .png; the path is the label. */
export function imageForPath(path: string): Buffer | null {
  const m = /(\d{1,5})x(\d{1,5})\.(jpg|png)$/i.exec(path);
  if (!m) return null;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return m[3]?.toLowerCase() === 'png' ? makePng(w, h, path) : makeJpeg(w, h, path, 40 + (path.length % 170));
}

export function sendImage(r: FakeRequest, cache: Map<string, Buffer>, path: string): void {
  let bytes = cache.get(path);
  if (!bytes) {
    const made = imageForPath(path);
    if (!made) {
      r.res.writeHead(404, { 'content-type': 'text/plain' });
      r.res.end('not found');
      return;
    }
    bytes = made;
    cache.set(path, bytes);
  }
  r.res.writeHead(200, {
    'content-type': path.endsWith('.png') ? 'image/png' : 'image/jpeg',
    'content-length': bytes.length,
  });
  r.res.end(bytes);
}

// ---- TMDB records ------------------------------------------------------------------------------

export interface TmdbImageSpec {
  file_path: string;
  width: number;
  height: number;
  iso_639_1: string | null;
  vote_average: number;
  vote_count: number;
  aspect_ratio: number;
}

const img = (
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
      img(
        `/${id}-poster-${i}-${i === 0 ? 'en' : i === 1 ? 'xx' : 'de'}-${1000 - i * 100}x${1500 - i * 150}.jpg`,
        1000 - i * 100,
        1500 - i * 150,
        i === 0 ? 'en' : i === 1 ? null : 'de',
        5.5 - i / 10,
        12 - i,
      ),
    );
    backdrops.push(
      img(`/${id}-backdrop-${i}-1920x1080.jpg`, 1920, 1080, i === 0 ? null : 'en', 5.4 - i / 10, 8 - i),
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
    images: { backdrops, logos: [img(`/${id}-logo-en-800x310.png`, 800, 310, 'en')], posters },
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

export interface FakeTmdbCall {
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
}

export interface FakeTmdb extends FakeServerBase {
  /** API root to use as METARR_TMDB_BASE_URL. */
  apiUrl: string;
  /** Image root to use as METARR_TMDB_IMAGE_BASE_URL. */
  imageUrl: string;
  calls: FakeTmdbCall[];
  imageCalls: string[];
  movies: Map<number, Record<string, unknown>>;
  /** The next `count` API calls answer 429 with this Retry-After (seconds). */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** The next `count` API calls answer with `status`. */
  failNext(count: number, status: number): void;
  /** These movie ids answer 200 with a truncated JSON body. */
  malformed: Set<number>;
  /** Unknown ids get a generated record (true, default) or 404. */
  synthesize: boolean;
  /** The next `count` API calls hang (accepted, never answered) or reset the TCP connection. */
  faultNext(count: number, fault: 'hang' | 'reset'): void;
  /**
   * Serves `body` for the image `filePath` (as in a record's `file_path`) instead of generated bytes,
   * with `contentType` (default image/jpeg); `chunked` leaves out Content-Length, so only the bytes
   * themselves tell the size.
   */
  serveImage(filePath: string, body: Buffer, opts?: { contentType?: string; chunked?: boolean }): void;
}

export async function startFakeTmdb(
  opts: { apiKey?: string; movies?: Record<number, Record<string, unknown>> } = {},
): Promise<FakeTmdb> {
  const apiKey = opts.apiKey ?? 'tmdb-test-key';
  const movies = new Map<number, Record<string, unknown>>([[603, theMatrix()]]);
  for (const [id, m] of Object.entries(opts.movies ?? {})) movies.set(Number(id), m);
  const calls: FakeTmdbCall[] = [];
  const imageCalls: string[] = [];
  const images = new Map<string, Buffer>();
  let limited = 0;
  let retryAfter = 1;
  let failing = 0;
  let failStatus = 500;
  const state = { malformed: new Set<number>() };
  let faulting = 0;
  let fault: 'hang' | 'reset' = 'hang';
  const imageOverrides = new Map<string, { body: Buffer; contentType: string; chunked: boolean }>();
  let self: FakeTmdb;

  const base = await startFake({
    record: (r) => {
      if (r.url.pathname.startsWith('/3/'))
        calls.push({
          path: r.url.pathname.slice(2),
          query: Object.fromEntries(r.url.searchParams),
          authorization: r.req.headers.authorization,
        });
      else imageCalls.push(r.url.pathname);
    },
    handle: (r) => {
      const p = r.url.pathname;
      const img = /^\/t\/p\/[a-z0-9]+(\/.+)$/.exec(p);
      const override = img && imageOverrides.get(img[1] as string);
      if (override) {
        r.res.writeHead(200, {
          'content-type': override.contentType,
          ...(!override.chunked && { 'content-length': override.body.length }),
        });
        for (let i = 0; i < override.body.length; i += 1 << 20)
          r.res.write(override.body.subarray(i, i + (1 << 20)));
        return void r.res.end();
      }
      if (img) return sendImage(r, images, img[1] as string);
      if (!p.startsWith('/3/'))
        return sendJson(r.res, 404, {
          success: false,
          status_code: 34,
          status_message: 'The resource you requested could not be found.',
        });
      if (faulting > 0) {
        faulting--;
        if (fault === 'reset') r.req.socket.resetAndDestroy();
        return; // 'hang': never answered (close() destroys the socket)
      }
      const keyOk =
        r.url.searchParams.get('api_key') === apiKey || r.req.headers.authorization === `Bearer ${apiKey}`;
      if (!keyOk)
        return sendJson(r.res, 401, {
          status_code: 7,
          status_message: 'Invalid API key: You must be granted a valid key.',
          success: false,
        });
      if (limited > 0) {
        limited--;
        r.res.setHeader('retry-after', String(retryAfter));
        return sendJson(r.res, 429, {
          status_code: 25,
          status_message: 'Your request count (#) is over the allowed limit of (40).',
          success: false,
        });
      }
      if (failing > 0) {
        failing--;
        return sendJson(r.res, failStatus, {
          status_code: 11,
          status_message: 'Internal error: Something went wrong, contact TMDB.',
          success: false,
        });
      }
      const movie = /^\/3\/movie\/(\d+)$/.exec(p);
      if (movie) {
        const id = Number(movie[1]);
        if (state.malformed.has(id)) {
          r.res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
          return void r.res.end('{"adult":false,"id":');
        }
        const m = movies.get(id) ?? (self.synthesize ? tmdbMovie(id) : undefined);
        if (!m)
          return sendJson(r.res, 404, {
            success: false,
            status_code: 34,
            status_message: 'The resource you requested could not be found.',
          });
        return sendJson(r.res, 200, m);
      }
      const find = /^\/3\/find\/(tt\d+)$/.exec(p);
      if (find && r.url.searchParams.get('external_source') === 'imdb_id') {
        const hit = [...movies.values()].find((m) => m.imdb_id === find[1]);
        const results = hit
          ? [
              {
                adult: false,
                backdrop_path: hit.backdrop_path,
                id: hit.id,
                title: hit.title,
                original_title: hit.original_title,
                overview: hit.overview,
                poster_path: hit.poster_path,
                media_type: 'movie',
                original_language: 'en',
                genre_ids: [28],
                popularity: 1,
                release_date: hit.release_date,
                video: false,
                vote_average: hit.vote_average,
                vote_count: hit.vote_count,
              },
            ]
          : [];
        return sendJson(r.res, 200, {
          movie_results: results,
          person_results: [],
          tv_results: [],
          tv_episode_results: [],
          tv_season_results: [],
        });
      }
      return sendJson(r.res, 404, {
        success: false,
        status_code: 34,
        status_message: 'The resource you requested could not be found.',
      });
    },
  });
  self = Object.assign(base, {
    apiUrl: `${base.url}/3`,
    imageUrl: `${base.url}/t/p`,
    calls,
    imageCalls,
    movies,
    rateLimitNext(count: number, seconds: number) {
      limited = count;
      retryAfter = seconds;
    },
    failNext(count: number, status: number) {
      failing = count;
      failStatus = status;
    },
    malformed: state.malformed,
    synthesize: true,
    faultNext(count: number, f: 'hang' | 'reset') {
      faulting = count;
      fault = f;
    },
    serveImage(filePath: string, body: Buffer, o: { contentType?: string; chunked?: boolean } = {}) {
      imageOverrides.set(filePath, {
        body,
        contentType: o.contentType ?? 'image/jpeg',
        chunked: o.chunked ?? false,
      });
    },
  }) as FakeTmdb;
  return self;
}
