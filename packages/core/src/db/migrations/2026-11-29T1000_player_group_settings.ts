import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// Per-group notification settings: the coalescing window, whether deletes clean the Kodi library,
// and whether a scan waits for playback to stop.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('player_groups')
    .addColumn('debounce_seconds', 'integer', (c) =>
      c.notNull().defaultTo(10).check(sql`debounce_seconds between 0 and 3600`),
    )
    .addColumn('clean_after_delete', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('scan_while_playing', 'text', (c) =>
      c.notNull().defaultTo('defer').check(sql`scan_while_playing in ('defer', 'always')`),
    )
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('player_groups')
    .dropColumn('debounce_seconds')
    .dropColumn('clean_after_delete')
    .dropColumn('scan_while_playing')
    .execute();
}
