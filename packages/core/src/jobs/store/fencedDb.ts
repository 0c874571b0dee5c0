import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { AnyKysely } from '../events.ts';
import { type AttemptKey, leaseQuery } from './lease.ts';

/**
 * A database handle whose every write lands only while one job attempt holds its lease. Each
 * transaction starts with the lease check (`for share` on the job row, so the job cannot change
 * hands before the commit), and a write outside a transaction runs in one of its own that does the
 * same. A lost lease throws `lost()` and nothing is written. Reads are not checked.
 * Connections come from `base`'s pool, so nothing new is opened.
 */
export function fencedDb<DB>(base: Kysely<DB>, name: string, key: AttemptKey, lost: () => Error): Kysely<DB> {
  const check = leaseQuery(name, [key], { lock: true }).compile(base as AnyKysely);
  const driver = new FencedDriver(base as AnyKysely, async (conn) => {
    const { rows } = await conn.executeQuery(check);
    if (!rows.length) throw lost();
  });
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
  return new Kysely<DB>({ dialect });
}

type Check = (conn: DatabaseConnection) => Promise<void>;

const WRITE_NODES = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);
// Raw SQL: a statement that writes names its verb (`with … insert` included).
const RAW_WRITE = /^\s*(insert|update|delete|merge|with\b[\s\S]*\b(insert|update|delete))\b/i;

function isWrite(q: CompiledQuery): boolean {
  return WRITE_NODES.has(q.query.kind) || (q.query.kind === 'RawNode' && RAW_WRITE.test(q.sql));
}

class FencedConnection implements DatabaseConnection {
  inTransaction = false;
  readonly inner: DatabaseConnection;
  readonly check: Check;
  readonly release: () => void;
  constructor(inner: DatabaseConnection, check: Check, release: () => void) {
    this.inner = inner;
    this.check = check;
    this.release = release;
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction || !isWrite(q)) return this.inner.executeQuery<R>(q);
    await this.inner.executeQuery(CompiledQuery.raw('begin'));
    try {
      await this.check(this.inner);
      const result = await this.inner.executeQuery<R>(q);
      await this.inner.executeQuery(CompiledQuery.raw('commit'));
      return result;
    } catch (err) {
      await this.inner.executeQuery(CompiledQuery.raw('rollback')).catch(() => {});
      throw err;
    }
  }

  streamQuery<R>(q: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(q, chunkSize);
  }
}

class FencedDriver implements Driver {
  readonly base: AnyKysely;
  readonly check: Check;
  constructor(base: AnyKysely, check: Check) {
    this.base = base;
    this.check = check;
  }
  async init(): Promise<void> {}
  async destroy(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    // Borrows one of the base pool's connections until releaseConnection.
    return new Promise((resolve, reject) => {
      this.base
        .getExecutor()
        .provideConnection(
          (conn) =>
            new Promise<void>((release) => {
              resolve(new FencedConnection(conn, this.check, release));
            }),
        )
        .catch(reject);
    });
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    (conn as FencedConnection).release();
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = conn as FencedConnection;
    const mode = [
      settings.isolationLevel && `isolation level ${settings.isolationLevel}`,
      settings.accessMode,
    ].filter(Boolean);
    await c.inner.executeQuery(
      CompiledQuery.raw(mode.length ? `start transaction ${mode.join(', ')}` : 'begin'),
    );
    c.inTransaction = true;
    await c.check(c.inner);
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    const c = conn as FencedConnection;
    c.inTransaction = false;
    await c.inner.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    const c = conn as FencedConnection;
    c.inTransaction = false;
    await c.inner.executeQuery(CompiledQuery.raw('rollback'));
  }
}
