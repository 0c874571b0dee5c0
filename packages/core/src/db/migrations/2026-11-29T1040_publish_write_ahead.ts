import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // Publish's write-ahead record: before a file is written its planned hash (and source) is stored
  // here, so a publish killed between the rename and the final record still knows the file is ours.
  // `content_hash` stays the last confirmed write until the publish completes and clears these.
  await db.schema
    .alterTable('movie_published_files')
    .addColumn('pending_hash', 'text')
    .addColumn('pending_source_url', 'text')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('movie_published_files')
    .dropColumn('pending_source_url')
    .dropColumn('pending_hash')
    .execute();
}
