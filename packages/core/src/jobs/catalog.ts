import Type, { type Static, type TSchema } from 'typebox';
import { compileSchema } from '../schema.ts';

/**
 * The one job catalog. Every job type is declared here once: its queue name, payload schema,
 * priority on Metarr's scale (1 = most urgent … 10 = least) and its retry/expiry policy.
 * The worker's handler map is typed from this object, so a type without a handler cannot compile.
 */
export interface JobPolicy {
  /** 1 (most urgent) … 10 (least), as the API and the UI show it. */
  priority: number;
  retryLimit: number;
  /** First retry delay in seconds; doubled (with jitter) per attempt. */
  retryDelay: number;
  retryDelayMax: number;
  expireInSeconds: number;
  /** Completed jobs are kept this long so they stay visible in the jobs API. */
  deleteAfterSeconds: number;
}

const Id = Type.Integer({ minimum: 1 });
const AbsPath = Type.String({ minLength: 1, maxLength: 4096 });
/** What a folder scan (`scan-movie`, `scan-series`) is told: the folder and what the *arr knew. */
const scanFolder = {
  libraryId: Id,
  /** The media folder, in Metarr's form. */
  path: AbsPath,
  trigger: Type.Union([Type.Literal('webhook'), Type.Literal('library-scan'), Type.Literal('manual')]),
  eventType: Type.Optional(Type.String({ maxLength: 100 })),
  tmdbId: Type.Optional(Id),
  imdbId: Type.Optional(Type.String({ pattern: '^tt[0-9]+$' })),
  title: Type.Optional(Type.String({ maxLength: 500 })),
  year: Type.Optional(Type.Integer({ minimum: 0, maximum: 3000 })),
};
const Manager = Type.Union([Type.Literal('radarr'), Type.Literal('sonarr'), Type.Literal('lidarr')]);

const DAY = 86_400;
const defaults = {
  retryLimit: 3,
  retryDelay: 5,
  retryDelayMax: 600,
  expireInSeconds: 300,
  deleteAfterSeconds: 14 * DAY,
} satisfies Omit<JobPolicy, 'priority'>;

/**
 * How jobs of one type fold together across every process: jobs with the same `key` within `seconds`
 * become one (pg-boss singleton slots in PostgreSQL, so no process keeps a timer).
 * - `debounce`: the first job of a window runs at once; later ones in that window fold into a single
 *   job at the start of the next window (an event during a run → exactly one more run afterwards);
 * - `throttle`: at most one job per window, later ones are dropped.
 */
export interface CoalesceSpec {
  key: string;
  seconds: number;
  mode: 'debounce' | 'throttle';
}

function job<S extends TSchema>(
  schema: S,
  policy: Partial<JobPolicy> & { priority: number },
  coalesce?: (payload: Static<S>) => CoalesceSpec | null,
) {
  return {
    schema,
    validator: compileSchema(schema),
    policy: { ...defaults, ...policy },
    ...(coalesce && { coalesce }),
  };
}

/**
 * Coalescing key of a per-group notification (and per player, when the job targets some players
 * only): created/modified are one rescan, a delete is a clean, and a republish that changed files is
 * a refresh (never folded into a plain scan, which would leave a known item stale).
 */
export function notifyCoalesceKey(p: {
  groupId: number;
  path: string;
  change: string;
  playerIds?: number[] | undefined;
  refresh?: boolean | undefined;
}): string {
  const players = p.playerIds?.length ? `:p${[...p.playerIds].sort((a, b) => a - b).join(',')}` : '';
  const kind = p.change === 'deleted' ? 'clean' : p.refresh ? 'refresh' : 'scan';
  return `${p.groupId}${players}:${kind}:${p.path}`;
}

/** The movie's files were rewritten: players that hold the item re-read it (see notify-group). */
const Refresh = Type.Optional(Type.Boolean());

const Change = Type.Union([Type.Literal('created'), Type.Literal('modified'), Type.Literal('deleted')]);

/** Player notifications retry longer than the default: a player may be rebooting. */
const NOTIFY_POLICY = { priority: 3, retryLimit: 5, retryDelay: 10, retryDelayMax: 900 };

const NotifyGroupPayload = Type.Object({
  libraryId: Id,
  /** The changed folder, in Metarr's form (the group's mappings are applied when it runs). */
  path: AbsPath,
  change: Change,
  movieId: Type.Optional(Id),
  groupId: Id,
  /** The group's coalescing window when the job was made (0 = no coalescing). */
  windowSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  /** Only these players (one player of a group that is not a shared library, or a deferred scan). */
  playerIds: Type.Optional(Type.Array(Id, { maxItems: 1000 })),
  /** How many times playback already deferred this scan. */
  deferrals: Type.Optional(Type.Integer({ minimum: 0 })),
  refresh: Refresh,
});

/**
 * The media item a pipeline job works on (issue 15): `{kind, id}`. `{movieId}`, the shape queued
 * before TV existed, is still accepted and means `{kind: "movie", id: movieId}`.
 */
const MediaItemPayload = Type.Union([
  Type.Object({ movieId: Id }),
  Type.Object({ kind: Type.Union([Type.Literal('movie'), Type.Literal('series')]), id: Id }),
]);

export type MediaItem = { kind: 'movie' | 'series'; id: number };

/**
 * enrich-metadata's item; `recheck` (series): a placeholder recheck, asking TMDB past the cache for the
 * seasons holding placeholders; `refresh` (series): the series and every season asked past the cache.
 */
