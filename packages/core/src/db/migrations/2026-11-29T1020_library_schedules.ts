import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // What a library scan last saw of each movie folder: a folder whose fingerprint is unchanged is
  // not scanned again, so a re-scan of an unchanged 10,000-folder library enqueues nothing.
  await db.schema
    .createTable('library_folders')
    .addColumn('library_id', 'integer', (c) => c.notNull().references('libraries.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('library_folders_pk', ['library_id', 'path'])
    .execute();
  // Move detection looks a vanished movie up by IMDb id as well as TMDB id.
  await db.schema.createIndex('movies_imdb_idx').on('movies').columns(['library_id', 'imdb_id']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('movies_imdb_idx').ifExists().execute();
  await db.schema.dropTable('library_folders').ifExists().execute();
}
