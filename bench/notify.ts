/**
 * bench/notify — 1,000 changed folders across 3 player groups (a shared Kodi pair, Jellyfin, Plex)
 * through the real worker runtime (notify-players fan-out → coalesced notify-group jobs → HTTP) against
 * the fake servers, on one PostgreSQL.
 *
 * Reports:
 * - phase 1, a backlog of 1,000 library events (queued one transaction each, as publish and
 *   scan-movie queue them, then the worker starts): calls per folder per group (target: exactly 1),
 *   notifications/s (group × folder told per second) and the HTTP requests/s they cost;
 * - phase 2, a burst of 3 events for each of 200 other folders with the worker running: calls per
 *   folder per group (≤ 2 by design: the first event is told at once, the rest of its window folds
 *   into one trailing call);
 * - phase 3, refresh: 1,000 re-published movies the players already hold (`refresh: true`, a backlog
 *   again): every item refreshed exactly once per group (the Kodi pair: once across the pair), no
 *   folder scanned;
 * - the fakes' own capacity measured in the same run, before and after Metarr's phases (the ratios
 *   use the mean: the machine is shared): raw undici requests of the same shapes with the
 *   same concurrency (scan: one notification request per folder; refresh: the lookup, then the
 *   refresh of what it found, per item), and the ratio of Metarr's rate to it: notifications (or
 *   items) per second against the raw rate of the same work, and requests/s against raw requests/s.
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
import { batchHandlers, handlers, startWorkerRuntime } from '@metarr/worker';
import { Agent, request } from 'undici';
import { benchPostgres } from './support.ts';

const FOLDERS = Number(process.env.BENCH_FOLDERS ?? 1000);
const REFRESH_ITEMS = Number(process.env.BENCH_REFRESH_ITEMS ?? 1000);
const BURST_FOLDERS = Number(process.env.BENCH_BURST_FOLDERS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WINDOW = 10;
const LIB = '/srv/media/movies';

const folder = (i: number) => `${LIB}/Movie ${String(i).padStart(5, '0')} (2000)`;
const refreshName = (i: number) => `Refresh ${String(i).padStart(5, '0')} (2000)`;

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

    // ── The refresh phase's movies: rows in `movies`, and every player holding each one ──────────
    const refreshMovies: { id: number; path: string; name: string }[] = [];
    for (let i = 0; i < REFRESH_ITEMS; i += 500) {
      const rows = await db
        .insertInto('movies')
        .values(
          Array.from({ length: Math.min(500, REFRESH_ITEMS - i) }, (_, k) => {
            const name = refreshName(i + k);
            return { library_id: lib.id, path: `${LIB}/${name}`, title: name, video_file: `${name}.mkv` };
          }),
        )
        .returning(['id', 'path', 'title'])
        .execute();
      for (const r of rows) refreshMovies.push({ id: r.id, path: r.path, name: r.title ?? '' });
    }
    const kodiIds = new Map<number, string>();
    for (const m of refreshMovies) {
      const file = `smb://nas/movies/${m.name}/${m.name}.mkv`;
      // The shared pair holds one library (MySQL): both boxes know the item under the same id.
      kodiIds.set(kodiA.addMovie(file, m.name).movieid, m.name);
      kodiB.addMovie(file, m.name);
      jf.addItem({ name: m.name, path: `/data/movies/${m.name}/${m.name}.mkv` });
      plex.addMovie({ title: m.name, file: `/data/movies/${m.name}/${m.name}.mkv` });
    }
    const jfIds = new Map([...jf.items.values()].map((it) => [it.Id, it.Name]));
    const plexIds = new Map(plex.movies.map((mv) => [mv.ratingKey, mv.title]));

    // ── Raw capacity of the fakes: the same requests, the same concurrency, no Metarr ─────────────
    const agent = new Agent({ connections: CONCURRENCY });
    const kodiRpc = (method: string, params: Record<string, unknown>) =>
      request(`${kodiA.url}/jsonrpc`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      }).then((r) => r.body.json() as Promise<{ result: any }>);
    const jfAuth = { authorization: 'MediaBrowser Token="jf"' };
    const scanShapes: (() => Promise<unknown>)[] = [
      () => kodiRpc('VideoLibrary.Scan', { directory: 'smb://nas/movies/X/', showdialogs: false }),
      () =>
        request(`${jf.url}/Library/Media/Updated`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', ...jfAuth },
          body: JSON.stringify({ Updates: [{ Path: '/data/movies/X', UpdateType: 'Modified' }] }),
        }).then((r) => r.body.text()),
      () =>
        request(`${plex.url}/library/sections/1/refresh?path=%2Fdata%2Fmovies%2FX`, {
          dispatcher: agent,
          headers: { 'x-plex-token': 'px' },
        }).then((r) => r.body.text()),
    ];
    // Refresh: the lookup Metarr makes for an item, then the refresh of what it found (2 requests).
    const refreshShapes: ((name: string) => Promise<unknown>)[] = [
      async (name) => {
        const found = await kodiRpc('VideoLibrary.GetMovies', {
          properties: ['file'],
          filter: { field: 'path', operator: 'startswith', value: `smb://nas/movies/${name}/` },
          limits: { start: 0, end: 50 },
        });
        for (const m of found.result.movies ?? [])
          await kodiRpc('VideoLibrary.RefreshMovie', { movieid: m.movieid, ignorenfo: false });
      },
      async (name) => {
        const q = `Recursive=true&IncludeItemTypes=Movie&Fields=Path&SearchTerm=${encodeURIComponent(name)}&Limit=50`;
        const found = (await request(`${jf.url}/Items?${q}`, { dispatcher: agent, headers: jfAuth }).then(
          (r) => r.body.json(),
        )) as { Items: { Id: string }[] };
        for (const it of found.Items)
          await request(`${jf.url}/Items/${it.Id}/Refresh?MetadataRefreshMode=Default`, {
            method: 'POST',
            dispatcher: agent,
            headers: jfAuth,
          }).then((r) => r.body.text());
      },
      async (name) => {
        const found = (await request(
          `${plex.url}/library/sections/1/all?type=1&title=${encodeURIComponent(name)}`,
          { dispatcher: agent, headers: { 'x-plex-token': 'px', accept: 'application/json' } },
        ).then((r) => r.body.json())) as { MediaContainer: { Metadata?: { ratingKey: string }[] } };
        for (const m of found.MediaContainer.Metadata ?? [])
          await request(`${plex.url}/library/metadata/${m.ratingKey}/refresh`, {
            method: 'PUT',
            dispatcher: agent,
            headers: { 'x-plex-token': 'px' },
          }).then((r) => r.body.text());
      },
    ];
    const rawRun = async (n: number, one: (i: number) => Promise<unknown>) => {
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < n) await one(next++);
        }),
      );
      return n / ((performance.now() - start) / 1000);
    };
    const RAW = 6000;
    const rawScan = () => rawRun(RAW, (i) => (scanShapes[i % scanShapes.length] as () => Promise<unknown>)());
    // Each refresh work item is a lookup + a refresh: items/s, and requests/s = 2 × that.
    const rawRefresh = () =>
      rawRun(3 * REFRESH_ITEMS, (i) =>
        (refreshShapes[i % 3] as (n: string) => Promise<unknown>)(
          (refreshMovies[Math.floor(i / 3)] as { name: string }).name,
        ),
      );
    // Measured before and again after Metarr's phases (the machine is shared: its load moves); the
    // ratios use the mean of the two.
    const rawScanBefore = await rawScan();
    const rawRefreshBefore = await rawRefresh();
    const requestsBefore = fakes.reduce((n, f) => n + f.calls.length, 0);
    const resetFakes = () => {
      for (const f of fakes) f.calls.length = 0;
      jf.updates.length = 0;
      jf.itemRefreshes.length = 0;
      plex.refreshes.length = 0;
      plex.itemRefreshes.length = 0;
      kodiA.refreshes.length = 0;
      kodiB.refreshes.length = 0;
    };
    resetFakes();

    const { createJobQueue } = await import('@metarr/core');
    const queue = createJobQueue({ boss: rt.boss, db, log: silentLogger });
    const jobs = createJobInspector(db);
    const startWorker = () =>
      startWorkerRuntime({
        boss: rt.boss,
        db,
        log: silentLogger,
        handlers,
        ...(process.env.BENCH_NO_BATCH ? {} : { batchHandlers }),
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
    const stopWorker = async () => {
      await rt.boss.offWork('notify-players');
      await rt.boss.offWork('notify-group');
    };

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
    // Jobs that needed more than one attempt (a failed or superseded attempt), so far.
    const failed = () => jobs.count({ types: ['notify-players', 'notify-group'], retried: true });
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
    // Library events one transaction each, as publish and scan-movie queue them (100 at a time).
    const enqueueEvents = async (payloads: Parameters<typeof queue.enqueue<'notify-players'>>[1][]) => {
      for (let i = 0; i < payloads.length; i += 100)
        await Promise.all(payloads.slice(i, i + 100).map((p) => queue.enqueue('notify-players', p)));
    };

    // ── Phase 1: one event per folder, a backlog ──────────────────────────────────────────────────
    const p1Folders = Array.from({ length: FOLDERS }, (_, i) => folder(i));
    const t0 = performance.now();
    await enqueueEvents(p1Folders.map((p) => ({ libraryId: lib.id, path: p, change: 'modified' as const })));
    const enqueueMs = performance.now() - t0;
    const t1 = performance.now();
    await startWorker();
    await drain(Date.now() + 60_000);
    const p1Ms = performance.now() - t1;
    const c1 = groupCalls();
    const names1 = p1Folders.map((p) => path.basename(p));
    const notifications1 = c1.kodi.length + c1.jellyfin.length + c1.plex.length;
    const requests1 = fakes.reduce((n, f) => n + f.calls.length, 0);
    const notifPerSec = notifications1 / (p1Ms / 1000);
    const reqPerSec = requests1 / (p1Ms / 1000);
    const failed1 = await failed();

    // ── Phase 2: a burst of 3 events for each of other folders, in one window ─────────────────────
    resetFakes();
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
    const failed2 = (await failed()) - failed1;
    const names2 = p2Folders.map((p) => path.basename(p));

    // ── Phase 3: refresh of 1,000 re-published movies, a backlog ──────────────────────────────────
    await stopWorker();
    resetFakes();
    const t3q = performance.now();
    await enqueueEvents(
      refreshMovies.map((m) => ({
        libraryId: lib.id,
        path: m.path,
        change: 'modified' as const,
        movieId: m.id,
        refresh: true,
      })),
    );
    const refreshEnqueueMs = performance.now() - t3q;
    const t3 = performance.now();
    await startWorker();
    await drain(Date.now() + 60_000);
    const p3Ms = performance.now() - t3;
    const refreshed = {
      kodi: [...kodiA.refreshes, ...kodiB.refreshes].map((r) => kodiIds.get(r.movieid) ?? '?'),
      jellyfin: jf.itemRefreshes.map((r) => jfIds.get(r.id) ?? '?'),
      plex: plex.itemRefreshes.map((k) => plexIds.get(k) ?? '?'),
    };
    const names3 = refreshMovies.map((m) => m.name);
    const scans3 = groupCalls();
    const scanned3 = scans3.kodi.length + scans3.jellyfin.length + scans3.plex.length;
    const items3 = refreshed.kodi.length + refreshed.jellyfin.length + refreshed.plex.length;
    const requests3 = fakes.reduce((n, f) => n + f.calls.length, 0);
    const itemsPerSec = items3 / (p3Ms / 1000);
    const req3PerSec = requests3 / (p3Ms / 1000);
    const exactlyOnce = (names: string[]) => perFolder(names, names3) === `${names3.length}×1`;
    const refreshOk =
      exactlyOnce(refreshed.kodi) &&
      exactlyOnce(refreshed.jellyfin) &&
      exactlyOnce(refreshed.plex) &&
      !scanned3;
    const failed3 = (await failed()) - failed1 - failed2;
    await stopWorker();
    const rawScanAfter = await rawScan();
    const rawRefreshAfter = await rawRefresh();
    await agent.close();
    const rawPerSec = (rawScanBefore + rawScanAfter) / 2;
    const rawRefreshItemsPerSec = (rawRefreshBefore + rawRefreshAfter) / 2;

    const line = (k: string, v: string) => console.log(`${k.padEnd(62)}${v}`);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    console.log(
      `bench/notify — ${FOLDERS} folders × 3 groups, ${REFRESH_ITEMS} refreshed items, worker concurrency ${CONCURRENCY}, window ${WINDOW} s${process.env.BENCH_NO_BATCH ? ', no batch handlers' : ''}`,
    );
    line(
      'fake capacity, scan shapes (raw undici, same concurrency)',
      `${rawPerSec.toFixed(0)} req/s (before ${rawScanBefore.toFixed(0)}, after ${rawScanAfter.toFixed(0)}; ${RAW} requests each)`,
    );
    line(
      'fake capacity, refresh shapes (lookup + refresh per item)',
      `${rawRefreshItemsPerSec.toFixed(0)} items/s = ${(2 * rawRefreshItemsPerSec).toFixed(0)} req/s (before ${rawRefreshBefore.toFixed(0)}, after ${rawRefreshAfter.toFixed(0)} items/s)`,
    );
    line('(requests made measuring capacity)', `${requestsBefore}`);
    line('phase 1: enqueue 1,000 library events (worker stopped)', `${enqueueMs.toFixed(0)} ms`);
    line('phase 1: worker started → all notified', `${p1Ms.toFixed(0)} ms`);
    line('phase 1: calls per folder — Kodi (shared pair)', perFolder(c1.kodi, names1));
    line('phase 1: calls per folder — Jellyfin', perFolder(c1.jellyfin, names1));
    line('phase 1: calls per folder — Plex', perFolder(c1.plex, names1));
    line('phase 1: jobs retried', `${failed1}`);
    line('phase 1: notifications/s (group × folder)', `${notifPerSec.toFixed(0)}/s (${notifications1})`);
    line('phase 1: player HTTP requests/s', `${reqPerSec.toFixed(0)}/s (${requests1})`);
    line('phase 1 ratio: notifications/s ÷ raw scan req/s', pct(notifPerSec / rawPerSec));
    line('phase 1 ratio: HTTP req/s ÷ raw scan req/s', pct(reqPerSec / rawPerSec));
    line(
      'phase 1 end to end (enqueue + drain): notifications/s, ratio',
      `${(notifications1 / ((enqueueMs + p1Ms) / 1000)).toFixed(0)}/s, ${pct(notifications1 / ((enqueueMs + p1Ms) / 1000) / rawPerSec)}`,
    );
    line(`phase 2: ${BURST_FOLDERS} folders × 3 events, enqueue`, `${burstEnqueueMs.toFixed(0)} ms`);
    line('phase 2: calls per folder — Kodi (shared pair)', perFolder(c2.kodi, names2));
    line('phase 2: calls per folder — Jellyfin', perFolder(c2.jellyfin, names2));
    line('phase 2: calls per folder — Plex', perFolder(c2.plex, names2));
    line('phase 2: jobs retried', `${failed2}`);
    line('phase 3: enqueue refresh events (worker stopped)', `${refreshEnqueueMs.toFixed(0)} ms`);
    line('phase 3: worker started → all refreshed', `${p3Ms.toFixed(0)} ms`);
    line('phase 3: refreshes per item — Kodi (shared pair, both boxes)', perFolder(refreshed.kodi, names3));
    line('phase 3: refreshes per item — Jellyfin', perFolder(refreshed.jellyfin, names3));
    line('phase 3: refreshes per item — Plex', perFolder(refreshed.plex, names3));
    line('phase 3: folder scans instead (target 0)', `${scanned3}`);
    line('phase 3: jobs retried', `${failed3}`);
    line('phase 3: items refreshed/s (group × item)', `${itemsPerSec.toFixed(0)}/s (${items3})`);
    line('phase 3: player HTTP requests/s', `${req3PerSec.toFixed(0)}/s (${requests3})`);
    line('phase 3 ratio: items/s ÷ raw items/s', pct(itemsPerSec / rawRefreshItemsPerSec));
    line('phase 3 ratio: HTTP req/s ÷ raw refresh req/s', pct(req3PerSec / (2 * rawRefreshItemsPerSec)));
    line('total run', `${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log('("n×c" = n folders (items) got c calls)');
    if (!refreshOk) {
      console.error('FAIL: an item was not refreshed exactly once per group, or a folder was scanned');
      process.exitCode = 1;
    }
  } finally {
    await rt.close();
    await Promise.all(fakes.map((f) => f.close()));
    await pgs.close();
  }
}

await main();
