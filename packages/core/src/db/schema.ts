import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type LibraryType = 'movie' | 'tv' | 'music';
export type Manager = 'radarr' | 'sonarr' | 'lidarr';
export type PlayerType = 'kodi' | 'jellyfin' | 'emby' | 'plex';

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: Generated<Date>;
}

export interface LibrariesTable {
  id: Generated<number>;
  name: string;
  type: LibraryType;
  path: string;
  created_at: Generated<Date>;
}

export interface PathMappingsTable {
  id: Generated<number>;
  manager: Manager;
  from_path: string;
  to_path: string;
  created_at: Generated<Date>;
}

export interface PlayerGroupsTable {
  id: Generated<number>;
  name: string;
  type: PlayerType;
  shared_library: boolean;
  created_at: Generated<Date>;
  /** Coalescing window for notifications of one folder (0 = off). */
  debounce_seconds: Generated<number>;
  /** Kodi: `VideoLibrary.Clean {directory}` after a delete. */
  clean_after_delete: Generated<boolean>;
  scan_while_playing: Generated<ScanWhilePlaying>;
}

export type ScanWhilePlaying = 'defer' | 'always';

export interface PlayerGroupLibrariesTable {
  group_id: number;
  library_id: number;
}

export interface PlayerGroupPathMappingsTable {
  id: Generated<number>;
  group_id: number;
  from_path: string;
  to_path: string;
}

export interface PlayersTable {
  id: Generated<number>;
  group_id: number;
  name: string;
  type: PlayerType;
  host: string;
  port: number;
  use_tls: Generated<boolean>;
  username: string | null;
  password: string | null;
  api_key: string | null;
  enabled: Generated<boolean>;
  created_at: Generated<Date>;
}

export type MovieStatus = 'present' | 'missing' | 'removed' | 'no_files';

export interface MoviesTable {
  id: Generated<number>;
  library_id: number;
  path: string;
  title: string | null;
  year: number | null;
  tmdb_id: number | null;
  imdb_id: string | null;
  radarr_id: number | null;
  video_file: string | null;
  status: Generated<MovieStatus>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_scanned_at: Timestamp | null;
  /** The title before the last title change (set by a trigger; read-only here). */
  previous_title: ColumnType<string | null, never, never>;
}

export type DeliveryStatus = 'queued' | 'ignored' | 'test';

export interface WebhookDeliveriesTable {
  id: Generated<string>; // bigint, returned as string by pg
  source: Manager;
  event_type: string;
  instance_name: string | null;
  idempotency_key: string;
  body: ColumnType<unknown, string, string>;
  status: DeliveryStatus;
  job_id: string | null;
  outcome: string | null;
  received_at: Generated<Date>;
}

/** Metadata pipeline. `data` columns hold JSON documents typed in the services. */
export interface MovieDiscoveryTable {
  movie_id: number;
  data: ColumnType<unknown, string, string>;
  discovered_at: Generated<Date>;
}
export interface MovieMetadataTable {
  movie_id: number;
  data: ColumnType<unknown, string, string>;
  updated_at: Generated<Date>;
}
export interface MovieFieldLocksTable {
  movie_id: number;
  field: string;
  locked_at: Generated<Date>;
}
export interface MovieAssetCandidatesTable {
  id: Generated<number>;
  movie_id: number;
  type: string;
  provider: string;
  url: string;
  language: string | null;
  width: number | null;
  height: number | null;
  votes: Generated<number>;
  score: number | null;
  rank: number | null;
  selected: Generated<boolean>;
}
export interface MoviePublishedFilesTable {
  movie_id: number;
  file: string;
  kind: string;
  content_hash: string;
  source_url: string | null;
  published_at: Generated<Date>;
  /** Write-ahead: the hash (and source) of a write planned by a publish not yet completed. */
  pending_hash: string | null;
  pending_source_url: string | null;
}
export interface ArtworkThumbnailsTable {
  movie_id: number;
  kind: string;
  width: number;
  source_hash: string;
  content_type: string;
  bytes: Buffer;
  created_at: Generated<Date>;
}
export interface ProviderCacheTable {
  provider: string;
  cache_key: string;
  body: ColumnType<unknown, string, string>;
  fetched_at: Generated<Date>;
  expires_at: Timestamp;
}
/** Provider API requests per provider and outcome (an HTTP status, `2xx`, `error` or `cache_hit`). */
export interface ProviderRequestCountsTable {
  provider: string;
  status: string;
  n: ColumnType<string, number, never>;
}
export interface ProviderRateLimitsTable {
  provider: string;
  window_start: Timestamp;
  count: number;
  blocked_until: Timestamp | null;
}

