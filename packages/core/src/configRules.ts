/** Metarr's keywords on an environment variable's schema, and the rules JSON Schema cannot say. */

export type EnvGroup = 'database' | 'api' | 'workers' | 'providers' | 'logging' | 'compose';

/** Metarr's own keywords on a variable's schema (under `env`), beside the JSON Schema ones. */
export interface EnvMeta {
  group: EnvGroup;
  /** A credential: its default is not shown in `.env.example`. */
  secret?: boolean;
  /** In `.env.example`: a line to fill in, a commented-out line, or absent. */
  example: 'set' | 'commented' | 'omit';
  /** Comment lines above the variable in `.env.example`. */
  note?: string[];
  /** README's default column when the bare default says too little. */
  defaultText?: string;
  /** Read only by docker compose, not by Metarr's processes. */
  composeOnly?: boolean;
  /** How a valid value is described in an error: "… must be <expected> (got …)". */
  expected?: string;
  /** Accepted URL schemes (strings with `format: 'uri'`). */
  protocols?: string[];
  /** Trailing slashes are removed so paths can be appended. */
  trimTrailingSlash?: boolean;
  /** A leading slash is added and trailing ones removed before the pattern is checked. */
  pathPrefix?: boolean;
  /** Surrounding whitespace does not count toward `minLength`. */
  trimForLength?: boolean;
  /** Appended to the `minLength` error. */
  hint?: string;
  /** Lists: the separators between entries (a regular expression). */
  separator?: string;
  /** Both variables or neither. */
  pairedWith?: string;
  /** A rule beyond JSON Schema: why the value is unusable, or null. */
  check?: (value: string) => string | null;
}

export const MIN_API_KEY_LENGTH = 32;
export const MIN_WEBHOOK_PASSWORD_LENGTH = 12;
export const MIN_SECRET_KEY_LENGTH = 32;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
