import os from 'node:os';
import path from 'node:path';

/** Validated environment. Every bad variable is reported at once, never one per restart. */
export interface MetarrConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  basePath: string;
  trustProxy: string[] | undefined;
  /** The address browsers use to reach Metarr (`METARR_PUBLIC_URL`), for checking WebSocket Origin behind a proxy. */
  publicUrl: string | undefined;
  /** Absolute directories libraries must be inside (`METARR_MEDIA_ROOTS`); unset → anywhere but system directories. */
  mediaRoots: string[] | undefined;
  apiKey: string | undefined;
  /** Key material for secrets at rest; unset: `<dataDir>/secret.key`, generated on first start. */
  secretKey: string | undefined;
  webhookUsername: string | undefined;
  webhookPassword: string | undefined;
  workerConcurrency: number;
  tmdbApiKey: string | undefined;
  fanartApiKey: string | undefined;
  tmdbBaseUrl: string;
  tmdbImageBaseUrl: string;
  fanartBaseUrl: string;
  /** Personal fanart.tv key, sent as `client_key` with the project key. */
  fanartClientKey: string | undefined;
  /** ISO 639-1 language for metadata and preferred artwork. */
  metadataLanguage: string;
  /** ISO 3166-1 country whose certification goes into the NFO. */
  certificationCountry: string;
  /** How long provider responses stay fresh in the shared cache. */
  providerCacheTtlSeconds: number;
  /** TMDB requests per second across all workers. */
  tmdbRateLimit: number;
  /** Also write `movie.nfo` next to `<video>.nfo` (for tools that only read that name). */
  writeMovieNfo: boolean;
  logLevel: string;
  dbPoolMax: number;
  /** Finished jobs (completed, failed, cancelled) are deleted after this many days. */
  jobRetentionDays: number;
  /** How long a stopping worker lets in-flight jobs finish before they are failed for retry elsewhere. */
  shutdownGraceSeconds: number;
  /** First retry delay of a failed player notification (doubled with jitter per attempt). */
  notifyRetryDelaySeconds: number;
  /** How long a Kodi scan waits while something is playing before it checks again. */
  notifyDeferSeconds: number;
  /** How long one call to a media player may take before it fails as PLAYER_TIMEOUT (retried). */
  playerTimeoutSeconds: number;
  /** How long one call to TMDB or fanart.tv may take before it fails as PROVIDER_TIMEOUT (retried). */
  providerTimeoutSeconds: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const MIN_API_KEY_LENGTH = 32;
export const MIN_WEBHOOK_PASSWORD_LENGTH = 12;

/** Values copied from examples and docs: anyone who read the same page knows them. */
const PLACEHOLDER_KEY =
  /^(change[-_ ]?me.*|changeit|replace[-_ ]?me.*|your[-_ ]?api[-_ ]?key.*|api[-_ ]?key|secret|password|metarr|x+|test|example.*)$/i;

