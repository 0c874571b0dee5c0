/**
 * bench/idle — what `pnpm start` costs before any work: the time from launch to
 * `GET /api/health/ready` 200 on an existing data dir (embedded PostgreSQL already initialised by a
 * first start), and the resident memory (VmRSS) of the API and worker processes once idle.
 * Baseline in the same run: a bare Node process that imports nothing and serves one HTTP route
 * (the floor any Node service pays), started and measured the same way.
 *
 *   pnpm bench:idle
 *   BENCH_STARTS=5 BENCH_IDLE_SECONDS=10 pnpm bench:idle
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pct, ROOT } from './support.ts';

const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** Direct children of `pid` (the launcher's API and worker), by their command line. */
async function children(pid: number): Promise<{ pid: number; cmd: string }[]> {
  const out: { pid: number; cmd: string }[] = [];
  for (const task of await fs.readdir(`/proc/${pid}/task`).catch(() => [])) {
    const ids = (await fs.readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => ''))
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    for (const id of ids) {
      const cmd = (await fs.readFile(`/proc/${id}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
      out.push({ pid: Number(id), cmd });
    }
  }
  return out;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ready`);
    const ok = await fetch(url)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

interface Run {
  readyMs: number;
  rss: Record<string, number>;
}

async function startMetarr(dataDir: string, measureIdle: boolean): Promise<Run> {
  const port = await freePort();
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  const env = { ...rest, METARR_DATA_DIR: dataDir, METARR_PORT: String(port), LOG_LEVEL: 'warn' };
  const t0 = performance.now();
  // What `pnpm start` runs.
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'node-check.mjs'), 'scripts/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(`http://127.0.0.1:${port}/api/health/ready`, child);
    const readyMs = performance.now() - t0;
    const rss: Record<string, number> = {};
    if (measureIdle) {
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      for (const c of await children(child.pid ?? 0)) {
        if (c.cmd.includes('api/src/main.ts')) rss.api = await rssMb(c.pid);
        if (c.cmd.includes('worker/src/main.ts')) rss.worker = await rssMb(c.pid);
      }
    }
    return { readyMs, rss };
  } finally {
    await stop(child);
  }
}

/** The floor: a Node process serving one route, no imports beyond node:http. */
async function startBare(measureIdle: boolean): Promise<Run> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  try {
    await waitReady(`http://127.0.0.1:${port}/`, child);
    const readyMs = performance.now() - t0;
    const rss: Record<string, number> = {};
    if (measureIdle) {
      await new Promise((r) => setTimeout(r, 2000));
      rss.bare = await rssMb(child.pid ?? 0);
    }
    return { readyMs, rss };
  } finally {
    child.kill('SIGKILL');
  }
}

async function main() {
  const dataDir = await fs.mkdtemp(path.join(ROOT, '.tmp', 'bench-idle-'));
  try {
    const first = await startMetarr(dataDir, false);
    const runs: Run[] = [];
    const bare: Run[] = [];
    for (let i = 0; i < STARTS; i++) {
      bare.push(await startBare(i === STARTS - 1));
      runs.push(await startMetarr(dataDir, i === STARTS - 1));
    }
    const ready = runs.map((r) => r.readyMs);
    const bareReady = bare.map((r) => r.readyMs);
    const idle = runs.at(-1)?.rss ?? {};
    const bareRss = bare.at(-1)?.rss.bare ?? Number.NaN;
    console.log(
      `\nbench/idle — pnpm start (scripts/start.ts, embedded PostgreSQL) on an existing data dir, ${STARTS} starts; ` +
        `node ${process.version}; ${os.cpus().length} CPUs; load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    console.log(`first start (new data dir, initdb)                  ${(first.readyMs / 1000).toFixed(2)} s`);
    console.log(
      `start → /api/health/ready 200, p50 / max            ${(pct(ready, 50) / 1000).toFixed(2)} / ${(Math.max(...ready) / 1000).toFixed(2)} s  (target ≤ 3 s)`,
    );
    console.log(
      `baseline: bare node http server ready, p50          ${(pct(bareReady, 50) / 1000).toFixed(2)} s`,
    );
    console.log(
      `idle RSS after ${IDLE_SECONDS} s: API / worker                     ${idle.api?.toFixed(0)} / ${idle.worker?.toFixed(0)} MB  (target ≤ 100 each)`,
    );
    console.log(`baseline: bare node http server RSS                 ${bareRss.toFixed(0)} MB`);
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

await main();
