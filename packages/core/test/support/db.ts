import { createTestDatabase } from '@metarr/testkit/db';
import { createDb, type Db } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/log.ts';

/** A throwaway database with every migration applied; closed and dropped with the test. */
export async function migratedTestDb(t: { teardown(fn: () => unknown): void }): Promise<Db> {
  const database = await createTestDatabase();
  const { db, close } = createDb(database.url);
  t.teardown(async () => {
    await close();
    await database.drop();
  });
  await migrateToLatest(db, silentLogger);
  return db;
}