/** Why a configured API key is unusable, or null. The key guards every admin route, so a guessable one is refused. */
export function weakApiKey(key: string): string | null {
  if (PLACEHOLDER_KEY.test(key.trim()))
    return 'is a placeholder from an example: set a random key (e.g. `openssl rand -hex 32`)';
  if (key.length < MIN_API_KEY_LENGTH)
    return `must be at least ${MIN_API_KEY_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`;
  if (new Set(key).size < 8) return 'has too few distinct characters to be random';
  return null;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MetarrConfig {
  const problems: string[] = [];
  const str = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
  const url = (name: string, def: string, protocols: string[]) => {
    const raw = str(name) ?? def;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return raw.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')} URL (got "${raw}")`);
      return def;
    }
  };

  const code = (name: string, def: string, re: RegExp, what: string) => {
    const raw = str(name) ?? def;
    if (re.test(raw)) return raw;
    problems.push(`${name} must be ${what} (got "${raw}")`);
    return def;
  };

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== undefined) url('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);

  let basePath = str('METARR_BASE_PATH') ?? '';
  if (basePath) {
    basePath = `/${basePath.replace(/^\/+|\/+$/g, '')}`;
    if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) {
      problems.push(`METARR_BASE_PATH must be a URL path like /metarr (got "${env.METARR_BASE_PATH}")`);
      basePath = '';
    }
  }

  const trustRaw = str('METARR_TRUST_PROXY');
  const trustProxy = trustRaw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of trustProxy ?? []) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(entry)) {
      problems.push(`METARR_TRUST_PROXY entries must be IP addresses or CIDRs (got "${entry}")`);
    }
  }

  const publicRaw = str('METARR_PUBLIC_URL');
  const publicUrl =
    publicRaw === undefined ? undefined : url('METARR_PUBLIC_URL', publicRaw, ['http:', 'https:']);

  const mediaRoots = str('METARR_MEDIA_ROOTS')
    ?.split(/[:,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of mediaRoots ?? []) {
    if (!entry.startsWith('/') || entry.split('/').includes('..'))
      problems.push(`METARR_MEDIA_ROOTS entries must be absolute paths (got "${entry}")`);
  }

  const apiKey = str('METARR_API_KEY');
  const keyProblem = apiKey === undefined ? null : weakApiKey(apiKey);
  if (keyProblem) problems.push(`METARR_API_KEY ${keyProblem}`);

  const secretKey = str('METARR_SECRET_KEY');
  if (secretKey !== undefined && secretKey.trim().length < 32)
    problems.push('METARR_SECRET_KEY must be at least 32 characters (for example: openssl rand -base64 32)');

  const webhookUsername = str('METARR_WEBHOOK_USERNAME');
  const webhookPassword = str('METARR_WEBHOOK_PASSWORD');
  if ((webhookUsername === undefined) !== (webhookPassword === undefined)) {
    problems.push('METARR_WEBHOOK_USERNAME and METARR_WEBHOOK_PASSWORD must be set together');
  }
  if (webhookPassword !== undefined && webhookPassword.length < MIN_WEBHOOK_PASSWORD_LENGTH)
    problems.push(`METARR_WEBHOOK_PASSWORD must be at least ${MIN_WEBHOOK_PASSWORD_LENGTH} characters`);

  const logLevel = str('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const cpus = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const config: MetarrConfig = {
    databaseUrl,
    dataDir: path.resolve(str('METARR_DATA_DIR') ?? './.metarr'),
    host: str('METARR_HOST') ?? '0.0.0.0',
    port: int('METARR_PORT', 7979, 0, 65535),
    basePath,
    trustProxy,
    publicUrl,
    mediaRoots: mediaRoots?.length ? mediaRoots : undefined,
    apiKey,
    secretKey,
    webhookUsername,
    webhookPassword,
    workerConcurrency: int('METARR_WORKER_CONCURRENCY', Math.min(16, cpus * 4), 1, 256),
    tmdbApiKey: str('TMDB_API_KEY'),
    fanartApiKey: str('FANART_API_KEY'),
    tmdbBaseUrl: url('METARR_TMDB_BASE_URL', 'https://api.themoviedb.org/3', ['http:', 'https:']),
    tmdbImageBaseUrl: url('METARR_TMDB_IMAGE_BASE_URL', 'https://image.tmdb.org/t/p', ['http:', 'https:']),
    fanartBaseUrl: url('METARR_FANART_BASE_URL', 'https://webservice.fanart.tv/v3', ['http:', 'https:']),
    fanartClientKey: str('FANART_CLIENT_KEY'),
    metadataLanguage: code(
      'METARR_METADATA_LANGUAGE',
      'en',
      /^[a-z]{2}$/,
      'a two-letter ISO 639-1 code like en',
    ),
    certificationCountry: code(
      'METARR_CERTIFICATION_COUNTRY',
      'US',
      /^[A-Z]{2}$/,
      'a two-letter ISO 3166-1 code like US',
    ),
    providerCacheTtlSeconds: int('METARR_PROVIDER_CACHE_TTL_SECONDS', 7 * 86_400, 60, 365 * 86_400),
    tmdbRateLimit: int('METARR_TMDB_RATE_LIMIT', 40, 1, 1000),
    writeMovieNfo: code('METARR_WRITE_MOVIE_NFO', 'false', /^(true|false)$/, 'true or false') === 'true',
    logLevel,
    dbPoolMax: int('METARR_DB_POOL_MAX', 10, 2, 100),
    jobRetentionDays: int('METARR_JOB_RETENTION_DAYS', 14, 1, 3650),
    shutdownGraceSeconds: int('METARR_SHUTDOWN_GRACE_SECONDS', 30, 0, 3600),
    notifyRetryDelaySeconds: int('METARR_NOTIFY_RETRY_DELAY_SECONDS', 10, 1, 3600),
    notifyDeferSeconds: int('METARR_NOTIFY_DEFER_SECONDS', 60, 1, 86_400),
    playerTimeoutSeconds: int('METARR_PLAYER_TIMEOUT_SECONDS', 10, 1, 300),
    providerTimeoutSeconds: int('METARR_PROVIDER_TIMEOUT_SECONDS', 15, 1, 300),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** For entrypoints: the validated config, or every problem printed and exit code 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): MetarrConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
