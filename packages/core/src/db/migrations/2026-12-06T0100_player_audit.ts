import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // One row per audit of a player (issue 16): its state and the counts per kind of drift.
  await db.schema
    .createTable('player_audits')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('player_id', 'integer', (c) => c.notNull().references('players.id').onDelete('cascade'))
    .addColumn('job_id', 'text')
    .addColumn('repair', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'done', 'failed')`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('player_items', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('matched', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('outside', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('missing', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('gone', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicate', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('stale', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('stale_checked', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('notes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('error', 'text')
    .execute();
  await sql`create index player_audits_player on player_audits (player_id, id desc)`.execute(db);
  // What an audit saw of the player's library, page by page: the scratch table "missing" and
  // "duplicate" are computed from in SQL, so no audit holds a library in memory. Emptied at the end.
  await db.schema
    .createTable('player_audit_items')
    .addColumn('audit_id', 'integer', (c) => c.notNull().references('player_audits.id').onDelete('cascade'))
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('player_path', 'text', (c) => c.notNull())
    .addColumn('metarr_path', 'text')
    .addColumn('library_id', 'integer')
    .addColumn('movie_id', 'integer')
    .addColumn('is_video', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_at', 'timestamptz')
    .execute();
  await sql`create index player_audit_items_movie on player_audit_items (audit_id, movie_id)`.execute(db);
  // The findings, one row each, read back in pages.
  await db.schema
    .createTable('player_audit_findings')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('audit_id', 'integer', (c) => c.notNull().references('player_audits.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('missing', 'gone', 'duplicate', 'stale')`),
    )
    .addColumn('movie_id', 'integer')
    .addColumn('library_id', 'integer')
    .addColumn('item_id', 'text')
    .addColumn('player_path', 'text')
    .addColumn('metarr_path', 'text')
    .addColumn('keep_item_id', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await sql`create index player_audit_findings_audit on player_audit_findings (audit_id, id)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('player_audit_findings').ifExists().execute();
  await db.schema.dropTable('player_audit_items').ifExists().execute();
  await db.schema.dropTable('player_audits').ifExists().execute();
}
