import { type Kysely, sql } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import type { Logger } from '../log.ts';
import * as initial from './migrations/2026-11-29T0900_initial.ts';
import * as playerGroupSettings from './migrations/2026-11-29T1000_player_group_settings.ts';
import * as metadata from './migrations/2026-11-29T1010_metadata.ts';
import * as librarySchedules from './migrations/2026-11-29T1020_library_schedules.ts';
import * as publishWriteAhead from './migrations/2026-11-29T1040_publish_write_ahead.ts';
import * as providerRequests from './migrations/2026-12-05T1000_provider_requests.ts';
import * as alerts from './migrations/2026-12-05T1100_alerts.ts';
import * as playerAudit from './migrations/2026-12-06T0100_player_audit.ts';
import * as moviePreviousTitle from './migrations/2026-12-06T0900_movie_previous_title.ts';
import * as artworkThumbnails from './migrations/2026-12-06T1000_artwork_thumbnails.ts';
import * as tv from './migrations/2026-12-06T1200_tv.ts';
import * as seriesPublishedSource from './migrations/2026-12-06T1300_series_published_source.ts';
import type { Database } from './schema.ts';

/** Every migration, in order. Names are frozen: a shipped name never changes. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-29T0900_initial': initial,
  '2026-11-29T1010_metadata': metadata,
  '2026-11-29T1000_player_group_settings': playerGroupSettings,
  '2026-11-29T1020_library_schedules': librarySchedules,
  '2026-11-29T1040_publish_write_ahead': publishWriteAhead,
  '2026-12-05T1000_provider_requests': providerRequests,
  '2026-12-05T1100_alerts': alerts,
  '2026-12-06T0100_player_audit': playerAudit,
  '2026-12-06T0900_movie_previous_title': moviePreviousTitle,
  '2026-12-06T1000_artwork_thumbnails': artworkThumbnails,
  '2026-12-06T1200_tv': tv,
  '2026-12-06T1300_series_published_source': seriesPublishedSource,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

// One arbitrary, fixed key: every Metarr process serialises its start-up schema work on it.
const MIGRATION_LOCK_KEY = 7_979_001;

/**
 * Applies pending migrations. Safe when an API and several workers start at the same instant:
 * the first to take the advisory lock migrates, the others wait and then find nothing to do.
 */
export async function migrateToLatest(db: Kysely<Database>, log: Logger): Promise<string[]> {
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
    try {
      const migrator = new Migrator({ db: conn, provider });
      const { error, results } = await migrator.migrateToLatest();
      const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      if (error) {
        log.error({ service: 'MigrationService', results }, 'Database migration failed');
        throw error instanceof Error ? error : new Error(String(error));
      }
      if (applied.length) log.info({ service: 'MigrationService', applied }, 'Database migrated');
      return applied;
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn);
    }
  });
}
