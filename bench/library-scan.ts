/**
 * bench/library-scan — a library scan of N generated movie folders (default 10,000) with the API and
 * one worker as separate processes on one PostgreSQL: wall time from `POST /api/libraries/:id/scan`
 * until every `scan-movie` it fanned out is done, against the fastest bare walk of the same tree in
 * the same run (a synchronous readdir+stat, fs.opendir, or readdir with 16 stats in flight; target
 * ≤ 10×); then the same library re-scanned with nothing changed (target ≤ 2× the walk); and the
 * worker's peak RSS (VmHWM).
 *
 *   pnpm bench:library-scan                       # N = 10,000, embedded PostgreSQL
 *   BENCH_N=2000 pnpm bench:library-scan          # scaled down
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:library-scan
 *   BENCH_PROFILE=1 …                             # worker CPU profile in /tmp/prof
 *   BENCH_WORKER_LOG=1 BENCH_LOG_LEVEL=info …     # the worker's log lines on stdout (timeline)
 */
import { type ChildProcess, fork } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, createJobInspector, limiter, startEmbeddedPostgres } from '@metarr/core';

const FINISHED = ['completed', 'failed', 'cancelled'];

import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..');
const N = Number(process.env.BENCH_N ?? 10_000);
const API_KEY = 'bench-api-key-0123456789abcdef0123456789';
const DEADLINE_MS = 90_000;

/** The bare work, three ways; the baseline is whichever is fastest in this run. */
function walkSync(dir: string): number {
  let n = 0;
  for (const e of fsSync.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    fsSync.statSync(p);
    n++;
    if (e.isDirectory()) n += walkSync(p);
  }
  return n;
}

async function walkOpendir(dir: string): Promise<number> {
  let n = 0;
  for await (const e of await fs.opendir(dir)) {
    const p = path.join(dir, e.name);
    await fs.stat(p);
    n++;
    if (e.isDirectory()) n += await walkOpendir(p);
  }
  return n;
}

/** Async readdir+stat with up to `limit` stats in flight (libuv's threadpool does them in parallel). */
async function walkConcurrent(root: string, limit = 16): Promise<number> {
  let n = 0;
  const dirs = [root];
  const gate = limiter(limit);
  const pending: Promise<void>[] = [];
  while (dirs.length || pending.length) {
    const dir = dirs.pop();
    if (!dir) {
      await Promise.all(pending.splice(0));
      continue;
    }
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      n++;
      pending.push(gate(() => fs.stat(p)).then(() => {}));
      if (e.isDirectory()) dirs.push(p);
    }
  }
  return n;
}

