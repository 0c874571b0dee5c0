import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // The image URL a published series file (artwork, an episode thumbnail) came from, as movies'
  // published_files keep it: an unchanged source whose file is still ours is never downloaded again.
  await db.schema.alterTable('series_published_files').addColumn('source_url', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('series_published_files').dropColumn('source_url').execute();
}
