/**
 * Shared set-up for the per-handler tests of the metadata chain (discover-assets, fetch-provider-assets,
 * enrich-metadata, select-assets, publish, scheduled-provider-update): a handler harness whose config
 * points at the fake TMDB and fanart.tv, a movie in its own library folder, the rows the earlier steps
 * of the chain leave behind, and a reader of one job's follow-ups.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  createJobInspector,
  type Db,
  fromBossPriority,
  loadConfig,
  type MetarrConfig,
  metadataFromTmdb,
  tmdbMovieKey,
} from '@metarr/core';
import { type FakeFanart, type FakeTmdb, startFakeFanart, startFakeTmdb, theMatrix } from '@metarr/testkit';
import type tap from 'tap';
import type { HandlerDeps } from '../../src/context.ts';
import { handlerDeps, startHandlerHarness } from './runtime.ts';

type Teardown = { teardown(fn: () => unknown): void };
export type TestT = Teardown & Pick<typeof tap, 'testdir'>;

export const TMDB_KEY = 'tmdb-test-key';
export const FANART_KEY = 'fanart-test-key';

export interface ProviderFakes {
  tmdb: FakeTmdb;
  fanart: FakeFanart;
}

/**
 * The worker's validated config with the fakes as TMDB (API and images) and fanart.tv, and both keys.
 * `env` overrides any variable; an `undefined` value leaves it out (a key not configured).
 */
export function fakeProviderConfig(
  fakes: ProviderFakes,
  env: Record<string, string | undefined> = {},
): MetarrConfig {
  const all: Record<string, string | undefined> = {
    METARR_DATA_DIR: '.tmp/unused',
    METARR_TMDB_BASE_URL: fakes.tmdb.apiUrl,
    METARR_TMDB_IMAGE_BASE_URL: fakes.tmdb.imageUrl,
    METARR_FANART_BASE_URL: fakes.fanart.apiUrl,
    TMDB_API_KEY: TMDB_KEY,
    FANART_API_KEY: FANART_KEY,
    ...env,
  };
  const defined = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
  return loadConfig(defined);
}

/**
 * startHandlerHarness with the fake providers running (closed when the file ends) and `deps`
 * configured for them. `depsWith(env)` gives the same deps with another config: each config object
 * has its own provider-settings reader, so a test can drop a key or use a wrong one.
 */
export async function startProviderHarness(
  t: Teardown,
  env: Record<string, string | undefined> = {},
  opts: { clock?: () => Date } = {},
) {
  const tmdb = await startFakeTmdb({ apiKey: TMDB_KEY });
  const fanart = await startFakeFanart({ apiKey: FANART_KEY });
  t.teardown(() => Promise.all([tmdb.close(), fanart.close()]));
  const fakes = { tmdb, fanart };
  const h = await startHandlerHarness(t, {
    deps: (db, log) => ({
      ...handlerDeps(db, log),
      config: fakeProviderConfig(fakes, env),
      ...(opts.clock && { clock: opts.clock }),
    }),
  });
  const depsWith = (more: Record<string, string | undefined>): HandlerDeps => ({
    ...h.deps,
    config: fakeProviderConfig(fakes, { ...env, ...more }),
  });
  return { ...h, ...fakes, depsWith };
}

export interface MovieFixture {
  id: number;
  libraryId: number;
  /** The library root (in the test's testdir). */
  root: string;
  /** The movie folder, `<root>/Movie`. */
  folder: string;
}

/** Columns of the movie row a test may set. */
export interface MovieFields {
  tmdb_id?: number | null;
  imdb_id?: string | null;
  title?: string | null;
  year?: number | null;
  status?: 'present' | 'missing' | 'removed' | 'no_files';
  last_scanned_at?: Date | null;
  created_at?: Date;
}

/** Each test's testdir, made once: a second `t.testdir()` in the same test would empty the first. */
const testdirs = new WeakMap<object, string>();
let libraries = 0;

/**
 * A library (a fresh folder in the calling test's testdir) holding one movie folder `Movie` with
 * `files` (default: just `M.mkv`), and the movie's row with `fields`. Several per test are fine.
 */
