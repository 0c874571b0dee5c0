/** Provider answers cached in the database, shared by every worker until they expire. */
import type { Db } from '../db/connect.ts';

/** A cached body (any age when `fresh` is false). */
export async function readProviderCache(
  db: Db,
  provider: string,
  key: string,
  opts: { fresh: boolean; now?: Date } = { fresh: true },
): Promise<unknown | undefined> {
  let q = db
    .selectFrom('provider_cache')
    .select('body')
    .where('provider', '=', provider)
    .where('cache_key', '=', key);
  if (opts.fresh) q = q.where('expires_at', '>', opts.now ?? new Date());
  const row = await q.executeTakeFirst();
  return row?.body;
}

export const tmdbMovieKey = (tmdbId: number, language: string) => `movie:${tmdbId}:${language}`;
export const fanartMovieKey = (tmdbId: number) => `movie:${tmdbId}`;
/** fanart.tv keys shows by TVDB id. */
export const fanartTvKey = (tvdbId: number) => `tv:${tvdbId}`;
