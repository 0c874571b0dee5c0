/**
 * bench/intake — webhook intake throughput: autocannon, 50 connections, 10 s each, posting Radarr
 * Downloads (every body unique, so nothing is deduplicated), in one run on one PostgreSQL against
 *
 *   (a) a bare Fastify route that only validates the same schema (parseWebhook) and answers 200;
 *   (b) a bare Fastify route doing one plain INSERT of the body — the single-commit floor;
 *   (c) the real webhook route: auth, validation, delivery row + `webhook` job committed before the 200.
 *
 * The servers run in a child process, autocannon in this one (2-core boxes: one core each).
 * Target: c ≥ 40 % of b, p99 ≤ 50 ms, zero errors.
 *
 *   pnpm bench:intake                          # embedded PostgreSQL (durable settings)
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:intake
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 BENCH_LOG=info   # defaults
 *   BENCH_PREFILL=1000000 pnpm bench:intake      # against a job table of a million rows
 */
import { fork } from 'node:child_process';
import { Writable } from 'node:stream';
import { buildApp } from '@metarr/api';
import {
  analyzeJobTable,
  createDb,
  createJobQueue,
  createLogger,
  parseWebhook,
  startRuntime,
} from '@metarr/core';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { inspectJobs } from '../test/support/chaos.ts';
import { fixture } from '../test/support/webhook-fixtures.ts';
import { benchPostgres, seedJobTable } from './support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const API_KEY = 'bench-api-key-0123456789abcdef0123456789';
const POOL_MAX = 10;
/** Jobs already in pgboss.job before measuring (issue 19: intake on a table a busy install keeps). */
const PREFILL = Number(process.env.BENCH_PREFILL ?? 0);

interface Ports {
  a: number;
  b: number;
  c: number;
}

/** Child: the three servers on one database. */
async function serve(url: string) {
  const body = { bodyLimit: 1024 * 1024, logger: false } as const;

  const a = Fastify(body);
  a.removeContentTypeParser('text/plain');
  a.post('/hook', async (req, reply) => {
    const parsed = parseWebhook('radarr', req.body);
    if (parsed.kind === 'invalid') return reply.code(400).send({ message: parsed.issues[0]?.message });
    return { status: 'success' };
  });

  const pool = new pg.Pool({ connectionString: url, max: POOL_MAX });
  await pool.query('create table if not exists bench_plain (id bigserial primary key, body jsonb not null)');
  const b = Fastify(body);
  b.removeContentTypeParser('text/plain');
  b.post('/hook', async (req) => {
    const { rows } = await pool.query('insert into bench_plain (body) values ($1) returning id', [
      JSON.stringify(req.body),
    ]);
    return { status: 'success', id: rows[0].id };
  });

  const level = process.env.BENCH_LOG ?? 'info';
  // Production logs "Webhook queued" and "Job created" per delivery; pay for them here too.
  const devNull = new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
  const log = createLogger({ name: 'api', level, destination: devNull });
  const rt = await startRuntime({
    url,
    log,
    instanceName: 'api',
    poolMax: POOL_MAX,
    supervise: false,
    queryTimeoutMillis: 4000,
  });
  const queue = createJobQueue({ boss: rt.boss, db: rt.dbh.db, log });
  const c = await buildApp({
    db: rt.dbh.db,
    boss: rt.boss,
    queue,
    log,
    auth: { apiKey: API_KEY },
    config: { basePath: '', trustProxy: undefined },
  });

  const ports: number[] = [];
  for (const app of [a, b, c]) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    ports.push((app.server.address() as { port: number }).port);
  }
  process.send?.({ type: 'ready', ports: { a: ports[0], b: ports[1], c: ports[2] } });
  process.on('message', async (m: { type?: string }) => {
    if (m?.type !== 'stop') return;
    await Promise.all([a.close(), b.close(), c.close()]);
    await pool.end();
    await rt.close();
    process.exit(0);
  });
}

/** Every request of the whole run gets its own movie file id and download id: all are new deliveries. */
const nextBody = (() => {
  const body = fixture('radarr-download');
  (body.movieFile as { id: number }).id = 987654321;
  body.downloadId = 'BENCH987654321';
  const [head, mid, tail] = JSON.stringify(body).split('987654321');
  let n = 0;
  return () => {
    const k = String(++n);
    return `${head}${k}${mid}${k}${tail}`;
  };
})();

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  ok: number;
}

