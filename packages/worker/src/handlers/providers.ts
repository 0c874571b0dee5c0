import {
  createFanartClient,
  createProviderSettingsReader,
  createTmdbClient,
  type Db,
  DEFAULT_IMAGE_POLICY,
  downloadImage,
  type FanartClient,
  type MetarrConfig,
  type ProviderSettings,
  type TmdbClient,
} from '@metarr/core';

/** Provider clients for the effective provider settings (environment, else what the API stored). */
export interface Providers {
  tmdb: TmdbClient | null;
  fanart: FanartClient | null;
  download(url: string, signal?: AbortSignal): ReturnType<typeof downloadImage>;
}

interface ProviderState {
  read: () => Promise<ProviderSettings>;
  built: { settings: ProviderSettings; providers: Providers } | null;
}

/**
 * Per database handle and validated config (both built once by the composition root): the settings
 * reader (a short TTL cache, see createProviderSettingsReader) and the clients of the last settings
 * seen. Only a cache: every process reads the settings from PostgreSQL itself.
 */
const states = new WeakMap<Db, WeakMap<MetarrConfig, ProviderState>>();

/** What the provider helpers need; `clock` (the worker's) times the settings TTL, so tests can move it. */
type ProviderStateDeps = { db: Db; config: MetarrConfig; clock?: () => Date };

function stateFor(deps: ProviderStateDeps): ProviderState {
  let byConfig = states.get(deps.db);
  if (!byConfig) {
    byConfig = new WeakMap();
    states.set(deps.db, byConfig);
  }
  let s = byConfig.get(deps.config);
  if (!s) {
    const { tmdbApiKey, fanartApiKey, fanartClientKey } = deps.config;
    const clock = deps.clock;
    s = {
      read: createProviderSettingsReader(
        { db: deps.db, ...(clock && { now: () => clock().getTime() }) },
        { tmdbApiKey, fanartApiKey, fanartClientKey },
      ),
      built: null,
    };
    byConfig.set(deps.config, s);
  }
  return s;
}

/**
 * The provider settings in force now: a key set or removed through `PUT /api/settings/providers`
 * applies within PROVIDER_SETTINGS_TTL_MS in every worker, without a restart. Handlers read this per
 * job instead of `deps.config.tmdbApiKey` (which holds the environment only).
 */
export function providerSettingsFor(deps: ProviderStateDeps): Promise<ProviderSettings> {
  return stateFor(deps).read();
}

/** fanart.tv serves its images from assets.fanart.tv; the configured API host is allowed for proxies and fakes. */
export function imageHosts(config: MetarrConfig): string[] {
  return [new URL(config.tmdbImageBaseUrl).host, new URL(config.fanartBaseUrl).host, 'assets.fanart.tv'];
}

/**
 * Clients for the settings in force now. They are rebuilt only when the effective settings change
 * (the reader keeps one object while they do not); the HTTP connection pools are undici's and
 * outlive the clients.
 */
export async function providersFor(deps: ProviderStateDeps): Promise<Providers> {
  const state = stateFor(deps);
  const settings = await state.read();
  if (state.built?.settings === settings) return state.built.providers;
  const config = deps.config;
  const policy = { allowedHosts: imageHosts(config), ...DEFAULT_IMAGE_POLICY };
  const timeoutMs = config.providerTimeoutSeconds * 1000;
  const providers: Providers = {
    tmdb: settings.tmdbApiKey
      ? createTmdbClient({ baseUrl: config.tmdbBaseUrl, apiKey: settings.tmdbApiKey, timeoutMs })
      : null,
    fanart: settings.fanartApiKey
      ? createFanartClient({
          baseUrl: config.fanartBaseUrl,
          apiKey: settings.fanartApiKey,
          timeoutMs,
          ...(settings.fanartClientKey && { clientKey: settings.fanartClientKey }),
        })
      : null,
    download: (url, signal) => downloadImage(url, policy, signal ? { signal } : {}),
  };
  state.built = { settings, providers };
  return providers;
}
