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
}

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

export interface Database {
  settings: SettingsTable;
  libraries: LibrariesTable;
  path_mappings: PathMappingsTable;
  player_groups: PlayerGroupsTable;
  player_group_libraries: PlayerGroupLibrariesTable;
  player_group_path_mappings: PlayerGroupPathMappingsTable;
  players: PlayersTable;
  movies: MoviesTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type Library = Selectable<LibrariesTable>;
export type PathMapping = Selectable<PathMappingsTable>;
export type PlayerGroup = Selectable<PlayerGroupsTable>;
export type Player = Selectable<PlayersTable>;
export type Movie = Selectable<MoviesTable>;
export type NewMovie = Insertable<MoviesTable>;
export type MovieUpdate = Updateable<MoviesTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