const EnrichPayload = Type.Union([
  Type.Object({ movieId: Id }),
  Type.Object({
    kind: Type.Union([Type.Literal('movie'), Type.Literal('series')]),
    id: Id,
    recheck: Type.Optional(Type.Boolean()),
    refresh: Type.Optional(Type.Boolean()),
  }),
]);

/** The item of a pipeline payload, whichever shape it was queued in. */
export function mediaItemOf(p: { movieId: number } | MediaItem): MediaItem {
  return 'movieId' in p ? { kind: 'movie', id: p.movieId } : { kind: p.kind, id: p.id };
}

export const jobCatalog = {
  webhook: job(
    Type.Object({
      deliveryId: Type.String({ pattern: '^[0-9]+$' }),
      source: Manager,
      eventType: Type.String({ minLength: 1, maxLength: 100 }),
      /** Shown in job lists; never used for decisions (the stored delivery is the truth). */
      title: Type.Optional(Type.String({ maxLength: 500 })),
    }),
    { priority: 1, expireInSeconds: 60 },
  ),
  'scan-movie': job(Type.Object({ ...scanFolder, radarrId: Type.Optional(Id) }), { priority: 2 }),
  /**
   * Reads one series folder of a `tv` library and records its seasons, episodes and files (issue
   * 15). From a Sonarr webhook (with the ids Sonarr sent) or a tv library scan (one per folder).
   */
  'scan-series': job(
    // eventType `SeriesDelete` marks the series removed.
    Type.Object({ ...scanFolder, tvdbId: Type.Optional(Id), sonarrId: Type.Optional(Id) }),
    { priority: 2 },
  ),
  /** A library folder changed: fans out one `notify-group` per player group linked to the library. */
  'notify-players': job(
    Type.Object({
      libraryId: Id,
      /** The changed folder, in Metarr's form (group mappings are applied per group). */
      path: AbsPath,
      change: Change,
      movieId: Type.Optional(Id),
      refresh: Refresh,
    }),
    NOTIFY_POLICY,
  ),
  /**
   * Tells one player group (or some of its players) that a folder changed, coalesced per group +
   * folder within the group's window (`windowSeconds`), so a failing group retries alone and never
   * re-notifies another.
   */
  'notify-group': job(NotifyGroupPayload, NOTIFY_POLICY, (p) =>
    p.windowSeconds ? { key: notifyCoalesceKey(p), seconds: p.windowSeconds, mode: 'debounce' } : null,
  ),
  'discover-assets': job(Type.Object({ movieId: Id }), { priority: 4 }),
  'fetch-provider-assets': job(Type.Object({ movieId: Id }), { priority: 5 }),
  /** Movies: from the discovered provider records. Series: fetches TMDB (series + one call per season). */
  'enrich-metadata': job(EnrichPayload, { priority: 5 }),
  'select-assets': job(Type.Object({ movieId: Id }), { priority: 5 }),
  /** Movies: artwork and NFO. Series: tvshow.nfo and episode NFOs (artwork not yet). */
  publish: job(MediaItemPayload, { priority: 4 }),
  'library-scan': job(Type.Object({ libraryId: Id }), { priority: 8, expireInSeconds: 3600 }),
  'scheduled-file-scan': job(Type.Object({ libraryId: Type.Optional(Id) }), { priority: 9, retryLimit: 1 }),
  'scheduled-provider-update': job(Type.Object({}), { priority: 9, retryLimit: 1 }),
  /**
   * Sends one alert channel's waiting events as one digest. Coalesced per channel (debounce over the
   * channel's digest window), so a burst of events is one message per window, not one per event.
   */
  'send-alerts': job(
    Type.Object({
      channelId: Id,
      /** The channel's digest window when the job was made (0 = no coalescing). */
      windowSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    }),
    { priority: 9, retryLimit: 8, retryDelay: 30, retryDelayMax: 1800 },
    (p) =>
      p.windowSeconds ? { key: `alerts:${p.channelId}`, seconds: p.windowSeconds, mode: 'debounce' } : null,
  ),
  /**
   * Compares one player's movie library with Metarr's (issue 16): missing, gone, duplicate and stale
   * items, stored as a report; `repair` queues the fixes (`notify-group` for this player) and removes
   * duplicate entries where the player can. Low priority: it pages through the whole library.
   */
  'audit-player': job(
    Type.Object({ playerId: Id, repair: Type.Optional(Type.Boolean()) }),
    // A player that is down is retried a few times, slowly; a 20,000-item library takes minutes.
    { priority: 7, retryLimit: 2, retryDelay: 60, retryDelayMax: 900, expireInSeconds: 3600 },
  ),
} as const;

export type JobCatalog = typeof jobCatalog;
export type JobName = keyof JobCatalog;
export type JobPayload<N extends JobName> = Static<JobCatalog[N]['schema']>;
export const jobNames = Object.keys(jobCatalog) as JobName[];

/** Failed jobs that ran out of retries, or failed permanently, land here with their error. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobCatalog, name);
}

/** pg-boss runs a *higher* number first; Metarr numbers 1 as most urgent. */
export function toBossPriority(priority: number): number {
  return 11 - priority;
}
export function fromBossPriority(bossPriority: number): number {
  return 11 - bossPriority;
}

/** What every job's pg-boss `data` holds: the typed payload plus its lineage. */
export interface JobEnvelope<P = unknown> {
  payload: P;
  parentId: string | null;
}
