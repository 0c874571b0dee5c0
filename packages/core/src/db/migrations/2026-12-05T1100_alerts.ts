import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // Where alerts go: a generic webhook, Discord, ntfy or an Apprise API. `url` and `token` are
  // sealed secrets (secrets.ts): a Discord or webhook URL carries its token in the path.
  await db.schema
    .createTable('alert_channels')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type in ('webhook', 'discord', 'ntfy', 'apprise')`),
    )
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('token', 'text')
    .addColumn('topic', 'text')
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('events', sql`text[]`, (c) => c.notNull())
    .addColumn('unreachable_minutes', 'integer', (c) => c.notNull().defaultTo(10))
    .addColumn('digest_seconds', 'integer', (c) => c.notNull().defaultTo(60))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // What happened, recorded by the code path that saw it (durable before any delivery is tried).
  await db.schema
    .createTable('alert_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One row per event a channel is to receive; a delivery sends a channel's undelivered rows as one
  // digest and stamps them. `dedupe_key` makes "once per outage" events idempotent across workers.
  await db.schema
    .createTable('alert_outbox')
    .addColumn('channel_id', 'integer', (c) =>
      c.notNull().references('alert_channels.id').onDelete('cascade'),
    )
    .addColumn('event_id', 'bigint', (c) => c.notNull().references('alert_events.id').onDelete('cascade'))
    .addColumn('dedupe_key', 'text')
    .addColumn('delivered_at', 'timestamptz')
    .addPrimaryKeyConstraint('alert_outbox_pk', ['channel_id', 'event_id'])
    .execute();
  await sql`create unique index alert_outbox_dedupe on alert_outbox (channel_id, dedupe_key)
    where dedupe_key is not null`.execute(db);
  await sql`create index alert_outbox_pending on alert_outbox (channel_id, event_id)
    where delivered_at is null`.execute(db);
  // Since when each player has been unreachable (every worker's notify attempts agree through it).
  await db.schema
    .createTable('player_outages')
    .addColumn('player_id', 'integer', (c) => c.primaryKey().references('players.id').onDelete('cascade'))
    .addColumn('since', 'timestamptz', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('player_outages').ifExists().execute();
  await db.schema.dropTable('alert_outbox').ifExists().execute();
  await db.schema.dropTable('alert_events').ifExists().execute();
  await db.schema.dropTable('alert_channels').ifExists().execute();
}
