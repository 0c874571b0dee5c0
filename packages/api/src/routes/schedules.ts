import {
  checkTimezone,
  readScheduleSettings,
  type ScheduleSettings,
  syncSchedules,
  writeScheduleSettings,
} from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const Cron = Type.String({ minLength: 9, maxLength: 200 });
const SchedulesBody = Type.Object(
  {
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    fileScan: Type.Optional(
      Type.Object(
        { cron: Type.Optional(Cron), enabled: Type.Optional(Type.Boolean()) },
        { minProperties: 1 },
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
          libraryId: Type.Integer({ minimum: 1 }),
          /** `null` returns the library to the default cron. */
          cron: Type.Optional(Type.Union([Cron, Type.Null()])),
          enabled: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
        }),
        { maxItems: 1000 },
      ),
    ),
  },
  { minProperties: 1 },
);

/** `GET/PUT /api/schedules`: the cron schedules of file scans (per library) and provider updates. */
export const scheduleRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
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
    const libraries = await db.selectFrom('libraries').select(['id', 'name', 'type']).orderBy('id').execute();
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

  app.get('/api/schedules', async () => view(await readScheduleSettings(db)));

  app.put('/api/schedules', { schema: { body: SchedulesBody } }, async (req) => {
    const b = req.body as Type.Static<typeof SchedulesBody>;
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
      const ids = [...new Set(b.libraries.map((l) => l.libraryId))];
      const found = await db.selectFrom('libraries').select('id').where('id', 'in', ids).execute();
      for (const [i, l] of b.libraries.entries()) {
        if (!found.some((f) => f.id === l.libraryId))
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
  });
};
