import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/connect.ts';
import { type JobEnvelope, toBossPriority } from '../jobs/catalog.ts';
import type { Logger } from '../log.ts';

/**
 * ScheduleService — the user's schedule settings live in `settings` (key `schedules`); pg-boss's
 * own schedule table is derived from them by `syncSchedules`, which any process may run at any
 * time (worker start, a library added or removed, `PUT /api/schedules`): it converges on the same
 * rows. pg-boss sends each cron occurrence once across every instance, so N workers → one run.
 */

export interface ScheduleSettings {
  /** IANA zone the cron expressions are read in. */
  timezone: string;
  fileScan: { cron: string; enabled: boolean };
  providerUpdate: { cron: string; enabled: boolean; staleAfterDays: number };
  /** Per-library overrides of `fileScan`, keyed by library id. */
  libraries: Record<string, { cron?: string; enabled?: boolean }>;
}

export const DEFAULT_SCHEDULES: ScheduleSettings = {
  timezone: 'UTC',
  fileScan: { cron: '0 */6 * * *', enabled: true },
  providerUpdate: { cron: '0 3 * * 0', enabled: true, staleAfterDays: 30 },
  libraries: {},
};

const SETTINGS_KEY = 'schedules';
export const FILE_SCAN_SCHEDULE = 'scheduled-file-scan';
export const PROVIDER_UPDATE_SCHEDULE = 'scheduled-provider-update';

export async function readScheduleSettings(db: Db): Promise<ScheduleSettings> {
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', SETTINGS_KEY)
    .executeTakeFirst();
  if (!row) return structuredClone(DEFAULT_SCHEDULES);
  const stored = JSON.parse(row.value) as Partial<ScheduleSettings>;
  return {
    timezone: stored.timezone ?? DEFAULT_SCHEDULES.timezone,
    fileScan: { ...DEFAULT_SCHEDULES.fileScan, ...stored.fileScan },
    providerUpdate: { ...DEFAULT_SCHEDULES.providerUpdate, ...stored.providerUpdate },
    libraries: stored.libraries ?? {},
  };
}

export async function writeScheduleSettings(db: Db, settings: ScheduleSettings): Promise<void> {
  const value = JSON.stringify(settings);
  await db
    .insertInto('settings')
    .values({ key: SETTINGS_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: new Date() }))
    .execute();
}

/** `null` when the zone is a real IANA zone, else why not. */
export function checkTimezone(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    return `must be an IANA time zone like Europe/Berlin (got "${tz}")`;
  }
}

export interface DesiredSchedule {
  name: typeof FILE_SCAN_SCHEDULE | typeof PROVIDER_UPDATE_SCHEDULE;
  key: string;
  cron: string;
  tz: string;
  data: JobEnvelope;
}

export function desiredSchedules(settings: ScheduleSettings, libraryIds: number[]): DesiredSchedule[] {
  const out: DesiredSchedule[] = [];
  for (const id of libraryIds) {
    const own = settings.libraries[String(id)] ?? {};
    if (!(own.enabled ?? settings.fileScan.enabled)) continue;
    out.push({
      name: FILE_SCAN_SCHEDULE,
      key: `library-${id}`,
      cron: own.cron ?? settings.fileScan.cron,
      tz: settings.timezone,
      data: { payload: { libraryId: id }, parentId: null },
    });
  }
  if (settings.providerUpdate.enabled) {
    out.push({
      name: PROVIDER_UPDATE_SCHEDULE,
      key: 'all',
      cron: settings.providerUpdate.cron,
      tz: settings.timezone,
      data: { payload: {}, parentId: null },
    });
  }
  return out;
}

/** Makes pg-boss's schedules match the settings and libraries. Idempotent; safe to run concurrently. */
export async function syncSchedules(deps: { db: Db; boss: PgBoss; log: Logger }): Promise<DesiredSchedule[]> {
  const log = deps.log.child({ service: 'ScheduleService' });
  const [settings, libraries] = await Promise.all([
    readScheduleSettings(deps.db),
    deps.db.selectFrom('libraries').select('id').where('type', '=', 'movie').orderBy('id').execute(),
  ]);
  const desired = desiredSchedules(
    settings,
    libraries.map((l) => l.id),
  );
  const existing = [
    ...(await deps.boss.getSchedules(FILE_SCAN_SCHEDULE)),
    ...(await deps.boss.getSchedules(PROVIDER_UPDATE_SCHEDULE)),
  ];
  const want = new Set(desired.map((d) => `${d.name}\u0000${d.key}`));
  for (const s of existing) {
    if (!want.has(`${s.name}\u0000${s.key}`)) await deps.boss.unschedule(s.name, s.key);
  }
  for (const d of desired) {
    const same = existing.find(
      (s) => s.name === d.name && s.key === d.key && s.cron === d.cron && s.timezone === d.tz,
    );
    if (same) continue;
    await deps.boss.schedule(d.name, d.cron, d.data, {
      tz: d.tz,
      key: d.key,
      priority: toBossPriority(9),
    });
  }
  log.info(
    { schedules: desired.map((d) => ({ name: d.name, key: d.key, cron: d.cron, tz: d.tz })) },
    'Schedules synced',
  );
  return desired;
}

/** Movies whose provider data is older than the cutoff (or that never got any and were scanned before it). */
export async function findStaleMovies(db: Db, cutoff: Date, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('movies')
    .leftJoin('movie_metadata', 'movie_metadata.movie_id', 'movies.id')
    .select('movies.id')
    .where('movies.status', '=', 'present')
    .where((eb) =>
      eb.or([
        eb('movie_metadata.updated_at', '<', cutoff),
        eb.and([
          eb('movie_metadata.movie_id', 'is', null),
          eb(eb.fn.coalesce('movies.last_scanned_at', 'movies.created_at'), '<', cutoff),
        ]),
      ]),
    )
    .orderBy('movies.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
