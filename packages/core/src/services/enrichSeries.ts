/**
 * SeriesEnrichService — fills a series' and its episodes' metadata from TMDB: `/tv/{id}` (with
 * aggregate_credits, images, external_ids, content_ratings and videos) once, and `/tv/{id}/season/{n}`
 * once per season the series has on disk (one season call serves every episode of it), through the
 * shared provider cache and rate limit movies use. A series known only by its TVDB id is looked up
 * with `/find/{id}?external_source=tvdb_id`. Locked fields are kept. Episodes whose title, plot or
 * still is still a placeholder are marked, with the next check (backoff from the air date) and the
 * day it gives up.
 */
import type { TmdbClient } from '../clients/tmdb.ts';
import type { Db } from '../db/connect.ts';
import { errorCode, errorMessage, permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import { cachedProviderCall } from '../providerCalls.ts';
import { addProviderRequestCounts, ProviderRequestTally } from '../records/providerRequests.ts';
import {
  type EpisodeMetadata,
  episodesMetadataFromTmdb,
  nextPlaceholderCheck,
  PLACEHOLDER_GIVE_UP_DAYS,
  placeholderFields,
  seriesMetadataFromTmdb,
  type TmdbSeason,
  type TmdbSeries,
} from '../tv/metadata.ts';

/** `METARR_PLACEHOLDER_RECHECK_SECONDS`'s default in the issue: the first recheck 6 h after airing. */
export const DEFAULT_PLACEHOLDER_RECHECK_SECONDS = 21_600;

export interface SeriesEnrichDeps {
  db: Db;
  log: Logger;
  tmdb: TmdbClient;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  fence?: Fence;
}

export interface SeriesEnrichOptions {
  language: string;
  /** Certification country (content_ratings). */
  country: string;
  /** TMDB image root (`…/t/p`). */
  imageBaseUrl: string;
  ttlSeconds: number;
  tmdbRateLimit: number;
  placeholderRecheckSeconds?: number;
  transientAttempts?: number;
  signal?: AbortSignal;
  /**
   * A placeholder recheck: the seasons holding placeholder episodes are asked again past the cache.
   * Nothing is fetched when no placeholder check is due yet (another chain moved it).
   */
  recheck?: boolean;
  /** A user's refresh: the series and every season are asked again past the cache. */
  refresh?: boolean;
}

export interface SeriesEnrichResult {
  seriesId: number;
  tmdbId: number | null;
  skipped?: string;
  requests: { tmdb: number; fanart: number };
  cacheHits: number;
  seasons: number;
  /** Episodes whose row changed (new from the provider, or new values). */
  episodesUpdated: number;
  placeholders: number;
  /** Episodes that had a placeholder and now have real values. */
  healed: number;
  /** Whether the series row's metadata changed. */
  seriesChanged: boolean;
  /** The earliest next placeholder check of the series' episodes, or null when none is due. */
  nextCheckAt: Date | null;
}

const DAY_MS = 86_400_000;

/** JSON with object keys sorted: jsonb gives keys back in its own order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}
const tvKey = (id: number, language: string) => `tv:${id}:${language}`;
const seasonKey = (id: number, season: number, language: string) => `tv:${id}:season:${season}:${language}`;

export async function enrichSeries(
  deps: SeriesEnrichDeps,
  seriesId: number,
  opts: SeriesEnrichOptions,
): Promise<SeriesEnrichResult> {
  const tally = new ProviderRequestTally();
  try {
    return await enrichTallied(deps, seriesId, opts, tally);
  } finally {
    await addProviderRequestCounts(deps.db, tally).catch((err: unknown) =>
      deps.log.warn(
        { service: 'SeriesEnrichService', code: errorCode(err), error: errorMessage(err) },
        'Provider request counts could not be recorded',
      ),
    );
  }
}

async function enrichTallied(
  deps: SeriesEnrichDeps,
  seriesId: number,
  opts: SeriesEnrichOptions,
  tally: ProviderRequestTally,
): Promise<SeriesEnrichResult> {
  const log = deps.log.child({ service: 'SeriesEnrichService', operation: 'enrichSeries', seriesId });
  const now = (deps.clock ?? (() => new Date()))();
  const result: SeriesEnrichResult = {
    seriesId,
    tmdbId: null,
    requests: { tmdb: 0, fanart: 0 },
    cacheHits: 0,
    seasons: 0,
    episodesUpdated: 0,
    placeholders: 0,
    healed: 0,
    seriesChanged: false,
    nextCheckAt: null,
  };
  const series = await deps.db.selectFrom('series').selectAll().where('id', '=', seriesId).executeTakeFirst();
  if (!series) throw permanent('SERIES_NOT_FOUND', `series ${seriesId} does not exist`);
  // Seasons holding placeholder episodes, and whether a recheck is due at all.
  const pending = await deps.db
    .selectFrom('episodes')
    .select(['season_number', 'placeholder_next_check'])
    .where('series_id', '=', seriesId)
    .where('placeholder_next_check', 'is not', null)
    .execute();
  if (opts.recheck) {
    const due = pending.some((p) => (p.placeholder_next_check as Date).getTime() <= now.getTime() + 1000);
    if (!due) {
      const next = pending.map((p) => (p.placeholder_next_check as Date).getTime()).sort((a, b) => a - b)[0];
      return {
        ...result,
        skipped: 'no placeholder check is due (a later one is already planned)',
        nextCheckAt: next === undefined ? null : new Date(next),
      };
    }
  }
  const recheckSeasons = new Set(opts.recheck ? pending.map((p) => p.season_number) : []);
  const call = {
    now,
    ttlSeconds: opts.ttlSeconds,
    tmdbRateLimit: opts.tmdbRateLimit,
    attempts: opts.transientAttempts ?? 3,
    ...(opts.signal && { signal: opts.signal }),
    ...(opts.refresh && { refresh: true }),
  };
  const counts = { tally, counts: result };
  const signal = opts.signal ? { signal: opts.signal } : {};
  const cached = <T>(key: string, fetch: () => Promise<unknown | null>) =>
    cachedProviderCall<T>(deps, call, counts, 'tmdb', key, fetch as () => Promise<T | null>);

  let tmdbId = series.tmdb_id;
  if (tmdbId === null && series.tvdb_id !== null) {
    const tvdbId = series.tvdb_id;
    const found = await cached<{ tv_results?: { id?: number }[] }>(`find:tvdb:${tvdbId}`, () =>
      deps.tmdb.findByTvdb(tvdbId, signal),
    );
    const id = 'tv_results' in found ? found.tv_results?.[0]?.id : undefined;
    if (typeof id === 'number') tmdbId = id;
  }
  if (tmdbId === null) {
    log.warn({ tvdbId: series.tvdb_id }, 'Series has no TMDB id and none could be found; skipping providers');
    return { ...result, skipped: 'the series has no TMDB id and TMDB knows none for its TVDB id' };
  }
  result.tmdbId = tmdbId;
  const id = tmdbId;
  const tv = await cached<TmdbSeries>(tvKey(id, opts.language), () =>
    deps.tmdb.tv(id, { language: opts.language, ...signal }),
  );
  if ('notFound' in tv) throw permanent('TMDB_SERIES_NOT_FOUND', `TMDB has no series ${id}`);
  if (typeof tv !== 'object' || tv.id !== id)
    throw permanent('PROVIDER_BAD_RESPONSE', `TMDB's answer for series ${id} is not a series record`);
  const meta = seriesMetadataFromTmdb(tv, { country: opts.country, imageBaseUrl: opts.imageBaseUrl });

  // One season call per season on disk (specials included); a season TMDB does not know is skipped.
  const seasonRows = await deps.db
    .selectFrom('seasons')
    .select(['id', 'number', 'metadata'])
    .where('series_id', '=', seriesId)
    .orderBy('number')
    .execute();
  const episodesBySeason = new Map<number, EpisodeMetadata[]>();
  for (const s of seasonRows) {
    const key = seasonKey(id, s.number, opts.language);
    const fetchSeason = () => deps.tmdb.tvSeason(id, s.number, { language: opts.language, ...signal });
    const season = recheckSeasons.has(s.number)
      ? await cachedProviderCall<TmdbSeason>(
          deps,
          { ...call, refresh: true },
          counts,
          'tmdb',
          key,
          fetchSeason as () => Promise<TmdbSeason | null>,
        )
      : await cached<TmdbSeason>(key, fetchSeason);
    if ('notFound' in season) continue;
    episodesBySeason.set(
      s.number,
      episodesMetadataFromTmdb(season, { showTitle: meta.title, imageBaseUrl: opts.imageBaseUrl }),
    );
  }
  result.seasons = episodesBySeason.size;

  await fencedWrite(deps.db, deps.fence, async (trx) => {
    result.seriesChanged = await writeSeries(trx, series, meta, now);
    for (const s of seasonRows) {
      const name = meta.namedSeasons.find((n) => n.season === s.number)?.name ?? null;
      const doc = { name };
      if (canonical(s.metadata) === canonical(doc)) continue;
      await trx
        .updateTable('seasons')
        .set({ metadata: JSON.stringify(doc), updated_at: now })
        .where('id', '=', s.id)
        .execute();
    }
    for (const s of seasonRows) {
      const episodes = episodesBySeason.get(s.number);
      if (episodes)
        await writeEpisodes(trx, result, { seriesId, seasonId: s.id, season: s.number }, episodes, now, opts);
    }
  });
  const next = await deps.db
    .selectFrom('episodes')
    .select((eb) => eb.fn.min('placeholder_next_check').as('next'))
    .where('series_id', '=', seriesId)
    .executeTakeFirst();
  result.nextCheckAt = (next?.next as Date | null | undefined) ?? null;
  log.info(
    {
      tmdbId: id,
      requests: result.requests,
      cacheHits: result.cacheHits,
      seasons: result.seasons,
      episodesUpdated: result.episodesUpdated,
      placeholders: result.placeholders,
      healed: result.healed,
    },
    'Series metadata enriched',
  );
  return result;
}

/** The series row: its metadata document, and title/year/ids unless locked. */
async function writeSeries(
  trx: Db,
  series: {
    id: number;
    title: string | null;
    year: number | null;
    tmdb_id: number | null;
    tvdb_id: number | null;
    imdb_id: string | null;
    metadata: unknown;
  },
  meta: ReturnType<typeof seriesMetadataFromTmdb>,
  now: Date,
): Promise<boolean> {
  const locks = new Set(
    (
      await trx.selectFrom('series_field_locks').select('field').where('series_id', '=', series.id).execute()
    ).map((l) => l.field),
  );
  const set: Record<string, unknown> = {};
  if (canonical(series.metadata) !== canonical(meta)) set.metadata = JSON.stringify(meta);
  if (!locks.has('title') && meta.title !== null && meta.title !== series.title) set.title = meta.title;
  if (!locks.has('year') && meta.year !== null && meta.year !== series.year) set.year = meta.year;
  if (series.tmdb_id !== meta.uniqueIds.tmdb) set.tmdb_id = meta.uniqueIds.tmdb;
  if (series.tvdb_id === null && meta.uniqueIds.tvdb !== null) set.tvdb_id = meta.uniqueIds.tvdb;
  if (series.imdb_id === null && meta.uniqueIds.imdb !== null) set.imdb_id = meta.uniqueIds.imdb;
  if (!Object.keys(set).length) return false;
  await trx
    .updateTable('series')
    .set({ ...set, updated_at: now })
    .where('id', '=', series.id)
    .execute();
  return true;
}

/**
 * A season's episodes: provider values (locked fields kept), and the placeholder state — which fields
 * are stand-ins, when to check again (doubling from the air date) and when to give up.
 */
async function writeEpisodes(
  trx: Db,
  result: SeriesEnrichResult,
  at: { seriesId: number; seasonId: number; season: number },
  episodes: EpisodeMetadata[],
  now: Date,
  opts: SeriesEnrichOptions,
): Promise<void> {
  const rows = await trx
    .selectFrom('episodes')
    .selectAll()
    .where('series_id', '=', at.seriesId)
    .where('season_number', '=', at.season)
    .execute();
  const byNumber = new Map(rows.map((r) => [r.number, r]));
  const lockRows = rows.length
    ? await trx
        .selectFrom('episode_field_locks')
        .select(['episode_id', 'field'])
        .where(
          'episode_id',
          'in',
          rows.map((r) => r.id),
        )
        .execute()
    : [];
  const locked = (episodeId: number, field: string) =>
    lockRows.some((l) => l.episode_id === episodeId && l.field === field);
  const firstDelay = opts.placeholderRecheckSeconds ?? DEFAULT_PLACEHOLDER_RECHECK_SECONDS;

  for (const e of episodes) {
    const row = byNumber.get(e.episode);
    const title = row && locked(row.id, 'title') ? row.title : e.title;
    const plot = row && locked(row.id, 'plot') ? row.plot : e.plot;
    const airDate = row && locked(row.id, 'aired') ? row.air_date : e.aired;
    const fields = placeholderFields({ title, plot, still: e.still });
    const metadata = JSON.stringify(e);
    if (fields.length) result.placeholders++;
    const was = row?.placeholder_fields ?? [];
    const sameValues =
      row !== undefined &&
      row.title === title &&
      row.plot === plot &&
      row.air_date === airDate &&
      canonical(row.metadata) === canonical(e) &&
      JSON.stringify(was) === JSON.stringify(fields);
    // Placeholder state: a check that still finds stand-ins doubles the wait; real values clear it.
    const checks = fields.length ? (row && was.length ? row.placeholder_checks + 1 : 0) : 0;
    const next = fields.length
      ? nextPlaceholderCheck({ airDate, checks, now, firstDelaySeconds: firstDelay })
      : null;
    const giveUp =
      fields.length && airDate
        ? new Date(Date.parse(`${airDate}T00:00:00Z`) + PLACEHOLDER_GIVE_UP_DAYS * DAY_MS)
        : null;
    if (sameValues && !fields.length) continue;
    const values = {
      title,
      plot,
      air_date: airDate,
      metadata,
      placeholder_fields: fields,
      placeholder_checks: checks,
      placeholder_next_check: next,
      placeholder_give_up_at: giveUp,
      updated_at: now,
    };
    if (row) {
      await trx.updateTable('episodes').set(values).where('id', '=', row.id).execute();
      if (was.length && !fields.length) result.healed++;
    } else {
      await trx
        .insertInto('episodes')
        .values({
          ...values,
          series_id: at.seriesId,
          season_id: at.seasonId,
          season_number: at.season,
          number: e.episode,
          created_at: now,
        })
        .execute();
    }
    if (!sameValues) result.episodesUpdated++;
  }
}
