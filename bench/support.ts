/**
 * What every benchmark needs: a PostgreSQL (embedded, or BENCH_DATABASE_URL) with throwaway
 * databases, Metarr's API and workers as real processes, and percentiles.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres } from '@metarr/core';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef0123456789';

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

export interface BenchPostgres {
  adminUrl: string;
  /** A fresh database on the server; dropped by close(). */
  newDatabase(prefix?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * `tuning: 'fast'` (fsync off) for benchmarks that measure Metarr's own overhead rather than commit
 * latency (notify fan-out, the feed); 'durable' (the default) is what a user's database does.
 */
export async function benchPostgres(opts: { tuning?: 'durable' | 'fast' } = {}): Promise<BenchPostgres> {
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let stopPg = async () => {};
  if (!adminUrl) {
    const dataDir = path.join(ROOT, '.tmp', `bench-pg-${process.pid}`);
    const e = await startEmbeddedPostgres({
      dataDir,
      persistent: false,
      tuning: opts.tuning ?? 'durable',
    });
    adminUrl = e.url;
    stopPg = async () => {
      await e.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const made: string[] = [];
  return {
    adminUrl,
    async newDatabase(prefix = 'metarr_bench') {
      const name = `${prefix}_${Date.now()}_${made.length}`;
      await admin.query(`create database ${name}`);
      made.push(name);
      const u = new URL(adminUrl as string);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async close() {
      for (const name of made)
        await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end();
      await stopPg();
    },
  };
}

export interface MetarrProcesses {
  base: string;
  children: ChildProcess[];
  /** JSON call against the API with the bench key. */
  call(method: string, route: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

/** One API and `workers` worker processes on `url`, each resolved once it reports ready. */
export async function startMetarr(
  url: string,
  opts: { workers?: number; env?: Record<string, string> } = {},
): Promise<MetarrProcesses> {
  const env = {
    ...process.env,
    DATABASE_URL: url,
    METARR_API_KEY: BENCH_API_KEY,
    METARR_PORT: '0',
    METARR_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const children: ChildProcess[] = [];
  const start = (entry: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      const c = fork(path.join(ROOT, 'packages', entry, 'src', 'main.ts'), [], {
        env,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      children.push(c);
      c.on('message', (m: { type?: string; address?: string }) => m?.type === 'ready' && resolve(m.address));
      c.on('exit', (code) => code && reject(new Error(`${entry} exited ${code}`)));
    });
  const [base] = await Promise.all([
    start('api'),
    ...Array.from({ length: opts.workers ?? 1 }, () => start('worker')),
  ]);
  return {
    base: String(base),
    children,
    async call(method, route, body) {
      const res = await fetch(`${base}${route}`, {
        method,
        headers: {
          'x-api-key': BENCH_API_KEY,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json().catch(() => null)) as any };
    },
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
      );
    },
  };
}

/**
 * The setup every webhook benchmark shares, through the API: a movie library at `path`, Radarr's
 * `/movies` mapped onto it, and one Kodi player group with one player on 127.0.0.1:`kodiPort`.
 */
export async function seedKodiLibrary(
  call: MetarrProcesses['call'],
  opts: { path: string; kodiPort: number; name?: string },
): Promise<{ libraryId: number }> {
  const lib = await call('POST', '/api/libraries', {
    name: opts.name ?? 'Movies',
    type: 'movie',
    path: opts.path,
  });
  await call('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: opts.path });
  const group = await call('POST', '/api/player-groups', {
    name: 'Kodi',
    type: 'kodi',
    libraryIds: [lib.json.id],
  });
  await call('POST', '/api/players', {
    groupId: group.json.id,
    name: 'box',
    type: 'kodi',
    host: '127.0.0.1',
    port: opts.kodiPort,
  });
  return { libraryId: lib.json.id };
}

/**
 * A job table as a busy install keeps it (`rows` jobs): webhook chains of 6 jobs over 14 days, 2 %
 * failed jobs with their dead letters, 0.2 % waiting. In SQL: ids are `md5(label)::uuid` (= labelJobId), so children name their parents. */
export async function seedJobTable(db: Kysely<any>, rows: number): Promise<{ chains: number }> {
  const FAILED = Math.round(rows / 50);
  const WAITING = Math.round(rows / 500);
  const CHAINS = Math.floor((rows - 2 * FAILED - WAITING) / 6);
  // Webhook chains: webhook → scan-movie → discover-assets → fetch-provider-assets → enrich-metadata,
  // plus the scan's notify-players; spread evenly over 14 days, newest last.
  await sql`insert into pgboss.job (id, name, data, state, priority, created_on, start_after, started_on, completed_on, output)
    select md5('w' || c || '/' || l)::uuid,
      (array['webhook','scan-movie','discover-assets','fetch-provider-assets','enrich-metadata','notify-players'])[l + 1],
      jsonb_build_object(
        'payload', case when l = 0 then jsonb_build_object('source', 'radarr', 'deliveryId', c::text, 'eventType', 'Download', 'title', 'Movie ' || c)
                        when l = 1 then jsonb_build_object('libraryId', 1, 'path', '/data/movies/Movie ' || c, 'trigger', 'webhook')
                        when l = 5 then jsonb_build_object('libraryId', 1, 'path', '/data/movies/Movie ' || c, 'change', 'modified')
                        else jsonb_build_object('movieId', c) end,
        'parentId', case when l = 0 then null when l = 5 then md5('w' || c || '/1')::uuid::text else md5('w' || c || '/' || (l - 1))::uuid::text end),
      'completed', 0,
      t + l * interval '50 ms', t + l * interval '50 ms', t + l * interval '50 ms' + interval '5 ms',
      t + l * interval '50 ms' + interval '40 ms', jsonb_build_object('ms', 35)
    from generate_series(1, ${CHAINS}::int) c,
      lateral (select now() - (${CHAINS}::int - c) * (interval '14 days' / ${CHAINS}::int) as t) ts,
      generate_series(0, 5) l`.execute(db);
  // Failed jobs (out of retries) and their dead letters, spread over the same 14 days.
  await sql`insert into pgboss.job (id, name, data, state, priority, created_on, start_after, started_on, completed_on, output, retry_count)
    select md5('f' || f)::uuid, 'fetch-provider-assets',
      jsonb_build_object('payload', jsonb_build_object('movieId', f), 'parentId', null),
      'failed', 5, t, t, t, t + interval '1 s',
      jsonb_build_object('error', jsonb_build_object('code', 'PROVIDER_UNAVAILABLE', 'message', 'TMDB answered 503', 'retryable', true)), 3
    from generate_series(1, ${FAILED}::int) f,
      lateral (select now() - (${FAILED}::int - f) * (interval '14 days' / ${FAILED}::int) as t) ts`.execute(
    db,
  );
  await sql`insert into pgboss.job (id, name, data, state, priority, created_on, start_after, source_name, source_id, source_created_on, source_retry_count, source_output)
    select md5('d' || f)::uuid, 'dead-letter',
      jsonb_build_object('payload', jsonb_build_object('movieId', f), 'parentId', null),
      'created', 5, t + interval '1 s', t + interval '1 s', 'fetch-provider-assets', md5('f' || f)::uuid, t, 3,
      jsonb_build_object('error', jsonb_build_object('code', 'PROVIDER_UNAVAILABLE', 'message', 'TMDB answered 503', 'retryable', true))
    from generate_series(1, ${FAILED}::int) f,
      lateral (select now() - (${FAILED}::int - f) * (interval '14 days' / ${FAILED}::int) as t) ts`.execute(
    db,
  );
  // A backlog waiting for a worker (none runs here).
  await sql`insert into pgboss.job (id, name, data, state, priority, created_on, start_after)
    select md5('q' || q)::uuid, 'scan-movie',
      jsonb_build_object('payload', jsonb_build_object('libraryId', 1, 'path', '/data/movies/New ' || q, 'trigger', 'library-scan'), 'parentId', null),
      'created', 3, now(), now()
    from generate_series(1, ${WAITING}::int) q`.execute(db);
  return { chains: CHAINS };
}
