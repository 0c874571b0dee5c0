import path from 'node:path';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { EnvMeta } from './configRules.ts';
import { type EnvValues, envVariables } from './configSchema.ts';

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
  /** First placeholder recheck after airing (METARR_PLACEHOLDER_RECHECK_SECONDS). */
  placeholderRecheckSeconds: number;
  /** TMDB requests per second across all workers. */
  tmdbRateLimit: number;
  /** Also write `movie.nfo` next to `<video>.nfo` (for tools that only read that name). */
  writeMovieNfo: boolean;
  logLevel: string;
  /** `json` or `pretty`; undefined: pretty only when stdout is a terminal. */
  logFormat: 'json' | 'pretty' | undefined;
  dbPoolMax: number;
  /** Finished jobs (completed, failed, cancelled) are deleted after this many days. */
  jobRetentionDays: number;
  /** How long a stopping worker lets in-flight jobs finish before they are failed for retry elsewhere. */
  shutdownGraceSeconds: number;
  /** First retry delay of a failed player notification (doubled with jitter per attempt). */
  notifyRetryDelaySeconds: number;
  /** First retry delay of a failed alert delivery (seconds). */
  alertRetryDelaySeconds: number;
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

export { MIN_API_KEY_LENGTH, MIN_WEBHOOK_PASSWORD_LENGTH, weakApiKey } from './configRules.ts';

type Schema = Record<string, unknown>;

/**
 * Reads every declared variable from `env` as its schema says: unset or empty → the schema's
 * default; a bad value is recorded in `problems` and replaced by the default so the rest still parse.
 */
export function parseEnv(env: NodeJS.ProcessEnv): { values: EnvValues; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const read = (name: string) => (env[name] === '' ? undefined : env[name]);
  for (const { name, schema, meta } of envVariables()) {
    if (meta.composeOnly) continue;
    const raw = read(name);
    if (meta.pairedWith && (raw === undefined) !== (read(meta.pairedWith) === undefined))
      problems.push(`${name} and ${meta.pairedWith} must be set together`);
    if (raw === undefined) {
      values[name] = schema.default;
      continue;
    }
    const problem = (what: string) => problems.push(`${name} ${what}`);
    const parsed = parseOne(raw, schema, meta, problem);
    values[name] = parsed === INVALID ? schema.default : parsed;
  }
  return { values: values as EnvValues, problems };
}

const INVALID = Symbol('invalid');

function parseOne(raw: string, schema: Schema, meta: EnvMeta, problem: (what: string) => void): unknown {
  const fail = (what: string) => {
    problem(what);
    return INVALID;
  };
  if (schema.type === 'integer') {
    const n = Number(raw);
    if (/^\d+$/.test(raw.trim()) && Value.Check(schema as TSchema, n)) return n;
    return fail(`must be an integer from ${schema.minimum} to ${schema.maximum} (got "${raw}")`);
  }
  if (schema.type === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return fail(`must be true or false (got "${raw}")`);
  }
  if (Array.isArray(schema.enum)) {
    if (Value.Check(schema as TSchema, raw)) return raw;
    return fail(`must be one of ${schema.enum.join(', ')}`);
  }
  if (schema.type === 'array') {
    const entries = raw
      .split(new RegExp(meta.separator ?? ','))
      .map((s) => s.trim())
      .filter(Boolean);
    for (const entry of entries)
      if (!Value.Check(schema.items as TSchema, entry))
        problem(`entries must be ${meta.expected} (got "${entry}")`);
    return entries.length ? entries : undefined;
  }
  if (meta.protocols) {
    try {
      if (!meta.protocols.includes(new URL(raw).protocol)) throw new Error('protocol');
    } catch {
      return fail(`must be a ${meta.protocols.join(' or ')} URL (got "${raw}")`);
    }
    return meta.trimTrailingSlash ? raw.replace(/\/+$/, '') : raw;
  }
  if (meta.check) {
    const why = meta.check(raw);
    return why ? fail(why) : raw;
  }
  const value = meta.pathPrefix ? `/${raw.replace(/^\/+|\/+$/g, '')}` : raw;
  if (typeof schema.minLength === 'number') {
    const counted = meta.trimForLength ? value.trim() : value;
    if (counted.length < schema.minLength)
      return fail(`must be at least ${schema.minLength} characters${meta.hint ?? ''}`);
  }
  if (!Value.Check(schema as TSchema, value))
    return fail(`must be ${meta.expected ?? 'valid'} (got "${raw}")`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MetarrConfig {
  const { values: v, problems } = parseEnv(env);
  if (problems.length) throw new ConfigError(problems);
  return {
    databaseUrl: v.DATABASE_URL,
    dataDir: path.resolve(v.METARR_DATA_DIR),
    host: v.METARR_HOST,
    port: v.METARR_PORT,
    basePath: v.METARR_BASE_PATH,
    trustProxy: v.METARR_TRUST_PROXY,
    publicUrl: v.METARR_PUBLIC_URL,
    mediaRoots: v.METARR_MEDIA_ROOTS,
    apiKey: v.METARR_API_KEY,
    secretKey: v.METARR_SECRET_KEY,
    webhookUsername: v.METARR_WEBHOOK_USERNAME,
    webhookPassword: v.METARR_WEBHOOK_PASSWORD,
    workerConcurrency: v.METARR_WORKER_CONCURRENCY,
    tmdbApiKey: v.TMDB_API_KEY,
    fanartApiKey: v.FANART_API_KEY,
    tmdbBaseUrl: v.METARR_TMDB_BASE_URL,
    tmdbImageBaseUrl: v.METARR_TMDB_IMAGE_BASE_URL,
    fanartBaseUrl: v.METARR_FANART_BASE_URL,
    fanartClientKey: v.FANART_CLIENT_KEY,
    metadataLanguage: v.METARR_METADATA_LANGUAGE,
    certificationCountry: v.METARR_CERTIFICATION_COUNTRY,
    providerCacheTtlSeconds: v.METARR_PROVIDER_CACHE_TTL_SECONDS,
    placeholderRecheckSeconds: v.METARR_PLACEHOLDER_RECHECK_SECONDS,
    tmdbRateLimit: v.METARR_TMDB_RATE_LIMIT,
    writeMovieNfo: v.METARR_WRITE_MOVIE_NFO,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    dbPoolMax: v.METARR_DB_POOL_MAX,
    jobRetentionDays: v.METARR_JOB_RETENTION_DAYS,
    shutdownGraceSeconds: v.METARR_SHUTDOWN_GRACE_SECONDS,
    notifyRetryDelaySeconds: v.METARR_NOTIFY_RETRY_DELAY_SECONDS,
    alertRetryDelaySeconds: v.METARR_ALERT_RETRY_DELAY_SECONDS,
    notifyDeferSeconds: v.METARR_NOTIFY_DEFER_SECONDS,
    playerTimeoutSeconds: v.METARR_PLAYER_TIMEOUT_SECONDS,
    providerTimeoutSeconds: v.METARR_PROVIDER_TIMEOUT_SECONDS,
  };
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