export async function addMovie(
  t: Pick<typeof tap, 'testdir'>,
  db: Db,
  opts: {
    files?: Record<string, string>;
    fields?: MovieFields;
  } = {},
): Promise<MovieFixture> {
  let dir = testdirs.get(t);
  if (!dir) {
    dir = t.testdir({});
    testdirs.set(t, dir);
  }
  const root = path.join(dir, `library-${++libraries}`);
  const folder = path.join(root, 'Movie');
  await fs.mkdir(folder, { recursive: true });
  for (const [file, body] of Object.entries(opts.files ?? { 'M.mkv': 'video' }))
    await fs.writeFile(path.join(folder, file), body);
  const lib = await db
    .insertInto('libraries')
    .values({ name: `Movies ${libraries}`, type: 'movie', path: root })
    .returning('id')
    .executeTakeFirstOrThrow();
  const movie = await db
    .insertInto('movies')
    .values({ library_id: lib.id, path: folder, video_file: 'M.mkv', ...opts.fields })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: movie.id, libraryId: lib.id, root, folder };
}

/** What fetch-provider-assets leaves for enrich-metadata: a TMDB record in the shared cache. */
export async function cacheTmdbRecord(
  db: Db,
  record: Record<string, unknown>,
  opts: { language?: string; expired?: boolean } = {},
): Promise<void> {
  const now = Date.now();
  const day = 86_400_000;
  await db
    .insertInto('provider_cache')
    .values({
      provider: 'tmdb',
      cache_key: tmdbMovieKey(record.id as number, opts.language ?? 'en'),
      body: JSON.stringify(record),
      fetched_at: new Date(now - (opts.expired ? 30 * day : 0)),
      expires_at: new Date(now + (opts.expired ? -day : day)),
    })
    .onConflict((oc) =>
      oc.columns(['provider', 'cache_key']).doUpdateSet((eb) => ({
        body: eb.ref('excluded.body'),
        fetched_at: eb.ref('excluded.fetched_at'),
        expires_at: eb.ref('excluded.expires_at'),
      })),
    )
    .execute();
}

/** What enrich-metadata leaves for publish: The Matrix's metadata (optionally changed). */
export async function storeMatrixMetadata(
  db: Db,
  movieId: number,
  imageBaseUrl: string,
  changes: Record<string, unknown> = {},
): Promise<void> {
  const meta = metadataFromTmdb(theMatrix() as never, { country: 'US', imageBaseUrl });
  await db
    .insertInto('movie_metadata')
    .values({ movie_id: movieId, data: JSON.stringify({ ...meta, ...changes }) })
    .execute();
}

export interface CandidateSpec {
  type: string;
  /** A path on the fake TMDB image host; its `<w>x<h>` is the candidate's size. */
  file: string;
  votes?: number;
  language?: string | null;
  provider?: 'tmdb' | 'fanart';
}

/** What fetch-provider-assets leaves for select-assets: artwork candidates on the fake image host. */
export async function addCandidates(
  db: Db,
  movieId: number,
  imageUrl: string,
  list: CandidateSpec[],
): Promise<void> {
  for (const c of list) {
    const size = /(\d+)x(\d+)\.\w+$/.exec(c.file);
    await db
      .insertInto('movie_asset_candidates')
      .values({
        movie_id: movieId,
        type: c.type,
        provider: c.provider ?? 'tmdb',
        url: `${imageUrl}/original/${c.file}`,
        language: c.language === undefined ? 'en' : c.language,
        width: size ? Number(size[1]) : null,
        height: size ? Number(size[2]) : null,
        votes: c.votes ?? 10,
      })
      .execute();
  }
}

export interface FollowUp {
  id: string;
  name: string;
  payload: Record<string, unknown>;
  parentId: string | null;
  /** On Metarr's scale (1 = most urgent), as the catalog and ctx.enqueue use it. */
  priority: number;
  startAfter: Date;
}

/** Every job whose parent is `parentId`, of any type, oldest first. */
export async function followUpsOf(db: Db, parentId: string): Promise<FollowUp[]> {
  const rows = await createJobInspector(db).rows({ parentIds: [parentId] });
  return rows.map((r) => {
    const data = r.data as { payload: Record<string, unknown>; parentId: string | null };
    return {
      id: r.id,
      name: r.name,
      payload: data.payload,
      parentId: data.parentId,
      priority: fromBossPriority(r.priority),
      startAfter: new Date(r.start_after),
    };
  });
}
