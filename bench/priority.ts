/**
 * bench/priority — does urgent work get stuck behind bulk work? The API and one worker run as
 * separate processes on one PostgreSQL. 20 Radarr Download webhooks are sent one at a time, first on
 * an idle queue, then while a library scan's N (default 10,000) low-priority `scan-movie` jobs wait.
 * For each: the `webhook` job's wait (enqueue → start, from pg-boss's created_on/started_on), its
 * `scan-movie` child's wait, and the whole chain (POST → the fake Kodi's `VideoLibrary.Scan`).
 * Target: webhook wait p99 ≤ 1 s under load.
 *
 *   pnpm bench:priority
 *   BENCH_N=2000 pnpm bench:priority          # scaled down
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, createJobInspector } from '@metarr/core';
import { startFakeKodi } from '@metarr/testkit';
import pg from 'pg';
import { benchPostgres, type MetarrProcesses, pct, ROOT, seedKodiLibrary, startMetarr } from './support.ts';

const N = Number(process.env.BENCH_N ?? 10_000);
const TRIES = 20;

async function main() {
  const server = await benchPostgres();
  const url = await server.newDatabase();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-bench-prio-'));
  let metarr: MetarrProcesses | null = null;
  const client = new pg.Client({ connectionString: url });
  const jobsDb = createDb(url, { max: 1 });
  const jobs = createJobInspector(jobsDb.db);
  const kodi = await startFakeKodi({});
  const cleanup = async () => {
    await metarr?.stop();
    await kodi.close();
    await client.end().catch(() => {});
    await jobsDb.close().catch(() => {});
    await server.close();
    await fs.rm(tmp, { recursive: true, force: true });
  };

  try {
    const bulk = path.join(tmp, 'bulk');
    const urgent = path.join(tmp, 'movies');
    await fs.mkdir(bulk);
    await fs.mkdir(urgent);
    for (let i = 0; i < N; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, N - i) }, async (_, k) => {
          const dir = path.join(bulk, `Bulk ${i + k} (2000)`);
          await fs.mkdir(dir);
          await fs.writeFile(path.join(dir, 'b.mkv'), 'v');
        }),
      );
    }
    for (let i = 0; i < TRIES * 2 + 3; i++) {
      await fs.mkdir(path.join(urgent, `Movie ${i} (2000)`));
      await fs.writeFile(path.join(urgent, `Movie ${i} (2000)`, 'm.mkv'), 'v');
    }

    metarr = await startMetarr(url, { workers: 1 });
    const call = metarr.call;
    await client.connect();
    const bulkLib = await call('POST', '/api/libraries', { name: 'Bulk', type: 'movie', path: bulk });
    await seedKodiLibrary(call, { path: urgent, kodiPort: kodi.port });
    const fixture = JSON.parse(
      await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
    );

    let seq = 0;
    const waiting = async () => jobs.count({ types: ['scan-movie'], states: ['created', 'retry'] });
    const runTries = async (label: string, count: number) => {
      const webhookWait: number[] = [];
      const scanWait: number[] = [];
      const chain: number[] = [];
      const queued: number[] = [];
      for (let i = 0; i < count; i++) {
        const n = seq++;
        const body = structuredClone(fixture);
        body.movie.id = 1000 + n;
        body.movie.tmdbId = 5000 + n;
        body.movie.folderPath = `/movies/Movie ${n} (2000)`;
        body.movieFile.id = 9000 + n;
        body.downloadId = `DL${n}`;
        queued.push(await waiting());
        const before = kodi.calls.length;
        const t0 = Date.now();
        const r = await call('POST', '/api/webhooks/radarr', body);
        if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
        for (;;) {
          const hit = kodi.calls.slice(before).find((c) => c.method === 'VideoLibrary.Scan');
          if (hit) {
            chain.push(hit.at - t0);
            break;
          }
          if (Date.now() - t0 > 30_000) throw new Error('no Kodi scan within 30 s');
          await new Promise((res) => setTimeout(res, 2));
        }
        const rows = [
          ...(await jobs.rows({ ids: [r.json.jobId] })),
          ...(await jobs.rows({ types: ['scan-movie'], parentIds: [r.json.jobId] })),
        ].map((j) => ({
          name: j.name,
          wait: j.started_on
            ? new Date(j.started_on).getTime() - new Date(j.created_on).getTime()
            : Number.NaN,
        }));
        for (const row of rows) (row.name === 'webhook' ? webhookWait : scanWait).push(Number(row.wait));
        await new Promise((res) => setTimeout(res, 100));
      }
      return { label, webhookWait, scanWait, chain, queued };
    };

    await runTries('warm-up', 3);
    const idle = await runTries('idle queue', TRIES);
    const scan = await call('POST', `/api/libraries/${bulkLib.json.id}/scan`);
    if (scan.status !== 202) throw new Error('library scan not accepted');
    // Wait for the fan-out to be queued before measuring.
    for (const t0 = Date.now(); (await waiting()) < Math.min(N, 1000) && Date.now() - t0 < 60_000; )
      await new Promise((res) => setTimeout(res, 50));
    const loaded = await runTries(`${N} bulk scan-movie queued`, TRIES);

    console.log(
      `\nbench/priority — ${TRIES} webhooks each; node ${process.version}; ${os.cpus().length} CPUs`,
    );
    console.log(
      `${'condition'.padEnd(32)}${'bulk waiting'.padStart(16)}${'webhook wait p50/p99'.padStart(24)}${'scan-movie wait p50/p99'.padStart(26)}${'chain p50/p99'.padStart(20)}`,
    );
    for (const r of [idle, loaded]) {
      const pp = (xs: number[]) => `${pct(xs, 50).toFixed(0)}/${pct(xs, 99).toFixed(0)} ms`;
      console.log(
        `${r.label.padEnd(32)}${`${Math.min(...r.queued)}–${Math.max(...r.queued)}`.padStart(16)}${pp(r.webhookWait).padStart(24)}${pp(r.scanWait).padStart(26)}${pp(r.chain).padStart(20)}`,
      );
    }
    console.log('target: webhook wait p99 ≤ 1000 ms while the bulk jobs wait');
  } finally {
    await cleanup();
  }
}

await main();
