import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // TV (issue 15). A series is one folder of a `tv` library, keyed like a movie on library + path.
  await db.schema
    .createTable('series')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('library_id', 'integer', (c) => c.notNull().references('libraries.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('year', 'integer')
    .addColumn('tmdb_id', 'integer')
    .addColumn('tvdb_id', 'integer')
    .addColumn('imdb_id', 'text')
    .addColumn('sonarr_id', 'integer')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('present').check(sql`status in ('present', 'missing', 'removed')`),
    )
    // What enrichment stored (SeriesMetadata), null before the first run.
    .addColumn('metadata', 'jsonb')
    // Video files whose names state no episode, and season folders that could not be read:
    // [{file, reason}], replaced by every scan. Reported, never fatal.
    .addColumn('unparseable', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_scanned_at', 'timestamptz')
    .addUniqueConstraint('series_library_path', ['library_id', 'path'])
    .execute();
  await sql`create index series_tvdb on series (library_id, tvdb_id) where tvdb_id is not null`.execute(db);
  await sql`create index series_tmdb on series (library_id, tmdb_id) where tmdb_id is not null`.execute(db);
  await db.schema
    .createTable('series_field_locks')
    .addColumn('series_id', 'integer', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('locked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('series_field_locks_pk', ['series_id', 'field'])
    .execute();

  // Season 0 holds the specials. `folder` is the season folder's name, null when its episodes lie
  // at the series root (or it is known from the provider only).
  await db.schema
    .createTable('seasons')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('series_id', 'integer', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull().check(sql`number >= 0`))
    .addColumn('folder', 'text')
    .addColumn('metadata', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('seasons_series_number', ['series_id', 'number'])
    .execute();

  // Episodes, whether a file holds them or only the provider knows them. Placeholder state: which
  // fields are a placeholder ("TBA", no plot, no still), when to look again, when to give up.
  await db.schema
    .createTable('episodes')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('series_id', 'integer', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('season_id', 'integer', (c) => c.notNull().references('seasons.id').onDelete('cascade'))
    .addColumn('season_number', 'integer', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull().check(sql`number >= 0`))
    .addColumn('title', 'text')
    .addColumn('plot', 'text')
    // 'YYYY-MM-DD' as the provider gives it: a calendar day, no time zone.
    .addColumn('air_date', 'text', (c) => c.check(sql`air_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`))
    .addColumn('metadata', 'jsonb')
    .addColumn('placeholder_fields', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('placeholder_checks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('placeholder_next_check', 'timestamptz')
    .addColumn('placeholder_give_up_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('episodes_series_season_number', ['series_id', 'season_number', 'number'])
    .execute();
  await sql`create index episodes_placeholder_check on episodes (placeholder_next_check)
    where placeholder_next_check is not null`.execute(db);
  await db.schema
    .createTable('episode_field_locks')
    .addColumn('episode_id', 'integer', (c) => c.notNull().references('episodes.id').onDelete('cascade'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('locked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('episode_field_locks_pk', ['episode_id', 'field'])
    .execute();

  // One video file of a series, relative to the series folder ('/'-separated). A file can hold
  // several episodes (S01E01E02): episode_file_episodes, in order. A daily file (2024-03-01) holds
  // its air date until a provider tells which episode aired then.
  await db.schema
    .createTable('episode_files')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('series_id', 'integer', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('season_number', 'integer')
    .addColumn('air_date', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('episode_files_series_file', ['series_id', 'file'])
    .execute();
  await db.schema
    .createTable('episode_file_episodes')
    .addColumn('file_id', 'integer', (c) => c.notNull().references('episode_files.id').onDelete('cascade'))
    .addColumn('episode_id', 'integer', (c) => c.notNull().references('episodes.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('episode_file_episodes_pk', ['file_id', 'episode_id'])
    .execute();
  await sql`create index episode_file_episodes_episode on episode_file_episodes (episode_id)`.execute(db);

  // What Metarr wrote in a series folder (tvshow.nfo, episode NFOs), written ahead like
  // movie_published_files: `pending_hash` before the write, `content_hash` once it landed.
  await db.schema
    .createTable('series_published_files')
    .addColumn('series_id', 'integer', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text')
    .addColumn('pending_hash', 'text')
    .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('series_published_files_pk', ['series_id', 'file'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'series_published_files',
    'episode_file_episodes',
    'episode_files',
    'episode_field_locks',
    'episodes',
    'seasons',
    'series_field_locks',
    'series',
  ])
    await db.schema.dropTable(t).ifExists().execute();
}
