import os from 'node:os';
import Type, { type Static, type TSchema } from 'typebox';
import {
  type EnvGroup,
  type EnvMeta,
  LOG_LEVELS,
  MIN_API_KEY_LENGTH,
  MIN_SECRET_KEY_LENGTH,
  MIN_WEBHOOK_PASSWORD_LENGTH,
  weakApiKey,
} from './configRules.ts';

const env = (meta: EnvMeta) => ({ env: meta });
const httpUrl = { format: 'uri' } as const;
const http = (group: EnvGroup): EnvMeta => ({
  group,
  example: 'commented',
  protocols: ['http:', 'https:'],
  trimTrailingSlash: true,
});
/** Also the data directory of tools that read secrets before any config is loaded. */
export const DEFAULT_DATA_DIR = './.metarr';
const cpus = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

/**
 * Every environment variable Metarr or its compose file reads, declared once: the parser
 * (config.ts), `.env.example` and the README's table (`pnpm gen:env`) are all derived from this.
 * To add one: add a property here, map it in `loadConfig`, run `pnpm gen:env`.
 */
export const EnvSchema = Type.Object({
  // ── database
  DATABASE_URL: Type.Optional(
    Type.String({
      ...httpUrl,
      description: 'external PostgreSQL (≥ 13)',
      examples: ['postgres://metarr:metarr@postgres:5432/metarr'],
      ...env({
        group: 'database',
        example: 'commented',
        secret: true,
        protocols: ['postgres:', 'postgresql:'],
        defaultText: 'unset → embedded PostgreSQL',
        note: ['Unset outside compose → embedded PostgreSQL under METARR_DATA_DIR.'],
      }),
    }),
  ),
  POSTGRES_PASSWORD: Type.Optional(
    Type.String({
      default: 'metarr',
      examples: ['metarr'],
      description: 'docker compose only: password of the bundled PostgreSQL service',
      ...env({ group: 'database', example: 'set', secret: true, composeOnly: true }),
    }),
  ),
  METARR_DATA_DIR: Type.String({
    default: DEFAULT_DATA_DIR,
    description: 'embedded database data',
    ...env({ group: 'database', example: 'commented' }),
  }),
  METARR_SECRET_KEY: Type.Optional(
    Type.String({
      minLength: MIN_SECRET_KEY_LENGTH,
      description:
        'key (≥ 32 characters) that encrypts provider keys and player passwords in the database; back it up (see Security)',
      ...env({
        group: 'database',
        example: 'set',
        secret: true,
        trimForLength: true,
        hint: ' (for example: openssl rand -base64 32)',
        defaultText: 'unset → `<data dir>/secret.key`, generated on first start',
        note: [
          'Encrypts provider keys and player passwords in the database (≥ 32 characters, e.g. the output of',
          '`openssl rand -base64 32`). Required by docker compose; elsewhere unset → <data dir>/secret.key.',
          'Back it up: without it the stored secrets cannot be read.',
        ],
      }),
    }),
  ),
  METARR_DB_POOL_MAX: Type.Integer({
    minimum: 2,
    maximum: 100,
    default: 10,
    description: 'PostgreSQL connections per process pool',
    ...env({ group: 'database', example: 'commented' }),
  }),
  // ── API
  METARR_HOST: Type.String({
    default: '0.0.0.0',
    description: 'API listen address',
    ...env({ group: 'api', example: 'commented' }),
  }),
  METARR_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 7979,
    description: 'API listen port',
    ...env({ group: 'api', example: 'commented' }),
  }),
  METARR_BASE_PATH: Type.String({
    default: '',
    pattern: '^(/[A-Za-z0-9._~-]+)*$',
    description: 'URL prefix behind a reverse proxy, e.g. `/metarr`',
    examples: ['/metarr'],
    ...env({
      group: 'api',
      example: 'commented',
      pathPrefix: true,
      expected: 'a URL path like /metarr',
      defaultText: 'empty',
    }),
  }),
  METARR_TRUST_PROXY: Type.Optional(
    Type.Array(Type.String({ pattern: '^[0-9a-fA-F.:]+(/\\d{1,3})?$' }), {
      description: 'comma list of proxy IPs/CIDRs whose `X-Forwarded-*` headers are honoured',
      examples: ['172.30.79.10'],
      ...env({
        group: 'api',
        example: 'commented',
        separator: ',',
        expected: 'IP addresses or CIDRs',
        note: [
          "Only your reverse proxy's own address (compose gives its proxy a fixed one), never a whole range.",
        ],
      }),
    }),
  ),
  METARR_PUBLIC_URL: Type.Optional(
    Type.String({
      ...httpUrl,
      description:
        'the address browsers use (e.g. `https://example.org/metarr`); a WebSocket `Origin` must name it or the `Host` Metarr received (never `X-Forwarded-Host`)',
      examples: ['https://example.org/metarr'],
      ...env({
        ...http('api'),
        note: ['The address browsers use, when a proxy changes the Host header (WebSocket Origin check).'],
      }),
    }),
  ),
  METARR_MEDIA_ROOTS: Type.Optional(
    Type.Array(Type.String({ pattern: '^(?!(.*/)?\\.\\.(/|$))/' }), {
      description:
        'colon- or comma-separated absolute directories a library must be inside (compose sets the mounted media); `/etc`, `/root`, `/proc`, `/usr`… are refused always',
      examples: ['/data/media'],
      ...env({
        group: 'api',
        example: 'commented',
        separator: '[:,]',
        expected: 'absolute paths',
        defaultText: 'unset → anywhere but system directories',
        note: [
          'Libraries must be inside these (colon- or comma-separated); system directories are always refused.',
        ],
      }),
    }),
  ),
  METARR_API_KEY: Type.Optional(
    Type.String({
      minLength: MIN_API_KEY_LENGTH,
      description: 'key for the REST API, WebSocket and webhooks; ≥ 32 characters, placeholders refused',
      ...env({
        group: 'api',
        example: 'set',
        secret: true,
        check: weakApiKey,
        defaultText: 'generated on first start, stored hashed',
        note: [
          'Required by compose: at least 32 random characters, e.g. `openssl rand -hex 32`. Placeholders are refused.',
        ],
      }),
    }),
  ),
  METARR_WEBHOOK_USERNAME: Type.Optional(
    Type.String({
      description:
        'optional HTTP Basic user name accepted on webhook routes (set together with `METARR_WEBHOOK_PASSWORD`)',
      ...env({ group: 'api', example: 'commented', pairedWith: 'METARR_WEBHOOK_PASSWORD' }),
    }),
  ),
  METARR_WEBHOOK_PASSWORD: Type.Optional(
    Type.String({
      minLength: MIN_WEBHOOK_PASSWORD_LENGTH,
      description: 'optional HTTP Basic password accepted on webhook routes (≥ 12 characters)',
      ...env({ group: 'api', example: 'commented', secret: true }),
    }),
  ),
  METARR_JOB_RETENTION_DAYS: Type.Integer({
    minimum: 1,
    maximum: 3650,
    default: 14,
    description: 'finished jobs (completed, failed, cancelled) are deleted after this many days',
    ...env({ group: 'api', example: 'commented' }),
  }),
  // ── workers
  METARR_WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 256,
    default: Math.min(16, cpus * 4),
    description: 'jobs of one type a worker runs at once',
    examples: [8],
    ...env({ group: 'workers', example: 'commented', defaultText: '4 × CPUs (max 16)' }),
  }),
  METARR_SHUTDOWN_GRACE_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 3600,
    default: 30,
    description:
      'on SIGTERM a worker stops fetching and lets in-flight jobs finish this long; the rest are failed and retried by another worker',
    ...env({ group: 'workers', example: 'commented' }),
  }),
  METARR_NOTIFY_RETRY_DELAY_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 10,
    description:
      'first retry delay of a failed media-server notification (5xx, reset, timeout); doubles with jitter per attempt, up to 15 min, 5 retries',
    ...env({ group: 'workers', example: 'commented' }),
  }),
  METARR_ALERT_RETRY_DELAY_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description:
      'first retry delay of a failed alert delivery (5xx, timeout, no connection); doubles with jitter per attempt, up to 30 min, 8 retries',
    ...env({ group: 'workers', example: 'commented' }),
  }),
  METARR_NOTIFY_DEFER_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 60,
    description:
      'while a Kodi plays a video, its scan waits this long before checking again (groups with `scanWhilePlaying: "defer"`; at most 6 h in all)',
    ...env({ group: 'workers', example: 'commented' }),
  }),
  METARR_PLAYER_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 300,
    default: 10,
    description:
      'how long one call to a media player may take (1–300); a timeout fails the notification as `PLAYER_TIMEOUT` and it is retried',
    ...env({ group: 'workers', example: 'commented' }),
  }),
  // ── metadata providers
  TMDB_API_KEY: Type.Optional(
    Type.String({
      description: 'TMDB API key',
      ...env({
        group: 'providers',
        example: 'commented',
        secret: true,
        defaultText: 'unset → enrichment skipped, pipeline goes scan → notify',
      }),
    }),
  ),
  FANART_API_KEY: Type.Optional(
    Type.String({
      description: 'fanart.tv project API key',
      ...env({
        group: 'providers',
        example: 'commented',
        secret: true,
        defaultText: 'unset → enrichment skipped, pipeline goes scan → notify',
      }),
    }),
  ),
  FANART_CLIENT_KEY: Type.Optional(
    Type.String({
      description: 'optional personal fanart.tv key, sent as `client_key`',
      ...env({ group: 'providers', example: 'commented', secret: true }),
    }),
  ),
  METARR_TMDB_BASE_URL: Type.String({
    ...httpUrl,
    default: 'https://api.themoviedb.org/3',
    description: 'TMDB API root',
    ...env(http('providers')),
  }),
  METARR_TMDB_IMAGE_BASE_URL: Type.String({
    ...httpUrl,
    default: 'https://image.tmdb.org/t/p',
    description: 'TMDB image root',
    ...env(http('providers')),
  }),
  METARR_FANART_BASE_URL: Type.String({
    ...httpUrl,
    default: 'https://webservice.fanart.tv/v3',
    description: 'fanart.tv API root',
    ...env(http('providers')),
  }),
  METARR_METADATA_LANGUAGE: Type.String({
    pattern: '^[a-z]{2}$',
    default: 'en',
    description:
      'ISO 639-1 language for metadata and preferred artwork (TMDB `include_image_language=<lang>,null`)',
    ...env({ group: 'providers', example: 'commented', expected: 'a two-letter ISO 639-1 code like en' }),
  }),
  METARR_CERTIFICATION_COUNTRY: Type.String({
    pattern: '^[A-Z]{2}$',
    default: 'US',
    description:
      "ISO 3166-1 country whose certification (from TMDB `release_dates`) becomes the NFO's `mpaa`",
    ...env({ group: 'providers', example: 'commented', expected: 'a two-letter ISO 3166-1 code like US' }),
  }),
  METARR_PROVIDER_CACHE_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 365 * 86_400,
    default: 7 * 86_400,
    description: 'how long TMDB/fanart.tv responses stay fresh in the shared PostgreSQL cache',
    ...env({ group: 'providers', example: 'commented', defaultText: '`604800` (7 days)' }),
  }),
  METARR_PLACEHOLDER_RECHECK_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 30 * 86_400,
    default: 21_600,
    description:
      'how long after an episode aired TMDB is first asked again for its placeholder title/plot/still; each next recheck waits twice as long',
    ...env({ group: 'providers', example: 'commented', defaultText: '`21600` (6 h)' }),
  }),
  METARR_TMDB_RATE_LIMIT: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 40,
    description: 'TMDB requests per second across all workers (one DB-backed limiter)',
    ...env({ group: 'providers', example: 'commented' }),
  }),
  METARR_PROVIDER_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 300,
    default: 15,
    description:
      'how long one call to TMDB or fanart.tv may take (1–300); a timeout is retried (`PROVIDER_TIMEOUT`)',
    ...env({ group: 'providers', example: 'commented' }),
  }),
  METARR_WRITE_MOVIE_NFO: Type.Boolean({
    default: false,
    description: 'also write `movie.nfo` next to `<video>.nfo`',
    ...env({ group: 'providers', example: 'commented' }),
  }),
  // ── logging
  LOG_LEVEL: Type.Enum([...LOG_LEVELS], {
    default: 'info',
    description: 'pino level',
    ...env({ group: 'logging', example: 'commented' }),
  }),
  LOG_FORMAT: Type.Optional(
    Type.Enum(['json', 'pretty'], {
      description: 'log line format; unset: human-readable when stdout is a terminal, JSON otherwise',
      ...env({
        group: 'logging',
        example: 'commented',
        defaultText: 'auto (`pretty` on a TTY, else `json`)',
      }),
    }),
  ),
  // ── compose only
  MEDIA_ROOT: Type.Optional(
    Type.String({
      default: './media',
      description: 'docker compose only: host directory mounted as `/data/media` in the API and workers',
      ...env({ group: 'compose', example: 'set', composeOnly: true }),
    }),
  ),
});

export type EnvValues = Static<typeof EnvSchema>;
export type EnvName = keyof EnvValues & string;

/** One declared variable: its name, JSON Schema and Metarr's keywords. */
export interface EnvVariable {
  name: EnvName;
  schema: TSchema & Record<string, unknown>;
  meta: EnvMeta;
}

/** The declared variables in declaration order. */
export function envVariables(): EnvVariable[] {
  return Object.entries(EnvSchema.properties).map(([name, schema]) => ({
    name: name as EnvName,
    schema: schema as unknown as TSchema & Record<string, unknown>,
    meta: (schema as unknown as { env: EnvMeta }).env,
  }));
}
