import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // What discover-assets found in a movie folder (video, NFO ids, artwork, trailers, subtitles).
  await db.schema
    .createTable('movie_discovery')
    .addColumn('movie_id', 'integer', (c) => c.primaryKey().references('movies.id').onDelete('cascade'))
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('discovered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // The enriched metadata, one JSON document per movie (field names as in MovieMetadata).
  await db.schema
    .createTable('movie_metadata')
    .addColumn('movie_id', 'integer', (c) => c.primaryKey().references('movies.id').onDelete('cascade'))
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // A locked field (metadata or artwork type) is never overwritten by enrichment or selection.
  await db.schema
    .createTable('movie_field_locks')
    .addColumn('movie_id', 'integer', (c) => c.notNull().references('movies.id').onDelete('cascade'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('locked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('movie_field_locks_pk', ['movie_id', 'field'])
    .execute();

  // Remote artwork candidates from the providers, scored and ranked by select-assets.
  await db.schema
    .createTable('movie_asset_candidates')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('movie_id', 'integer', (c) => c.notNull().references('movies.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('language', 'text')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('votes', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('score', 'double precision')
    .addColumn('rank', 'integer')
    .addColumn('selected', 'boolean', (c) => c.notNull().defaultTo(false))
    .addUniqueConstraint('movie_asset_candidates_unique', ['movie_id', 'type', 'url'])
    .execute();

  // Files publish wrote, with their content hash: tells our files from the user's and skips rewrites.
  await db.schema
    .createTable('movie_published_files')
    .addColumn('movie_id', 'integer', (c) => c.notNull().references('movies.id').onDelete('cascade'))
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('source_url', 'text')
    .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('movie_published_files_pk', ['movie_id', 'file'])
    .execute();

  // Provider responses shared by every worker; expires_at is the TTL.
  await db.schema
    .createTable('provider_cache')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('cache_key', 'text', (c) => c.notNull())
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('provider_cache_pk', ['provider', 'cache_key'])
    .execute();
  await db.schema
    .createIndex('provider_cache_expires_idx')
    .on('provider_cache')
    .column('expires_at')
    .execute();

  // One request counter per provider per second, shared by all replicas, plus a 429 back-off.
  await db.schema
    .createTable('provider_rate_limits')
    .addColumn('provider', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('blocked_until', 'timestamptz')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'provider_rate_limits',
    'provider_cache',
    'movie_published_files',
    'movie_asset_candidates',
    'movie_field_locks',
    'movie_metadata',
    'movie_discovery',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
