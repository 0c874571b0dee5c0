/**
 * Secrets at rest (provider keys, player passwords and tokens) are stored sealed with AES-256-GCM
 * as `enc:v1:<iv>:<ciphertext>:<tag>` (base64url), so a database dump alone reveals nothing usable.
 * The key comes from METARR_SECRET_KEY or `<data dir>/secret.key` (0600, generated on first start);
 * a check row in `settings` tells a wrong key at start, before anything is decrypted with it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { DEFAULT_DATA_DIR } from './configSchema.ts';
import type { Db } from './db/connect.ts';
import { AppError } from './errors.ts';

const PREFIX = 'enc:v1:';
export const SECRET_KEY_FILE = 'secret.key';
const CHECK_SETTING = 'secret_key_check';
const CHECK_PLAINTEXT = 'metarr secret key check';

export const isSealed = (v: string) => v.startsWith(PREFIX);

/** Any string becomes a 256-bit key: a passphrase or the generated file's random base64 alike. */
export const deriveSecretKey = (material: string): Buffer =>
  createHash('sha256').update(material.trim()).digest();

export function seal(plain: string, key: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `${PREFIX}${[iv, ct, c.getAuthTag()].map((b) => b.toString('base64url')).join(':')}`;
}

const mismatch = (why: string) =>
  new AppError(
    'SECRET_KEY_MISMATCH',
    `Wrong secret key (SECRET_KEY_MISMATCH): METARR_SECRET_KEY or ${SECRET_KEY_FILE} in the data dir does not open this database's secrets (${why}); restore the key they were encrypted with`,
    { retryable: false },
  );

/** The plaintext of a sealed value; a value stored before encryption (no prefix) is returned as is. */
export function openSealed(stored: string, key: Buffer): string {
  if (!isSealed(stored)) return stored;
  const [iv, ct, tag] = stored
    .slice(PREFIX.length)
    .split(':')
    .map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !ct || !tag) throw mismatch('a malformed sealed value');
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
  } catch {
    throw mismatch('authentication failed');
  }
}

/**
 * The key material: METARR_SECRET_KEY, else `<dataDir>/secret.key`, created (0600, 32 random
 * bytes) when missing. Two processes starting at once agree: the file appears whole or not at all
 * (a hard link of a complete temp file), and the loser reads the winner's.
 */
export async function loadSecretKey(opts: {
  secretKey?: string | undefined;
  dataDir: string;
}): Promise<Buffer> {
  if (opts.secretKey) return deriveSecretKey(opts.secretKey);
  const file = path.join(opts.dataDir, SECRET_KEY_FILE);
  const read = async () => deriveSecretKey(await fs.readFile(file, 'utf8'));
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.unlink(tmp).catch(() => {});
  }
  return read();
}

let active: Buffer | null = null;
let loading: Promise<Buffer> | null = null;

/** Installs the process's key (the composition root does, before any record is read or written). */
export function useSecretKey(key: Buffer): void {
  active = key;
}

/**
 * The process's key; when none was installed (tools and tests that call records directly), the one
 * the entrypoints would use with this environment.
 */
export async function secretKey(): Promise<Buffer> {
  if (active) return active;
  loading ??= loadSecretKey({
    secretKey: process.env.METARR_SECRET_KEY || undefined,
    dataDir: path.resolve(process.env.METARR_DATA_DIR || DEFAULT_DATA_DIR),
  });
  active = await loading;
  return active;
}

/** Seals with the process's key; null stays null. */
export async function sealSecret(plain: string | null): Promise<string | null> {
  return plain === null ? null : seal(plain, await secretKey());
}

/** Opens with the installed key (synchronous: the key is loaded once before records are read). */
export function openSecret(stored: string | null): string | null {
  if (stored === null || !isSealed(stored)) return stored;
  if (!active)
    throw new AppError('SECRET_KEY_MISSING', 'no secret key loaded in this process', { retryable: false });
  return openSealed(stored, active);
}

/** Setting rows that hold secrets. */
export const SECRET_SETTINGS = ['tmdb_api_key', 'fanart_api_key'];

/**
 * Start-up: the key must open the check row (written by the first start with a key); secrets
 * stored in plaintext by an earlier version are sealed in place.
 */
export async function prepareSecrets(db: Db, key: Buffer): Promise<{ sealed: number }> {
  await db
    .insertInto('settings')
    .values({ key: CHECK_SETTING, value: seal(CHECK_PLAINTEXT, key) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const check = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', CHECK_SETTING)
    .executeTakeFirstOrThrow();
  if (openSealed(check.value, key) !== CHECK_PLAINTEXT) throw mismatch('the check value differs');
  let sealed = 0;
  const plainSettings = await db
    .selectFrom('settings')
    .select(['key', 'value'])
    .where('key', 'in', SECRET_SETTINGS)
    .where('value', 'not like', `${PREFIX}%`)
    .execute();
  for (const r of plainSettings) {
    const res = await db
      .updateTable('settings')
      .set({ value: seal(r.value, key) })
      .where('key', '=', r.key)
      .where('value', '=', r.value)
      .executeTakeFirst();
    sealed += Number(res.numUpdatedRows);
  }
  const plainPlayers = await db
    .selectFrom('players')
    .select(['id', 'password', 'api_key'])
    .where((eb) => eb.or([eb('password', 'not like', `${PREFIX}%`), eb('api_key', 'not like', `${PREFIX}%`)]))
    .execute();
  for (const p of plainPlayers) {
    const fix = (v: string | null) => (v === null || isSealed(v) ? v : seal(v, key));
    // Only if unchanged since read: a concurrent start sealing the same row wins once.
    const res = await db
      .updateTable('players')
      .set({ password: fix(p.password), api_key: fix(p.api_key) })
      .where('id', '=', p.id)
      .where(sql<boolean>`password is not distinct from ${p.password}`)
      .where(sql<boolean>`api_key is not distinct from ${p.api_key}`)
      .executeTakeFirst();
    sealed += Number(res.numUpdatedRows);
  }
  return { sealed };
}
