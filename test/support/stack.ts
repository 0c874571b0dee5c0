import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { type AuthConfig, buildApp, createApiMetrics, createTmdbSource } from '@metarr/api';
import {
  createJobInspector,
  createJobQueue,
  createMediaServerClient,
  type Db,
  type JobInspector,
  type JobQueue,
  type Logger,
  loadConfig,
  type MetarrConfig,
  type Runtime,
  silentLogger,
  startRuntime,
  syncSchedules,
} from '@metarr/core';
import { createTestDatabase, type TestDatabase } from '@metarr/testkit/db';
import { batchHandlers, handlers, startWorkerRuntime } from '@metarr/worker';
import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const API_KEY = 'test-api-key-0123456789abcdef0123456789';
/**
 * One key for secrets at rest in every Metarr part a test runs, here and in the processes it spawns
 * (they inherit the environment): parts sharing a database must open each other's secrets.
 */
export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef-0123456789';
process.env.METARR_SECRET_KEY ??= TEST_SECRET_KEY;

interface TestLike {
  teardown(fn: () => unknown): void;
}

export interface Stack {
  url: string;
  apiKey: string;
  db: Db;
  boss: PgBoss;
  queue: JobQueue;
  /** The job table, read through the job store. */
  jobs: JobInspector;
  database: TestDatabase;
  /** What the app checks keys against; a test may swap the fixed key for the stored one (`apiKey: undefined`). */
  auth: AuthConfig;
  /** POST/PUT/GET against the API with the key. */
  api(
    method: string,
    route: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: any; text: string; headers: Headers }>;
}

/**
 * The real API (Fastify on 127.0.0.1) and a real worker runtime, in this process, on a fresh
 * database. Fakes for the outside world are servers, never stubbed clients.
 */
export async function startStack(
  t: TestLike,
  opts: {
    /** Environment for the worker config, e.g. TMDB_API_KEY and METARR_TMDB_BASE_URL pointing at fakes. */
    env?: Record<string, string>;
    worker?: boolean;
    log?: Logger;
    basePath?: string;
    webhookAuth?: { username: string; password: string };
    /** Job feed tuning (ping interval, slow-client limit). */
    feed?: Partial<NonNullable<Parameters<typeof buildApp>[0]['feed']>>;
    trustProxy?: string[];
    /** Failed authentications per address before 429 (default: the production limit). */
    authLimit?: Parameters<typeof buildApp>[0]['authLimit'];
    /** `METARR_PUBLIC_URL`: the address browsers use. */
    publicUrl?: string;
    /** `METARR_MEDIA_ROOTS`: libraries must be inside these. */
    mediaRoots?: string[];
    /** HTTP timeout overrides for the API (see HTTP_TIMEOUTS). */
    timeouts?: Parameters<typeof buildApp>[0]['timeouts'];
    /** Called with the built app before it listens: a test may add hooks (they see every route). */
    instrument?: (app: FastifyInstance) => void;
  } = {},
): Promise<Stack> {
  const log = opts.log ?? silentLogger;
  const database = await createTestDatabase();
  const apiRt: Runtime = await startRuntime({
    url: database.url,
    log,
    instanceName: 'api',
    poolMax: 6,
    supervise: false,
    queryTimeoutMillis: 4000,
  });
  let workerRt: Runtime | null = null;
  const queue = createJobQueue({ boss: apiRt.boss, db: apiRt.dbh.db, log });
  const auth: AuthConfig = {
    apiKey: API_KEY,
    webhookUsername: opts.webhookAuth?.username,
    webhookPassword: opts.webhookAuth?.password,
  };
  // The worker's and the API's settings, from the same environment (provider URLs, language, keys).
  const workerConfig: MetarrConfig = loadConfig({ METARR_DATA_DIR: '.tmp/unused', ...opts.env });
  const app = await buildApp({
    tmdb: createTmdbSource(apiRt.dbh.db, workerConfig),
    // Every scrape starts a fresh snapshot (it answers from the previous one), so tests wait less.
    metrics: createApiMetrics(apiRt.dbh.db, { maxAgeMs: 0 }),
    db: apiRt.dbh.db,
    boss: apiRt.boss,
    queue,
    log,
    auth,
    config: {
      basePath: opts.basePath ?? '',
      trustProxy: opts.trustProxy,
      mediaRoots: opts.mediaRoots,
      publicUrl: opts.publicUrl,
    },
    feed: { databaseUrl: database.url, ...opts.feed },
    ...(opts.timeouts && { timeouts: opts.timeouts }),
    ...(opts.authLimit && { authLimit: opts.authLimit }),
  });
  opts.instrument?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${addr.port}${opts.basePath ?? ''}`;

  if (opts.worker !== false) {
    workerRt = await startRuntime({
      url: database.url,
      log,
      instanceName: 'worker',
      poolMax: 6,
      supervise: true,
    });
    const db = workerRt.dbh.db;
    await startWorkerRuntime({
      boss: workerRt.boss,
      db,
      log,
      handlers,
      batchHandlers,
      concurrency: 4,
      deps: {
        db,
        log,
        // As the worker's composition root builds them.
        clientFor: (p) => createMediaServerClient(p, { timeoutMs: workerConfig.playerTimeoutSeconds * 1000 }),
        clock: () => new Date(),
        config: workerConfig,
      },
    });
    await syncSchedules({ db, boss: workerRt.boss, log });
  }

  t.teardown(async () => {
    await app.close();
    await workerRt?.close();
    await apiRt.close();
    await database.drop().catch(() => {});
  });

  return {
    url,
    apiKey: API_KEY,
    auth,
    db: apiRt.dbh.db,
    boss: apiRt.boss,
    queue,
    jobs: createJobInspector(apiRt.dbh.db),
    database,
    api: (method, route, body, headers) =>
      request(url, method, route, body, { 'x-api-key': API_KEY, ...headers }),
  };
}

export async function request(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${route}`, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}

export { waitFor } from '@metarr/testkit';

/**
 * A Metarr entrypoint as its own OS process (as another user with `as`, when this one is root);
 * resolves once it reports ready over IPC.
 */
export async function spawnProcess(
  t: TestLike,
  entry: 'api' | 'worker',
  env: Record<string, string>,
  as?: { uid: number; gid: number },
): Promise<{ child: ChildProcess; address?: string; output: () => string }> {
  let out = '';
  const child = fork(path.join(ROOT, 'packages', entry, 'src', 'main.ts'), [], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    ...as,
  });
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  );
  const address = await new Promise<string | undefined>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not become ready:\n${out}`)), 60_000);
    child.on('message', (m: { type?: string; address?: string }) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        resolve(m.address);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${out}`));
    });
  });
  return { child, ...(address !== undefined && { address }), output: () => out };
}

/** A Radarr Download's whole job chain with provider keys set, in order (each job the parent of the next). */
export const METADATA_CHAIN = [
  'webhook',
  'scan-movie',
  'discover-assets',
  'fetch-provider-assets',
  'enrich-metadata',
  'select-assets',
  'publish',
  'notify-players',
];
