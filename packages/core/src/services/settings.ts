import { randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.ts';

/** SettingsService — the generated API key lives in the database so every API replica shares it. */
export async function ensureApiKey(
  db: Db,
  configured: string | undefined,
): Promise<{ apiKey: string; generated: boolean }> {
  if (configured) return { apiKey: configured, generated: false };
  const candidate = randomBytes(24).toString('hex');
  const inserted = await db
    .insertInto('settings')
    .values({ key: 'api_key', value: candidate })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('value')
    .executeTakeFirst();
  if (inserted) return { apiKey: inserted.value, generated: true };
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'api_key')
    .executeTakeFirstOrThrow();
  return { apiKey: row.value, generated: false };
}

export async function readStoredApiKey(db: Db): Promise<string | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', 'api_key').executeTakeFirst();
  return row?.value ?? null;
}
