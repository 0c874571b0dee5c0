/**
 * bench/e2e — webhook → Kodi `VideoLibrary.Scan` latency with the API and one worker as separate
 * processes on one PostgreSQL, 50 Radarr Downloads sent one at a time on an idle system.
 *
 * Baseline, measured in the same run on the same database: one bare pg-boss hop (send → work
 * handler start, LISTEN/NOTIFY on). The chain has four hops (webhook → scan-movie → notify-players
 * fan-out → notify-group) plus real work, so chain/hop shows what Metarr adds.
 *
 *   pnpm bench:e2e                        # embedded PostgreSQL
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:e2e
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import { PgBoss } from 'pg-boss';
import { benchPostgres, pct, ROOT, seedKodiLibrary, startMetarr } from './support.ts';

const N = Number(process.env.BENCH_N ?? 50);
const fmt = (n: number) => `${n.toFixed(1)} ms`;

async function main() {
  const server = await benchPostgres();
  const url = await server.newDatabase();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-bench-'));
  let metarr: Awaited<ReturnType<typeof startMetarr>> | null = null;
  const cleanup = async () => {
    await metarr?.stop();
    await server.close();
    await fs.rm(tmp, { recursive: true, force: true });
  };

  try {
    // ── baseline: one bare pg-boss hop ─────────────────────────────────────
    const boss = new PgBoss({
      connectionString: url,
      useListenNotify: true,
      max: 4,
      supervise: false,
      schedule: false,
    });
    boss.on('error', () => {});
    await boss.start();
    await boss.createQueue('bench-hop', { notify: true });
    const hop: number[] = [];
    let resolveHop: (() => void) | null = null;
    await boss.work(
      'bench-hop',
      { batchSize: 2, burstWhenBatchFull: true, notifyPollingIntervalSeconds: 5 },
      async (jobs) => {
        for (const j of jobs) hop.push(Date.now() - (j.data as { t: number }).t);
        resolveHop?.();
      },
    );
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < N; i++) {
      const done = new Promise<void>((r) => (resolveHop = r));
      await boss.send('bench-hop', { t: Date.now() });
      await done;
      await new Promise((r) => setTimeout(r, 20));
    }
    await boss.stop({ graceful: false, close: true });

    // ── Metarr: API + worker processes ─────────────────────────────────────
    metarr = await startMetarr(url, { workers: 1 });
    const call = metarr.call;

    const kodi = await startFakeKodi({});
    const movies = path.join(tmp, 'movies');
    // N measured folders plus 3 for warm-up: a folder notified twice within a group's window is
    // coalesced into the next window by design, so no folder is reused.
    for (let i = 0; i < N + 3; i++) {
      await fs.mkdir(path.join(movies, `Movie ${i} (2000)`), { recursive: true });
      await fs.writeFile(path.join(movies, `Movie ${i} (2000)`, `Movie ${i} (2000).mkv`), 'v');
    }
    await seedKodiLibrary(call, { path: movies, kodiPort: kodi.port });

    const fixture = JSON.parse(
      await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
    );
    const ack: number[] = [];
    const chain: number[] = [];
    for (let i = -3; i < N; i++) {
      const n = i + 3;
      const body = structuredClone(fixture);
      body.movie.id = 1000 + i + 3;
      body.movie.tmdbId = 5000 + i + 3;
      body.movie.folderPath = `/movies/Movie ${n} (2000)`;
      body.movieFile.id = 9000 + i + 3;
      body.downloadId = `DL${i + 3}`;
      const before = kodi.calls.length;
      const t0 = Date.now();
      const r = await call('POST', '/api/webhooks/radarr', body);
      const tAck = Date.now();
      if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
      for (;;) {
        const hit = kodi.calls.slice(before).find((c) => c.method === 'VideoLibrary.Scan');
        if (hit) {
          // The first three are warm-up (JIT, connection pools) and not counted.
          if (i >= 0) {
            ack.push(tAck - t0);
            chain.push(hit.at - t0);
          }
          break;
        }
        if (Date.now() - t0 > 30_000) throw new Error('no Kodi scan within 30 s');
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await kodi.close();

    const rows = [
      ['baseline: one pg-boss hop (send → handler)', pct(hop, 50), pct(hop, 99)],
      ['webhook ack (POST → 200)', pct(ack, 50), pct(ack, 99)],
      ['webhook → Kodi VideoLibrary.Scan', pct(chain, 50), pct(chain, 99)],
    ] as const;
    console.log(
      `\nbench/e2e — ${N} Radarr Downloads one at a time; node ${process.version}; ${os.cpus().length} CPUs`,
    );
    console.log(`${'measure'.padEnd(46)}${'p50'.padStart(12)}${'p99'.padStart(12)}`);
    for (const [name, p50, p99] of rows)
      console.log(`${name.padEnd(46)}${fmt(p50).padStart(12)}${fmt(p99).padStart(12)}`);
    console.log(
      `chain p50 / hop p50 = ${(pct(chain, 50) / pct(hop, 50)).toFixed(1)}×   (4 hops: webhook, scan-movie, notify fan-out, per-group notify; plus scan and HTTP to Kodi)`,
    );
    console.log(`targets: chain p50 ≤ 150 ms, p99 ≤ 500 ms; ack p99 ≤ 20 ms`);
  } finally {
    await cleanup();
  }
}

await main();
