import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

// int8 (bigint ids, count(*)) stay strings by default; counts fit in a JS number.
pg.types.setTypeParser(20, (v) => (v.length > 15 ? v : Number(v)));

export interface DbHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createDb(
  connectionString: string,
  opts: {
    max?: number;
    applicationName?: string;
    connectionTimeoutMillis?: number;
    queryTimeoutMillis?: number;
    /** Server options for every session (libpq `options`). */
    options?: string;
  } = {},
): DbHandle {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'metarr',
    // A dead database must surface as an error quickly (503), never as a hang.
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 3000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...(opts.options && { options: opts.options }),
    // The API bounds every query so a blackholed database answers 503, not a hang.
    ...(opts.queryTimeoutMillis !== undefined && { query_timeout: opts.queryTimeoutMillis }),
  });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  // pg-pool removes its listener from a client while it is checked out, so a connection that dies
  // between the queries of a transaction (Postgres restarted, backend terminated) emitted an unhandled
  // 'error' and crashed the API. The statement in flight still fails; the pool drops the broken
  // client when it is released (it is no longer queryable).
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    close: () => db.destroy(),
  };
}
