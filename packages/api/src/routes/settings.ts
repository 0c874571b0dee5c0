import { readProviderSettings } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';

const Key = Type.Union([
  Type.String({ minLength: 8, maxLength: 512, pattern: '^[A-Za-z0-9._-]+$' }),
  Type.Null(),
]);
const ProvidersBody = Type.Object(
  { tmdbApiKey: Type.Optional(Key), fanartApiKey: Type.Optional(Key) },
  { minProperties: 1, additionalProperties: false },
);

/** Keys are write-only: a read shows whether one is set, where from, and its last 4 characters. */
function mask(value: string | undefined): string | null {
  return value ? `••••${value.slice(-4)}` : null;
}

export const settingsRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const db = deps.db;
  const env = { tmdbApiKey: deps.config.tmdbApiKey, fanartApiKey: deps.config.fanartApiKey };

  async function view() {
    const eff = await readProviderSettings(db, env);
    const one = (envValue: string | undefined, value: string | undefined) => ({
      configured: Boolean(value),
      source: envValue ? 'environment' : value ? 'database' : null,
      masked: mask(value),
    });
    return { tmdb: one(env.tmdbApiKey, eff.tmdbApiKey), fanart: one(env.fanartApiKey, eff.fanartApiKey) };
  }

  app.get('/api/settings/providers', async () => view());

  app.put('/api/settings/providers', { schema: { body: ProvidersBody } }, async (req) => {
    const b = req.body as Type.Static<typeof ProvidersBody>;
    for (const [field, key] of [
      ['tmdbApiKey', 'tmdb_api_key'],
      ['fanartApiKey', 'fanart_api_key'],
    ] as const) {
      const value = b[field];
      if (value === undefined) continue;
      if (value === null) await db.deleteFrom('settings').where('key', '=', key).execute();
      else
        await db
          .insertInto('settings')
          .values({ key, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: new Date() }))
          .execute();
    }
    deps.log.info({ service: 'SettingsService', changed: Object.keys(b) }, 'Provider keys updated');
    return view();
  });
};
