import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // Small copies of published images for a viewer's grid, made once per image and width. One row per
  // movie, type and width (replaced when the published image changes), so it never outgrows the
  // library; every API replica shares it.
  await db.schema
    .createTable('artwork_thumbnails')
    .addColumn('movie_id', 'integer', (c) => c.notNull().references('movies.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('source_hash', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('artwork_thumbnails_pk', ['movie_id', 'kind', 'width'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('artwork_thumbnails').execute();
}
