import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new file instead.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // The title a movie had before its last title change: players that search by name (Jellyfin/Emby,
  // Plex) still list the movie under it until they re-read the new NFO, so a refresh looks for both.
  // Kept by a trigger so every writer (enrichment, a user's edit, a scan) records it the same way.
  await db.schema.alterTable('movies').addColumn('previous_title', 'text').execute();
  await sql`
    create function movies_keep_previous_title() returns trigger language plpgsql as $$
    begin
      if old.title is not null and new.title is distinct from old.title then
        new.previous_title := old.title;
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger movies_keep_previous_title before update of title on movies
    for each row execute function movies_keep_previous_title()`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger movies_keep_previous_title on movies`.execute(db);
  await sql`drop function movies_keep_previous_title()`.execute(db);
  await db.schema.alterTable('movies').dropColumn('previous_title').execute();
}
