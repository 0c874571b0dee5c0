import {
  checkTimezone,
  DEFAULT_SCHEDULES,
  listLibraries,
  missingLibraries,
  readScheduleSettings,
  type ScheduleSettings,
  syncSchedules,
  writeScheduleSettings,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { DbId, Nullable, Timestamp } from '../schemas.ts';

const tags: Tag[] = ['Schedules'];

const Cron = Type.String({
  minLength: 9,
  maxLength: 200,
  description: 'Five-field cron expression, read in `timezone`',
  examples: ['0 */6 * * *'],
});
const NextRun = Nullable(Timestamp({ description: 'The next occurrence; `null` when disabled' }));

const Schedules = Type.Object({
  timezone: Type.String({ default: DEFAULT_SCHEDULES.timezone, examples: ['Europe/Berlin'] }),
  fileScan: Type.Object(
    {
      cron: Type.String({ default: DEFAULT_SCHEDULES.fileScan.cron }),
      enabled: Type.Boolean({ default: DEFAULT_SCHEDULES.fileScan.enabled }),
      nextRun: NextRun,
    },
    { description: 'The default file-scan schedule of every movie library' },
  ),
  providerUpdate: Type.Object(
    {
      cron: Type.String({ default: DEFAULT_SCHEDULES.providerUpdate.cron }),
      enabled: Type.Boolean({ default: DEFAULT_SCHEDULES.providerUpdate.enabled }),
      staleAfterDays: Type.Integer({ default: DEFAULT_SCHEDULES.providerUpdate.staleAfterDays }),
      nextRun: NextRun,
    },
    { description: 'Re-reading provider data of movies not refreshed for `staleAfterDays`' },
  ),
  libraries: Type.Array(
    Type.Object({
      libraryId: Type.Integer(),
      name: Type.String(),
      cron: Type.String(),
      enabled: Type.Boolean(),
      custom: Type.Boolean({ description: 'The library has its own cron' }),
      nextRun: NextRun,
    }),
    { description: 'Each movie library with its effective file-scan schedule' },
  ),
});
const SchedulesBody = Type.Object(
  {
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'IANA time zone',
        examples: ['Europe/Berlin'],
      }),
    ),
    fileScan: Type.Optional(
      Type.Object(
        { cron: Type.Optional(Cron), enabled: Type.Optional(Type.Boolean()) },
        { minProperties: 1, description: 'The default file-scan schedule of every movie library' },
      ),
    ),
    providerUpdate: Type.Optional(
      Type.Object(
        {
          cron: Type.Optional(Cron),
          enabled: Type.Optional(Type.Boolean()),
          staleAfterDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        },
        { minProperties: 1 },
      ),
    ),
    libraries: Type.Optional(
      Type.Array(
        Type.Object({
          libraryId: DbId(),
          cron: Type.Optional(
            Nullable(Cron, { description: '`null` returns the library to the default cron' }),
          ),
          enabled: Type.Optional(Nullable(Type.Boolean({ description: '`null` follows the default' }))),
        }),
        { maxItems: 1000, description: 'Per-library overrides of the file-scan schedule' },
      ),
    ),
  },
  { minProperties: 1 },
);

/** `GET/PUT /api/schedules`: the cron schedules of file scans (per library) and provider updates. */
export const scheduleRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  const checkCron = (field: string, cron: string, tz: string) => {
    try {
      // pg-boss's own parser: whatever it accepts here it will run.
      deps.boss.previewSchedule(cron, { tz, count: 1 });
    } catch (err) {
      throw httpError(400, `${field} is not a valid cron expression: ${(err as Error).message}`);
    }
  };

  async function view(settings: ScheduleSettings) {
    const libraries = await listLibraries(db);
    const next = (cron: string, enabled: boolean) =>
      enabled ? (deps.boss.previewSchedule(cron, { tz: settings.timezone, count: 1 })[0] ?? null) : null;
    return {
      timezone: settings.timezone,
      fileScan: { ...settings.fileScan, nextRun: next(settings.fileScan.cron, settings.fileScan.enabled) },
      providerUpdate: {
        ...settings.providerUpdate,
        nextRun: next(settings.providerUpdate.cron, settings.providerUpdate.enabled),
      },
      libraries: libraries
        .filter((l) => l.type === 'movie')
        .map((l) => {
          const own = settings.libraries[String(l.id)] ?? {};
          const cron = own.cron ?? settings.fileScan.cron;
          const enabled = own.enabled ?? settings.fileScan.enabled;
          return {
            libraryId: l.id,
            name: l.name,
            cron,
            enabled,
            custom: own.cron !== undefined,
            nextRun: next(cron, enabled),
          };
        }),
    };
  }

  app.get(
    '/api/schedules',
    { schema: { tags, summary: 'Get the schedules', response: { 200: Schedules } } },
    async () => view(await readScheduleSettings(db)),
  );

  app.put(
    '/api/schedules',
    {
      schema: {
        tags,
        summary: 'Change the schedules',
        description:
          'Only the fields given change. A cron expression is checked by the scheduler that will run it; ' +
          'the pg-boss schedules follow at once.',
        body: SchedulesBody,
        response: { 200: Schedules },
      },
    },
    async (req) => {
      const b = req.body;
      const s = await readScheduleSettings(db);
      if (b.timezone !== undefined) {
        const problem = checkTimezone(b.timezone);
        if (problem) throw httpError(400, `body/timezone ${problem}`);
        s.timezone = b.timezone;
      }
      if (b.fileScan?.cron !== undefined) checkCron('body/fileScan/cron', b.fileScan.cron, s.timezone);
      if (b.providerUpdate?.cron !== undefined)
        checkCron('body/providerUpdate/cron', b.providerUpdate.cron, s.timezone);
      s.fileScan = { ...s.fileScan, ...b.fileScan };
      s.providerUpdate = { ...s.providerUpdate, ...b.providerUpdate };
      if (b.libraries?.length) {
        const missing = new Set(
          await missingLibraries(db, [...new Set(b.libraries.map((l) => l.libraryId))]),
        );
        for (const [i, l] of b.libraries.entries()) {
          if (missing.has(l.libraryId))
            throw httpError(400, `body/libraries/${i}/libraryId refers to unknown library ${l.libraryId}`);
          if (typeof l.cron === 'string') checkCron(`body/libraries/${i}/cron`, l.cron, s.timezone);
          const own = { ...s.libraries[String(l.libraryId)] };
          if (l.cron === null) delete own.cron;
          else if (l.cron !== undefined) own.cron = l.cron;
          if (l.enabled === null) delete own.enabled;
          else if (l.enabled !== undefined) own.enabled = l.enabled;
          if (Object.keys(own).length) s.libraries[String(l.libraryId)] = own;
          else delete s.libraries[String(l.libraryId)];
        }
      }
      await writeScheduleSettings(db, s);
      await syncSchedules({ db, boss: deps.boss, log: deps.log });
      return view(s);
    },
  );
};