/** What the last library scan saw of a movie folder. */
export interface LibraryFoldersTable {
  library_id: number;
  path: string;
  fingerprint: string;
  seen_at: Generated<Date>;
}

export type SeriesStatus = 'present' | 'missing' | 'removed';

/** TV (issue 15): one series folder of a `tv` library. `metadata` is SeriesMetadata (tv/metadata.ts). */
export interface SeriesTable {
  id: Generated<number>;
  library_id: number;
  path: string;
  title: string | null;
  year: number | null;
  tmdb_id: number | null;
  tvdb_id: number | null;
  imdb_id: string | null;
  sonarr_id: number | null;
  status: Generated<SeriesStatus>;
  metadata: ColumnType<unknown, string | null | undefined, string | null>;
  /** [{file, reason}]: files whose names state no episode, unreadable season folders. */
  unparseable: ColumnType<{ file: string; reason: string }[], string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_scanned_at: Timestamp | null;
}
export interface SeriesFieldLocksTable {
  series_id: number;
  field: string;
  locked_at: Generated<Date>;
}
export interface SeasonsTable {
  id: Generated<number>;
  series_id: number;
  number: number;
  folder: string | null;
  metadata: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export interface EpisodesTable {
  id: Generated<number>;
  series_id: number;
  season_id: number;
  season_number: number;
  number: number;
  title: string | null;
  plot: string | null;
  /** 'YYYY-MM-DD'. */
  air_date: string | null;
  metadata: ColumnType<unknown, string | null | undefined, string | null>;
  placeholder_fields: Generated<string[]>;
  /** Provider checks made while a placeholder remained (the backoff's exponent). */
  placeholder_checks: Generated<number>;
  placeholder_next_check: Timestamp | null;
  placeholder_give_up_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export interface EpisodeFieldLocksTable {
  episode_id: number;
  field: string;
  locked_at: Generated<Date>;
}
export interface EpisodeFilesTable {
  id: Generated<number>;
  series_id: number;
  /** Relative to the series folder, '/'-separated. */
  file: string;
  season_number: number | null;
  air_date: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
/** What Metarr wrote in a series folder, relative to it; written ahead (`pending_hash`) as movies'. */
export interface SeriesPublishedFilesTable {
  series_id: number;
  file: string;
  /** `tvshow-nfo`, `episode-nfo` or `episode-thumb`. */
  kind: string;
  content_hash: string | null;
  pending_hash: string | null;
  /** The image URL an image file came from (null for an NFO). */
  source_url: string | null;
  published_at: Generated<Date>;
}
export interface EpisodeFileEpisodesTable {
  file_id: number;
  episode_id: number;
  position: number;
}

export interface Database {
  library_folders: LibraryFoldersTable;
  settings: SettingsTable;
  libraries: LibrariesTable;
  path_mappings: PathMappingsTable;
  player_groups: PlayerGroupsTable;
  player_group_libraries: PlayerGroupLibrariesTable;
  player_group_path_mappings: PlayerGroupPathMappingsTable;
  players: PlayersTable;
  movies: MoviesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  movie_discovery: MovieDiscoveryTable;
  movie_metadata: MovieMetadataTable;
  movie_field_locks: MovieFieldLocksTable;
  movie_asset_candidates: MovieAssetCandidatesTable;
  movie_published_files: MoviePublishedFilesTable;
  artwork_thumbnails: ArtworkThumbnailsTable;
  provider_cache: ProviderCacheTable;
  provider_rate_limits: ProviderRateLimitsTable;
  provider_request_counts: ProviderRequestCountsTable;
  alert_channels: AlertChannelsTable;
  alert_events: AlertEventsTable;
  alert_outbox: AlertOutboxTable;
  player_outages: PlayerOutagesTable;
  player_audits: PlayerAuditsTable;
  player_audit_items: PlayerAuditItemsTable;
  player_audit_findings: PlayerAuditFindingsTable;
  series: SeriesTable;
  series_field_locks: SeriesFieldLocksTable;
  seasons: SeasonsTable;
  episodes: EpisodesTable;
  episode_field_locks: EpisodeFieldLocksTable;
  episode_files: EpisodeFilesTable;
  episode_file_episodes: EpisodeFileEpisodesTable;
  series_published_files: SeriesPublishedFilesTable;
}

export type Library = Selectable<LibrariesTable>;
export type PathMapping = Selectable<PathMappingsTable>;
export type PlayerGroup = Selectable<PlayerGroupsTable>;
export type Player = Selectable<PlayersTable>;
export type Movie = Selectable<MoviesTable>;
export type NewMovie = Insertable<MoviesTable>;
export type MovieUpdate = Updateable<MoviesTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;

export type AlertChannelType = 'webhook' | 'discord' | 'ntfy' | 'apprise';

/** Where alerts go. `url` and `token` are sealed (secrets.ts). */
export interface AlertChannelsTable {
  id: Generated<number>;
  name: string;
  type: AlertChannelType;
  url: string;
  token: string | null;
  topic: string | null;
  enabled: Generated<boolean>;
  events: string[];
  unreachable_minutes: Generated<number>;
  digest_seconds: Generated<number>;
  created_at: Generated<Date>;
}
export interface AlertEventsTable {
  id: Generated<string>;
  type: string;
  message: string;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Date>;
}
export interface AlertOutboxTable {
  channel_id: number;
  event_id: string;
  dedupe_key: string | null;
  delivered_at: Date | null;
}
export interface PlayerOutagesTable {
  player_id: number;
  since: Timestamp;
  last_error: string | null;
}
export type AlertChannel = Selectable<AlertChannelsTable>;

/** One audit of a player's library against Metarr's (issue 16). */
export interface PlayerAuditsTable {
  id: Generated<number>;
  player_id: number;
  job_id: string | null;
  repair: Generated<boolean>;
  status: 'running' | 'done' | 'failed';
  started_at: Generated<Date>;
  finished_at: Timestamp | null;
  player_items: Generated<number>;
  matched: Generated<number>;
  outside: Generated<number>;
  missing: Generated<number>;
  gone: Generated<number>;
  duplicate: Generated<number>;
  stale: Generated<number>;
  stale_checked: Generated<boolean>;
  notes: Generated<string[]>;
  error: string | null;
}
/** What an audit saw of the player's library (scratch rows, emptied when the audit ends). */
export interface PlayerAuditItemsTable {
  audit_id: number;
  item_id: string;
  player_path: string;
  metarr_path: string | null;
  library_id: number | null;
  movie_id: number | null;
  is_video: Generated<boolean>;
  updated_at: Timestamp | null;
}
export type AuditFindingKind = 'missing' | 'gone' | 'duplicate' | 'stale';
export interface PlayerAuditFindingsTable {
  id: Generated<string>;
  audit_id: number;
  kind: AuditFindingKind;
  movie_id: number | null;
  library_id: number | null;
  item_id: string | null;
  player_path: string | null;
  metarr_path: string | null;
  /** A duplicate: the item kept (the others are merged into or removed for it). */
  keep_item_id: string | null;
  detail: string;
}
