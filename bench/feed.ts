/**
 * bench/feed — NOTIFY → WebSocket latency of the job progress feed, and the sustained event rate of
 * one API replica. One API process (its dedicated LISTEN connection + `/api/ws`), 50 WebSocket
 * clients in this process, events published with `pg_notify` on `metarr_job_events` as workers do.
 *
 * Baseline, measured in the same run on the same database: NOTIFY → a plain pg client's LISTEN
 * (what Postgres itself costs); the feed adds the API's parse, filter and fan-out to 50 sockets.
 *
 *   pnpm bench:feed                        # embedded PostgreSQL
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:feed
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { JOB_EVENTS_CHANNEL } from '@metarr/core';
import pg from 'pg';
import WebSocket from 'ws';
import { benchPostgres, pct, ROOT } from './support.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const BLAST = Number(process.env.BENCH_BLAST ?? 20_000);
const API_KEY = 'bench-api-key-0123456789abcdef0123456789';

const fmt = (n: number) => `${n.toFixed(2)} ms`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An event shaped like the runtime's `job:progress`, stamped with this process' clock. */
const event = (i: number) =>
  JSON.stringify({
    event: 'job:progress',
    data: {
      jobId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: 'library-scan',
      priority: 8,
      progress: i % 100,
      detail: `folder ${i}`,
      t: performance.now(),
    },
  });

async function main() {
  const pgs = await benchPostgres({ tuning: 'fast' });
  const url = await pgs.newDatabase('metarr_bench_feed');
  const children: ChildProcess[] = [];
  const sockets: WebSocket[] = [];
  const publisher = new pg.Client({ connectionString: url });
  const listener = new pg.Client({ connectionString: url });

  try {
    await publisher.connect();
    const notify = (payload: string) =>
      publisher.query('select pg_notify($1, $2)', [JOB_EVENTS_CHANNEL, payload]);

    // ── baseline: NOTIFY → plain LISTEN ─────────────────────────────────────
    await listener.connect();
    await listener.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    const base: number[] = [];
    listener.on('notification', (m) => {
      const t = JSON.parse(m.payload ?? '{}').data?.t;
      if (typeof t === 'number') base.push(performance.now() - t);
    });
    for (let i = 0; i < EVENTS; i++) {
      await notify(event(i));
      await sleep(1);
    }
    await sleep(200);
    await listener.end();

    // ── one API replica, 50 WebSocket clients ───────────────────────────────
    const api = await new Promise<string>((resolve, reject) => {
      const c = fork(path.join(ROOT, 'packages', 'api', 'src', 'main.ts'), [], {
        env: {
          ...process.env,
          DATABASE_URL: url,
          METARR_API_KEY: API_KEY,
          METARR_PORT: '0',
          METARR_HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      children.push(c);
      c.on(
        'message',
        (m: { type?: string; address?: string }) => m?.type === 'ready' && resolve(String(m.address)),
      );
      c.on('exit', (code) => reject(new Error(`api exited ${code}`)));
    });
    const lat: number[] = [];
    let received = 0;
    let closed = 0;
    let measuring = true;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const ws = new WebSocket(`${api.replace(/^http/, 'ws')}/api/ws?apikey=${API_KEY}`);
        sockets.push(ws);
        ws.on('close', () => closed++);
        await new Promise<void>((resolve, reject) => {
          ws.on('message', (raw) => {
            const m = JSON.parse(raw.toString());
            if (m.event === 'feed:ready') return resolve();
            if (m.event !== 'job:progress') return;
            received++;
            if (measuring) lat.push(performance.now() - m.data.t);
          });
          ws.once('error', reject);
        });
      }),
    );
    // Warm-up (JIT on both sides), not counted.
    for (let i = 0; i < 200; i++) await notify(event(i));
    await sleep(500);
    lat.length = 0;
    received = 0;
    for (let i = 0; i < EVENTS; i++) {
      await notify(event(i));
      await sleep(1);
    }
    await sleep(500);
    const latReceived = received;

    // ── sustained rate: a blast in batches, all clients reading ─────────────
    measuring = false;
    received = 0;
    const t0 = performance.now();
    for (let i = 0; i < BLAST; i += 500) {
      const n = Math.min(500, BLAST - i);
      await publisher.query(
        `select pg_notify($1, json_build_object('event', 'job:progress', 'data', json_build_object(
           'jobId', gen_random_uuid(), 'type', 'library-scan', 'priority', 8, 'progress', g % 100,
           'detail', 'folder ' || g))::text) from generate_series(1, $2::int) g`,
        [JOB_EVENTS_CHANNEL, n],
      );
    }
    const sent = performance.now() - t0;
    const deadline = Date.now() + 30_000;
    while (received < BLAST * (CLIENTS - closed) && Date.now() < deadline) await sleep(5);
    const took = performance.now() - t0;
    const perClient = received / Math.max(1, CLIENTS - closed);

    console.log(
      `\nbench/feed — ${EVENTS} events, ${CLIENTS} WebSocket clients, one API replica; node ${process.version}; ${os.cpus().length} CPUs`,
    );
    console.log(`${'measure'.padEnd(52)}${'p50'.padStart(12)}${'p99'.padStart(12)}`);
    console.log(
      `${'baseline: NOTIFY → plain pg LISTEN'.padEnd(52)}${fmt(pct(base, 50)).padStart(12)}${fmt(pct(base, 99)).padStart(12)}`,
    );
    console.log(
      `${`NOTIFY → WebSocket (${CLIENTS} clients, ${lat.length} deliveries)`.padEnd(52)}${fmt(pct(lat, 50)).padStart(12)}${fmt(pct(lat, 99)).padStart(12)}`,
    );
    console.log(`deliveries: ${latReceived} of ${EVENTS * CLIENTS} expected; target p99 ≤ 50 ms`);
    console.log(
      `sustained: ${BLAST} events published in ${(sent / 1000).toFixed(2)} s, delivered to every client in ${(took / 1000).toFixed(2)} s` +
        ` → ${Math.round((perClient / took) * 1000)} events/s (${Math.round((received / took) * 1000)} messages/s to ${CLIENTS - closed} clients; ${closed} dropped)`,
    );
  } finally {
    for (const s of sockets) s.terminate();
    await publisher.end().catch(() => {});
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    await pgs.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
