import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // Monotonic counters of provider API requests per provider and outcome, shared by every worker so
  // one scrape of any API replica sees them all. A counter table rather than job outputs: pg-boss
  // deletes old jobs, and a Prometheus counter must never go down.
  await db.schema
    .createTable('provider_request_counts')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('provider_request_counts_pk', ['provider', 'status'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('provider_request_counts').execute();
}
