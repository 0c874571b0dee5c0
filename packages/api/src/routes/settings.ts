import { readProviderSettings, rotateApiKey, writeProviderKeys } from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { failure, Nullable, StringEnum } from '../schemas.ts';

const tags: Tag[] = ['Settings'];

const Key = (description: string) =>
  Nullable(Type.String({ minLength: 8, maxLength: 512, pattern: '^[A-Za-z0-9._-]+$' }), {
    description: `${description}; \`null\` removes the stored key`,
  });
const ProvidersBody = Type.Object(
  {
    tmdbApiKey: Type.Optional(Key('TMDB API key (v3)')),
    fanartApiKey: Type.Optional(Key('fanart.tv project API key')),
  },
  { minProperties: 1, additionalProperties: false },
);

const KeyState = Type.Object({
  configured: Type.Boolean(),
  source: Nullable(StringEnum(['environment', 'database']), {
    description: 'Where the key in use comes from; the environment wins',
  }),
  masked: Nullable(Type.String({ description: 'The last 4 characters', examples: ['••••abcd'] })),
});
const Providers = Type.Object({ tmdb: KeyState, fanart: KeyState });

/** Keys are write-only: a read shows whether one is set, where from, and its last 4 characters. */
function mask(value: string | undefined): string | null {
  return value ? `••••${value.slice(-4)}` : null;
}

export const settingsRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;
  const env = { tmdbApiKey: deps.config.tmdbApiKey, fanartApiKey: deps.config.fanartApiKey };

  async function view() {
    const eff = await readProviderSettings(db, env);
    const one = (envValue: string | undefined, value: string | undefined) => ({
      configured: Boolean(value),
      source: envValue ? ('environment' as const) : value ? ('database' as const) : null,
      masked: mask(value),
    });
    return { tmdb: one(env.tmdbApiKey, eff.tmdbApiKey), fanart: one(env.fanartApiKey, eff.fanartApiKey) };
  }

  app.get(
    '/api/settings/providers',
    { schema: { tags, summary: 'Get the provider keys (masked)', response: { 200: Providers } } },
    async () => view(),
  );

  app.put(
    '/api/settings/providers',
    {
      schema: {
        tags,
        summary: 'Set or remove provider keys',
        description:
          'Stored keys reach every worker within 2 s, without a restart. A key set in the environment wins over a stored one.',
        body: ProvidersBody,
        response: { 200: Providers },
      },
    },
    async (req) => {
      await writeProviderKeys(db, req.body);
      deps.log.info({ service: 'SettingsService', changed: Object.keys(req.body) }, 'Provider keys updated');
      return view();
    },
  );

  app.post(
    '/api/settings/api-key/rotate',
    {
      schema: {
        tags,
        summary: 'Issue a new API key',
        description:
          'The new key is returned once (only its hash is stored); the old key stops working at once on every API replica.',
        response: {
          200: Type.Object({ apiKey: Type.String({ description: 'The new key; shown only here' }) }),
          409: failure('The key is fixed by METARR_API_KEY: change it there'),
        },
      },
    },
    async () => {
      if (deps.auth.apiKey)
        throw httpError(409, 'the API key is fixed by METARR_API_KEY: change it there and restart');
      const apiKey = await rotateApiKey(db);
      deps.log.info({ service: 'SettingsService' }, 'API key rotated');
      return { apiKey };
    },
  );
};
