import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('libraries')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('movie', 'tv', 'music')`))
    .addColumn('path', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('path_mappings')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('manager', 'text', (c) => c.notNull().check(sql`manager in ('radarr', 'sonarr', 'lidarr')`))
    .addColumn('from_path', 'text', (c) => c.notNull())
    .addColumn('to_path', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('path_mappings_manager_from_unique', ['manager', 'from_path'])
    .execute();

  await db.schema
    .createTable('player_groups')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('kodi', 'jellyfin', 'emby', 'plex')`))
    .addColumn('shared_library', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('player_group_libraries')
    .addColumn('group_id', 'integer', (c) => c.notNull().references('player_groups.id').onDelete('cascade'))
    .addColumn('library_id', 'integer', (c) => c.notNull().references('libraries.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('player_group_libraries_pk', ['group_id', 'library_id'])
    .execute();
  await db.schema
    .createIndex('player_group_libraries_library_idx')
    .on('player_group_libraries')
    .column('library_id')
    .execute();

  await db.schema
    .createTable('player_group_path_mappings')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('group_id', 'integer', (c) => c.notNull().references('player_groups.id').onDelete('cascade'))
    .addColumn('from_path', 'text', (c) => c.notNull())
    .addColumn('to_path', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('players')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('group_id', 'integer', (c) => c.notNull().references('player_groups.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('kodi', 'jellyfin', 'emby', 'plex')`))
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('use_tls', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('username', 'text')
    .addColumn('password', 'text')
    .addColumn('api_key', 'text')
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('movies')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('library_id', 'integer', (c) => c.notNull().references('libraries.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('year', 'integer')
    .addColumn('tmdb_id', 'integer')
    .addColumn('imdb_id', 'text')
    .addColumn('radarr_id', 'integer')
    .addColumn('video_file', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('present').check(sql`status in ('present', 'missing', 'removed', 'no_files')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_scanned_at', 'timestamptz')
    .addUniqueConstraint('movies_library_path_unique', ['library_id', 'path'])
    .execute();
  await db.schema.createIndex('movies_tmdb_idx').on('movies').columns(['library_id', 'tmdb_id']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('instance_name', 'text')
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('job_id', 'uuid')
    .addColumn('outcome', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Only deliveries we act on are deduplicated; a repeated Test or Grab is just recorded again.
  await db.schema
    .createIndex('webhook_deliveries_idem_unique')
    .on('webhook_deliveries')
    .column('idempotency_key')
    .unique()
    .where(sql.ref('status'), '=', 'queued')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_received_idx')
    .on('webhook_deliveries')
    .column('received_at')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'webhook_deliveries',
    'movies',
    'players',
    'player_group_path_mappings',
    'player_group_libraries',
    'player_groups',
    'path_mappings',
    'libraries',
    'settings',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