async function run(name: string, url: string, seconds: number): Promise<Row> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        setupRequest: (req) => ({ ...req, body: nextBody() }),
      },
    ],
  });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    ok: result['2xx'],
  };
}

async function main() {
  const pgs = await benchPostgres();
  const url = await pgs.newDatabase('metarr_bench_intake');

  const child = fork(import.meta.filename, ['serve'], {
    env: { ...process.env, BENCH_DB_URL: url },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ports = await new Promise<Ports>((resolve, reject) => {
      child.on(
        'message',
        (m: { type?: string; ports?: Ports }) => m?.type === 'ready' && m.ports && resolve(m.ports),
      );
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    let prefilledWebhooks = 0;
    if (PREFILL > 0) {
      const { db, close } = createDb(url, { max: 1 });
      try {
        await seedJobTable(db, PREFILL);
        await analyzeJobTable(db, { vacuum: true });
      } finally {
        await close();
      }
      prefilledWebhooks = await inspectJobs(url, (j) => j.count({ types: ['webhook'] }));
    }
    const targets: [string, string][] = [
      ['(a) bare route, validation only', `http://127.0.0.1:${ports.a}/hook`],
      ['(b) bare route, one INSERT', `http://127.0.0.1:${ports.b}/hook`],
      ['(c) real webhook route', `http://127.0.0.1:${ports.c}/api/webhooks/radarr`],
    ];
    const rows: Row[] = [];
    let acked = 0;
    for (const [name, target] of targets) {
      const warm = await run(name, target, 2); // warm-up: JIT, pools, pg-boss queue cache
      rows.push(await run(name, target, SECONDS));
      acked = warm.ok + (rows.at(-1)?.ok ?? 0);
    }
    const [a, b, c] = rows as [Row, Row, Row];
    // autocannon stops without waiting for requests in flight: let them commit, then count once.
    await new Promise((r) => setTimeout(r, 1000));
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const { rows: counts } = await db.query('select count(*)::int as deliveries from webhook_deliveries');
    const { deliveries } = counts[0] as { deliveries: number };
    await db.end();
    const jobs = (await inspectJobs(url, (j) => j.count({ types: ['webhook'] }))) - prefilledWebhooks;

    console.log(
      `\nbench/intake — ${CONNECTIONS} connections × ${SECONDS} s, Radarr Download bodies, all unique${PREFILL ? `; pgboss.job pre-filled with ${PREFILL.toLocaleString('en')} jobs` : ''}\n`,
    );
    console.log('| target | req/s | p50 | p99 | errors |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows)
      console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} ms | ${r.p99} ms | ${r.errors} |`);
    console.log(
      `\nc/a = ${((100 * c.rps) / a.rps).toFixed(1)} %   c/b = ${((100 * c.rps) / b.rps).toFixed(1)} %`,
    );
    // Requests cut off at the end may commit without their 200 being counted, never the reverse.
    const durable = deliveries === jobs && deliveries >= acked;
    console.log(
      `durability: (c) acknowledged ${acked} deliveries (warm-up included); stored ${deliveries} rows and ${jobs} webhook jobs — ${durable ? 'ok' : 'LOST'}`,
    );
    const checks: [string, boolean][] = [
      [`c ≥ 40 % of b (${((100 * c.rps) / b.rps).toFixed(1)} %)`, c.rps >= 0.4 * b.rps],
      [`p99 ≤ 50 ms (${c.p99} ms; the floor b: ${b.p99} ms)`, c.p99 <= 50],
      [`zero errors (${c.errors})`, c.errors === 0],
      ['one row and one job per acknowledged delivery', durable],
    ];
    for (const [what, ok] of checks) console.log(`${ok ? 'met   ' : 'MISSED'} ${what}`);
  } finally {
    child.send({ type: 'stop' });
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await pgs.close();
  }
}

if (process.argv[2] === 'serve') {
  serve(process.env.BENCH_DB_URL as string).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