async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** User + system CPU seconds a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main() {
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let stopPg = async () => {};
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-bench-scan-'));
  if (!adminUrl) {
    const e = await startEmbeddedPostgres({
      dataDir: path.join(ROOT, '.tmp', `bench-pg-${process.pid}`),
      persistent: false,
      tuning: 'durable',
    });
    adminUrl = e.url;
    stopPg = e.stop;
  }
  const dbName = `metarr_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const children: ChildProcess[] = [];
  const client = new pg.Client({ connectionString: url });
  const jobsDb = createDb(url, { max: 1 });
  const jobs = createJobInspector(jobsDb.db);
  const cleanup = async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    await client.end().catch(() => {});
    await jobsDb.close().catch(() => {});
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    await stopPg();
    await fs.rm(tmp, { recursive: true, force: true });
  };

  try {
    const movies = path.join(tmp, 'movies');
    await fs.mkdir(movies);
    for (let i = 0; i < N; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, N - i) }, async (_, k) => {
          const n = i + k;
          const dir = path.join(
            movies,
            `Movie ${n} (${1950 + (n % 70)})${n % 3 === 0 ? ` {tmdb-${10_000 + n}}` : ''}`,
          );
          await fs.mkdir(dir);
          await fs.writeFile(path.join(dir, `Movie ${n}.mkv`), 'video');
          await fs.writeFile(
            path.join(dir, 'movie.nfo'),
            `<movie><title>Movie ${n}</title><uniqueid type="imdb">tt${1_000_000 + n}</uniqueid></movie>`,
          );
        }),
      );
    }
    // Warm the cache once, then time each bare walk (best of 3 tries each); the fastest is the baseline.
    walkSync(movies);
    const best = async (fn: () => number | Promise<number>) => {
      const tries = [await timed(fn), await timed(fn), await timed(fn)];
      return tries.reduce((a, b) => (b.ms < a.ms ? b : a));
    };
    const walks = {
      'readdirSync + statSync': await best(() => walkSync(movies)),
      'fs.opendir, one stat at a time': await best(() => walkOpendir(movies)),
      'readdir + 16 stats in flight': await best(() => walkConcurrent(movies)),
    };
    const fastest = Object.entries(walks).reduce((a, b) => (b[1].ms < a[1].ms ? b : a));
    const walkMs = fastest[1].ms;
    const entries = fastest[1].value;

    const env = {
      ...process.env,
      DATABASE_URL: url,
      METARR_API_KEY: API_KEY,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    };
    const procs: Record<string, ChildProcess> = {};
    const start = (entry: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        const c = fork(path.join(ROOT, 'packages', entry, 'src', 'main.ts'), [], {
          env,
          ...(process.env.BENCH_PROFILE &&
            entry === 'worker' && { execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] }),
          // BENCH_WORKER_LOG=1: the worker's log lines (BENCH_LOG_LEVEL, default warn) go to this process's stdout.
          stdio: [
            'ignore',
            process.env.BENCH_WORKER_LOG && entry === 'worker' ? 'inherit' : 'ignore',
            'inherit',
            'ipc',
          ],
        });
        children.push(c);
        procs[entry] = c;
        c.on(
          'message',
          (m: { type?: string; address?: string }) => m?.type === 'ready' && resolve(m.address),
        );
        c.on('exit', (code) => reject(new Error(`${entry} exited ${code}`)));
      });
    const [base] = await Promise.all([start('api'), start('worker')]);
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${base}${route}`, {
        method,
        headers: { 'x-api-key': API_KEY, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json().catch(() => null)) as any };
    };
    await client.connect();
    const lib = await call('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: movies });
    if (lib.status !== 201) throw new Error(`library: ${JSON.stringify(lib.json)}`);

    const cpu0 = {
      worker: await cpuSeconds(procs.worker?.pid ?? 0),
      api: await cpuSeconds(procs.api?.pid ?? 0),
    };
    const xacts = async () =>
      Number(
        (
          await client.query<{ n: string }>(
            'select xact_commit::text as n from pg_stat_database where datname = current_database()',
          )
        ).rows[0]?.n ?? 0,
      );
    const x0 = await xacts();
    const t0 = performance.now();
    const scan = await call('POST', `/api/libraries/${lib.json.id}/scan`);
    if (scan.status !== 202) throw new Error(`scan: ${JSON.stringify(scan.json)}`);
    let listedMs = Number.NaN;
    let done = 0;
    for (;;) {
      // One query per poll: the transaction count below includes this loop's.
      const tally = await jobs.tally({ types: ['library-scan', 'scan-movie'] });
      const movies = tally.filter((x) => x.name === 'scan-movie');
      const r = {
        scan: tally.find((x) => x.name === 'library-scan')?.state ?? null,
        total: movies.reduce((n, x) => n + x.n, 0),
        done: movies.filter((x) => FINISHED.includes(x.state)).reduce((n, x) => n + x.n, 0),
      };
      if (r?.scan === 'completed' && Number.isNaN(listedMs)) listedMs = performance.now() - t0;
      done = r?.done ?? 0;
      if (r?.scan === 'completed' && r.total >= N && r.done === r.total) break;
      if (r?.scan === 'failed') throw new Error('library-scan failed');
      if (performance.now() - t0 > DEADLINE_MS) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const wallMs = performance.now() - t0;
    const rss = await peakRssMb(procs.worker?.pid ?? 0);

    // The same library again, nothing changed on disk: what a scheduled re-scan costs.
    const since = new Date();
    const t1 = performance.now();
    const again = await call('POST', `/api/libraries/${lib.json.id}/scan`);
    if (again.status !== 202) throw new Error(`re-scan: ${JSON.stringify(again.json)}`);
    for (;;) {
      const tally = await jobs.tally({ types: ['library-scan', 'scan-movie'], createdSince: since });
      const scanState = tally.find((x) => x.name === 'library-scan')?.state ?? null;
      const pendingMovies = tally
        .filter((x) => x.name === 'scan-movie' && !FINISHED.includes(x.state))
        .reduce((n, x) => n + x.n, 0);
      if (scanState === 'completed' && pendingMovies === 0) break;
      if (scanState === 'failed') throw new Error('re-scan failed');
      if (performance.now() - t1 > DEADLINE_MS) throw new Error('re-scan timed out');
      await new Promise((res) => setTimeout(res, 20));
    }
    const rescanMs = performance.now() - t1;
    const perFolder = ((await xacts()) - x0) / N;
    const workerCpu = (await cpuSeconds(procs.worker?.pid ?? 0)) - cpu0.worker;
    const { rows: movieRows } = await client.query<{ n: number }>('select count(*)::int as n from movies');

    console.log(
      `\nbench/library-scan — ${N} movie folders; node ${process.version}; ${os.cpus().length} CPUs; load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    for (const [label, w] of Object.entries(walks))
      console.log(`bare walk: ${label.padEnd(30)}       ${w.ms.toFixed(0)} ms (best of 3)`);
    console.log(`baseline: the fastest (${entries} entries)          ${walkMs.toFixed(0)} ms`);
    console.log(`library-scan job done (list + reconcile + enqueue) ${listedMs.toFixed(0)} ms`);
    console.log(
      `POST scan → every scan-movie done               ${wallMs.toFixed(0)} ms${done < N ? `  (TIMED OUT: ${done}/${N} done)` : ''}`,
    );
    console.log(
      `ratio wall / bare walk                          ${(wallMs / walkMs).toFixed(1)}×   (target ≤ 10×)`,
    );
    console.log(
      `scan-movie throughput                           ${((done / wallMs) * 1000).toFixed(0)} jobs/s`,
    );
    console.log(
      `re-scan, nothing changed: POST → all done       ${rescanMs.toFixed(0)} ms = ${(rescanMs / walkMs).toFixed(1)}× the walk (target ≤ 2×)`,
    );
    console.log(`movies rows                                     ${movieRows[0]?.n}`);
    console.log(`database transactions per folder (all processes) ${perFolder.toFixed(1)}`);
    console.log(`worker CPU during the scan                      ${workerCpu.toFixed(1)} s`);
    console.log(`worker peak RSS (VmHWM)                         ${rss.toFixed(0)} MB`);
  } finally {
    await cleanup();
  }
}

await main();
