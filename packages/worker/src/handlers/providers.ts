import {
  createFanartClient,
  createTmdbClient,
  DEFAULT_IMAGE_POLICY,
  downloadImage,
  type FanartClient,
  type MetarrConfig,
  type TmdbClient,
} from '@metarr/core';

/** Provider clients built from the validated config, once per config (their connection pools are reused). */
export interface Providers {
  tmdb: TmdbClient | null;
  fanart: FanartClient | null;
  download(url: string, signal?: AbortSignal): ReturnType<typeof downloadImage>;
}

const built = new WeakMap<MetarrConfig, Providers>();

/** fanart.tv serves its images from assets.fanart.tv; the configured API host is allowed for proxies and fakes. */
export function imageHosts(config: MetarrConfig): string[] {
  return [new URL(config.tmdbImageBaseUrl).host, new URL(config.fanartBaseUrl).host, 'assets.fanart.tv'];
}

export function providersFor(config: MetarrConfig): Providers {
  let p = built.get(config);
  if (!p) {
    const policy = { allowedHosts: imageHosts(config), ...DEFAULT_IMAGE_POLICY };
    p = {
      tmdb: config.tmdbApiKey
        ? createTmdbClient({ baseUrl: config.tmdbBaseUrl, apiKey: config.tmdbApiKey })
        : null,
      fanart: config.fanartApiKey
        ? createFanartClient({
            baseUrl: config.fanartBaseUrl,
            apiKey: config.fanartApiKey,
            ...(config.fanartClientKey && { clientKey: config.fanartClientKey }),
          })
        : null,
      download: (url, signal) => downloadImage(url, policy, signal ? { signal } : {}),
    };
    built.set(config, p);
  }
  return p;
}
