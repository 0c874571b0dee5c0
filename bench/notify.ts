/**
 * bench/notify — 1,000 changed folders across 3 player groups (a shared Kodi pair, Jellyfin, Plex)
 * through the real worker runtime (notify-players fan-out → coalesced notify-group jobs → HTTP) against
 * the fake servers, on one PostgreSQL.
 *
 * Reports:
 * - calls per folder per group for one event per folder (target: exactly 1);
 * - calls per folder per group when every folder gets a burst of 3 events (≤ 2 by design: the first
 *   event is told at once, the rest of its window folds into one trailing call);
 * - notifications/s (group notifications completed per second) and the HTTP requests/s they cost;
 * - the fakes' own capacity measured in the same run: raw undici requests of the same shapes with the
 *   same concurrency, and the ratio of Metarr's request rate to it.
 *
 *   pnpm bench:notify                        # embedded PostgreSQL
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:notify
 */
import path from 'node:path';
import {
  createJobInspector,
  createMediaServerClient,
  loadConfig,
  silentLogger,
  startRuntime,
} from '@metarr/core';
import { startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import { handlers, startWorkerRuntime } from '@metarr/worker';
import { Agent, request } from 'undici';
import { benchPostgres } from './support.ts';

const FOLDERS = Number(process.env.BENCH_FOLDERS ?? 1000);
const BURST_FOLDERS = Number(process.env.BENCH_BURST_FOLDERS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WINDOW = 10;
const LIB = '/srv/media/movies';

const folder = (i: number) => `${LIB}/Movie ${String(i).padStart(5, '0')} (2000)`;

async function main() {
  const started = Date.now();
  const pgs = await benchPostgres({ tuning: 'fast' });
  const url = await pgs.newDatabase('metarr_bench_notify');

  const kodiA = await startFakeKodi();
  const kodiB = await startFakeKodi();
  const jf = await startFakeJellyfin({ apiKey: 'jf' });
  const plex = await startFakePlex({
    token: 'px',
    sections: [{ key: '1', type: 'movie', title: 'Movies', locations: ['/data/movies'] }],
  });
  const fakes = [kodiA, kodiB, jf, plex];

  const rt = await startRuntime({
    url,
    log: silentLogger,
    instanceName: 'bench',
    poolMax: 20,
    supervise: true,
  });
  try {
    const db = rt.dbh.db;
    const lib = await db
      .insertInto('libraries')
      .values({ name: 'Movies', type: 'movie', path: LIB })
      .returning('id')
      .executeTakeFirstOrThrow();
    const groups = [
      { name: 'Kodi (shared)', type: 'kodi' as const, shared: true, to: 'smb://nas/movies/' },
      { name: 'Jellyfin', type: 'jellyfin' as const, shared: false, to: '/data/movies' },
      { name: 'Plex', type: 'plex' as const, shared: false, to: '/data/movies' },
    ];
    const groupIds: number[] = [];
    for (const g of groups) {
      const row = await db
        .insertInto('player_groups')
        .values({ name: g.name, type: g.type, shared_library: g.shared, debounce_seconds: WINDOW })
        .returning('id')
        .executeTakeFirstOrThrow();
      groupIds.push(row.id);
      await db
        .insertInto('player_group_libraries')
        .values({ group_id: row.id, library_id: lib.id })
        .execute();
      await db
        .insertInto('player_group_path_mappings')
        .values({ group_id: row.id, from_path: LIB, to_path: g.to })
        .execute();
    }
    const player = (groupIdx: number, name: string, port: number, apiKey: string | null) => ({
      group_id: groupIds[groupIdx]!,
      name,
      type: groups[groupIdx]!.type,
      host: '127.0.0.1',
      port,
      api_key: apiKey,
      username: null,
      password: null,
    });
    await db
      .insertInto('players')
      .values([
        player(0, 'Kodi A', kodiA.port, null),
        player(0, 'Kodi B', kodiB.port, null),
        player(1, 'Jellyfin', jf.port, 'jf'),
        player(2, 'Plex', plex.port, 'px'),
      ])
      .execute();

    // ── Raw capacity of the fakes: the same requests, the same concurrency, no Metarr ─────────────
    const agent = new Agent({ connections: CONCURRENCY });
    const shapes: (() => Promise<unknown>)[] = [
      () =>
        request(`${kodiA.url}/jsonrpc`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'VideoLibrary.Scan',
            params: { directory: 'smb://nas/movies/X/', showdialogs: false },
          }),
        }).then((r) => r.body.text()),
      () =>
        request(`${jf.url}/Library/Media/Updated`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', authorization: 'MediaBrowser Token="jf"' },
          body: JSON.stringify({ Updates: [{ Path: '/data/movies/X', UpdateType: 'Modified' }] }),
        }).then((r) => r.body.text()),
      () =>
        request(`${plex.url}/library/sections/1/refresh?path=%2Fdata%2Fmovies%2FX`, {
          dispatcher: agent,
          headers: { 'x-plex-token': 'px' },
        }).then((r) => r.body.text()),
    ];
    const RAW = 6000;
    let next = 0;
    const rawStart = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < RAW) {
          const i = next++;
          await shapes[i % shapes.length]!();
        }
      }),
    );
    const rawPerSec = RAW / ((performance.now() - rawStart) / 1000);
    await agent.close();
    const requestsBefore = fakes.reduce((n, f) => n + f.calls.length, 0);
    for (const f of fakes) f.calls.length = 0;
    jf.updates.length = 0;
    plex.refreshes.length = 0;

    await startWorkerRuntime({
      boss: rt.boss,
      db,
      log: silentLogger,
      handlers,
      concurrency: CONCURRENCY,
      queues: ['notify-players', 'notify-group'],
      deps: {
        db,
        log: silentLogger,
        clientFor: (p) => createMediaServerClient(p),
        clock: () => new Date(),
        config: loadConfig({ METARR_DATA_DIR: '.tmp/unused' }),
      },
    });
    const { createJobQueue } = await import('@metarr/core');
    const queue = createJobQueue({ boss: rt.boss, db, log: silentLogger });
    const jobs = createJobInspector(db);

    const pending = async () => {
      return jobs.count({
        types: ['notify-players', 'notify-group'],
        states: ['created', 'retry', 'active'],
      });
    };
    const drain = async (deadlineMs: number) => {
      while ((await pending()) > 0) {
        if (Date.now() > deadlineMs) throw new Error('notifications did not drain in time');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const groupCalls = () => {
      const kodi = [...kodiA.calls, ...kodiB.calls]
        .filter((c) => c.method === 'VideoLibrary.Scan')
        .map((c) =>
          (c.params as { directory: string }).directory.replace('smb://nas/movies/', '').replace(/\/$/, ''),
        );
      const jfc = jf.updates.map((x) => x.path.replace('/data/movies/', ''));
      const px = plex.refreshes.map((x) => (x.path ?? '').replace('/data/movies/', ''));
      return { kodi, jellyfin: jfc, plex: px };
    };
    const perFolder = (names: string[], folders: string[]) => {
      const count = new Map<string, number>(folders.map((f) => [f, 0]));
      for (const n of names) if (count.has(n)) count.set(n, (count.get(n) ?? 0) + 1);
      const dist = new Map<number, number>();
      for (const c of count.values()) dist.set(c, (dist.get(c) ?? 0) + 1);
      return [...dist.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([c, n]) => `${n}×${c}`)
        .join(' ');
    };

    // ── Phase 1: one event per folder ─────────────────────────────────────────────────────────────
    const p1Folders = Array.from({ length: FOLDERS }, (_, i) => folder(i));
    const t1 = performance.now();
    for (let i = 0; i < p1Folders.length; i += 100) {
      await Promise.all(
        p1Folders
          .slice(i, i + 100)
          .map((p) => queue.enqueue('notify-players', { libraryId: lib.id, path: p, change: 'modified' })),
      );
    }
    const enqueueMs = performance.now() - t1;
    await drain(Date.now() + 40_000);
    const p1Ms = performance.now() - t1;
    const c1 = groupCalls();
    const names1 = p1Folders.map((p) => path.basename(p));
    const notifications1 = c1.kodi.length + c1.jellyfin.length + c1.plex.length;
    const requests1 = fakes.reduce((n, f) => n + f.calls.length, 0);
    const notifPerSec = notifications1 / (p1Ms / 1000);
    const reqPerSec = requests1 / (p1Ms / 1000);

    // ── Phase 2: a burst of 3 events for each of other folders, in one window ─────────────────────
    for (const f of fakes) f.calls.length = 0;
    jf.updates.length = 0;
    plex.refreshes.length = 0;
    kodiA.calls.length = 0;
    const p2Folders = Array.from({ length: BURST_FOLDERS }, (_, i) => folder(FOLDERS + i));
    // Start early in a window so each burst (well under a second) cannot straddle two windows.
    const into = Date.now() % (WINDOW * 1000);
    if (into > 500) await new Promise((r) => setTimeout(r, WINDOW * 1000 - into + 20));
    const events = [...p2Folders, ...p2Folders, ...p2Folders];
    const t2 = performance.now();
    for (let i = 0; i < events.length; i += 100) {
      await Promise.all(
        events
          .slice(i, i + 100)
          .map((p) => queue.enqueue('notify-players', { libraryId: lib.id, path: p, change: 'modified' })),
      );
    }
    const burstEnqueueMs = performance.now() - t2;
    await drain(Date.now() + 30_000);
    const c2 = groupCalls();
    const names2 = p2Folders.map((p) => path.basename(p));

    const line = (k: string, v: string) => console.log(`${k.padEnd(58)}${v}`);
    console.log(
      `bench/notify — ${FOLDERS} folders × 3 groups, worker concurrency ${CONCURRENCY}, window ${WINDOW} s`,
    );
    line(
      'fake capacity (raw undici, same shapes, same concurrency)',
      `${rawPerSec.toFixed(0)} req/s (${requestsBefore} requests)`,
    );
    line('phase 1: enqueue 1,000 library events', `${enqueueMs.toFixed(0)} ms`);
    line('phase 1: all notified', `${p1Ms.toFixed(0)} ms`);
    line('phase 1: calls per folder — Kodi (shared pair)', perFolder(c1.kodi, names1));
    line('phase 1: calls per folder — Jellyfin', perFolder(c1.jellyfin, names1));
    line('phase 1: calls per folder — Plex', perFolder(c1.plex, names1));
    line('phase 1: notifications/s (group × folder)', `${notifPerSec.toFixed(0)}/s (${notifications1})`);
    line('phase 1: player HTTP requests/s', `${reqPerSec.toFixed(0)}/s (${requests1})`);
    line('ratio to the fakes’ capacity (requests/s)', `${((reqPerSec / rawPerSec) * 100).toFixed(1)} %`);
    line(`phase 2: ${BURST_FOLDERS} folders × 3 events, enqueue`, `${burstEnqueueMs.toFixed(0)} ms`);
    line('phase 2: calls per folder — Kodi (shared pair)', perFolder(c2.kodi, names2));
    line('phase 2: calls per folder — Jellyfin', perFolder(c2.jellyfin, names2));
    line('phase 2: calls per folder — Plex', perFolder(c2.plex, names2));
    line('total run', `${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log('("n×c" = n folders got c calls)');
  } finally {
    await rt.close();
    await Promise.all(fakes.map((f) => f.close()));
    await pgs.close();
  }
}

await main();
