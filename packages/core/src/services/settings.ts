import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/connect.ts';
import { openSecret, seal, secretKey } from '../secrets.ts';

/**
 * SettingsService — the generated API key lives in the database so every API replica shares it.
 * Only its hash is stored (`sha256:<hex>`): the key is only ever compared, so a database dump
 * reveals nothing usable. A random 192-bit key needs no slow hash.
 */

const HASH_PREFIX = 'sha256:';

export function hashApiKey(key: string): string {
  return `${HASH_PREFIX}${createHash('sha256').update(key).digest('hex')}`;
}

/** Constant-time check of a presented key against a stored hash. */
export function apiKeyMatchesHash(presented: string, storedHash: string): boolean {
  if (!storedHash.startsWith(HASH_PREFIX)) return false;
  const want = Buffer.from(storedHash.slice(HASH_PREFIX.length), 'hex');
  const got = createHash('sha256').update(presented).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

const newApiKey = () => randomBytes(24).toString('hex');

/**
 * At API start: with a key fixed in the environment, nothing is stored. Otherwise a key is generated
 * on first start (returned once, in plaintext, to be shown to the admin) and a plaintext key stored
 * by an older version is replaced by its hash.
 */
export async function ensureApiKey(
  db: Db,
  configured: string | undefined,
): Promise<{ apiKey: string | null; generated: boolean }> {
  if (configured) return { apiKey: configured, generated: false };
  const candidate = newApiKey();
  const inserted = await db
    .insertInto('settings')
    .values({ key: 'api_key', value: hashApiKey(candidate) })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('value')
    .executeTakeFirst();
  if (inserted) return { apiKey: candidate, generated: true };
  const stored = await readApiKeyHash(db);
  if (stored === null) throw new Error('the stored API key vanished during start');
  return { apiKey: null, generated: false };
}

/**
 * The stored key's hash. A plaintext value (stored before keys were hashed) is hashed in place
 * first; the update is conditional, so concurrent replicas converge on the same hash.
 */
export async function readApiKeyHash(db: Db): Promise<string | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', 'api_key').executeTakeFirst();
  if (!row) return null;
  if (row.value.startsWith(HASH_PREFIX)) return row.value;
  const hashed = hashApiKey(row.value);
  await db
    .updateTable('settings')
    .set({ value: hashed })
    .where('key', '=', 'api_key')
    .where('value', '=', row.value)
    .execute();
  return hashed;
}

/** Stores the hash of `key` as the API key (tests and migrations of a known key). */
export async function storeApiKey(db: Db, key: string): Promise<void> {
  await db
    .insertInto('settings')
    .values({ key: 'api_key', value: hashApiKey(key) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: hashApiKey(key) }))
    .execute();
}

/** A new key replaces the stored one; the old one stops matching as soon as this commits. */
export async function rotateApiKey(db: Db): Promise<string> {
  const key = newApiKey();
  await storeApiKey(db, key);
  return key;
}

/**
 * Provider settings as the worker uses them: each field from the environment when set there, otherwise
 * what `PUT /api/settings/providers` stored (the same precedence the settings route reports as
 * `source`). `fanartClientKey` comes from the environment only: the endpoint does not store it.
 */
export interface ProviderSettings {
  tmdbApiKey: string | undefined;
  fanartApiKey: string | undefined;
  fanartClientKey: string | undefined;
}

export type ProviderEnv = Partial<ProviderSettings>;

/** Settings rows written by `PUT /api/settings/providers`, by field. */
const STORED_PROVIDER_KEYS = { tmdbApiKey: 'tmdb_api_key', fanartApiKey: 'fanart_api_key' } as const;

export async function readProviderSettings(db: Db, env: ProviderEnv): Promise<ProviderSettings> {
  const rows = await db
    .selectFrom('settings')
    .select(['key', 'value'])
    .where('key', 'in', Object.values(STORED_PROVIDER_KEYS))
    .execute();
  await secretKey();
  const stored = (k: string) => openSecret(rows.find((r) => r.key === k)?.value ?? null) || undefined;
  return {
    tmdbApiKey: env.tmdbApiKey || stored(STORED_PROVIDER_KEYS.tmdbApiKey),
    fanartApiKey: env.fanartApiKey || stored(STORED_PROVIDER_KEYS.fanartApiKey),
    fanartClientKey: env.fanartClientKey || undefined,
  };
}

/** Stores (a string) or removes (`null`) each provider key given; the ones left out stay as they are. */
export async function writeProviderKeys(
  db: Db,
  keys: { tmdbApiKey?: string | null | undefined; fanartApiKey?: string | null | undefined },
): Promise<void> {
  for (const field of ['tmdbApiKey', 'fanartApiKey'] as const) {
    const value = keys[field];
    if (value === undefined) continue;
    const key = STORED_PROVIDER_KEYS[field];
    if (value === null) await db.deleteFrom('settings').where('key', '=', key).execute();
    else {
      const sealed = seal(value, await secretKey());
      await db
        .insertInto('settings')
        .values({ key, value: sealed })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: sealed, updated_at: new Date() }))
        .execute();
    }
  }
}

/** How long a process may act on provider settings it read before it reads them again. */
export const PROVIDER_SETTINGS_TTL_MS = 2_000;

/**
 * Reads the effective provider settings at most once per `ttlMs` per reader (concurrent callers share
 * one query), so a key set or removed through the API reaches every worker within `ttlMs`, with no
 * restart and nothing shared between processes.
 *
 * Why a TTL and not LISTEN/NOTIFY: the settings change a few times in an installation's life, while
 * handlers ask for them on every job. A TTL costs one indexed query per worker per 2 s of activity and
 * cannot miss a change; NOTIFY would need a dedicated connection per worker, a NOTIFY from every
 * writer, and a resync after each reconnect to stay correct — for a change nobody waits on.
 */
export function createProviderSettingsReader(
  deps: { db: Db; now?: () => number },
  env: ProviderEnv,
  ttlMs = PROVIDER_SETTINGS_TTL_MS,
): () => Promise<ProviderSettings> {
  const now = deps.now ?? Date.now;
  let cached: { value: ProviderSettings; at: number } | null = null;
  let inFlight: Promise<ProviderSettings> | null = null;
  return () => {
    if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.value);
    if (!inFlight) {
      const startedAt = now();
      inFlight = readProviderSettings(deps.db, env)
        .then((value) => {
          // Unchanged settings keep their object, so callers can memoize on identity.
          const same = cached && sameProviderSettings(cached.value, value);
          cached = { value: same && cached ? cached.value : value, at: startedAt };
          return cached.value;
        })
        .finally(() => {
          inFlight = null;
        });
    }
    return inFlight;
  };
}

export function sameProviderSettings(a: ProviderSettings, b: ProviderSettings): boolean {
  return (
    a.tmdbApiKey === b.tmdbApiKey &&
    a.fanartApiKey === b.fanartApiKey &&
    a.fanartClientKey === b.fanartClientKey
  );
}
