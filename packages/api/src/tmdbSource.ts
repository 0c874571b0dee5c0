/**
 * The TMDB client for the identify search, for the provider key in force now (the environment, else
 * the one stored through `PUT /api/settings/providers`, read with the same short TTL as the workers).
 * Built by the composition roots (main.ts, or a test's stack) and handed to the routes.
 */
import {
  createProviderSettingsReader,
  createTmdbClient,
  type Db,
  type MetarrConfig,
  type TmdbClient,
} from '@metarr/core';

export interface TmdbSource {
  /** null when no TMDB key is configured. */
  client(): Promise<TmdbClient | null>;
  imageBaseUrl: string;
  language: string;
}

export function createTmdbSource(
  db: Db,
  config: Pick<
    MetarrConfig,
    | 'tmdbApiKey'
    | 'fanartApiKey'
    | 'fanartClientKey'
    | 'tmdbBaseUrl'
    | 'tmdbImageBaseUrl'
    | 'metadataLanguage'
    | 'providerTimeoutSeconds'
  >,
): TmdbSource {
  const read = createProviderSettingsReader(
    { db },
    {
      tmdbApiKey: config.tmdbApiKey,
      fanartApiKey: config.fanartApiKey,
      fanartClientKey: config.fanartClientKey,
    },
  );
  let built: { key: string; client: TmdbClient } | null = null;
  return {
    imageBaseUrl: config.tmdbImageBaseUrl.replace(/\/+$/, ''),
    language: config.metadataLanguage,
    async client() {
      const key = (await read()).tmdbApiKey;
      if (!key) return null;
      if (built?.key !== key)
        built = {
          key,
          client: createTmdbClient({
            baseUrl: config.tmdbBaseUrl,
            apiKey: key,
            timeoutMs: config.providerTimeoutSeconds * 1000,
          }),
        };
      return built.client;
    },
  };
}
