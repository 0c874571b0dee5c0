/**
 * `pnpm soak [--seconds 180] [--rate 20] [--no-metadata] [--no-reference]` — the reliability acceptance run.
 *
 * An API and 3 workers as OS processes on a private PostgreSQL reached through a TCP chaos proxy.
 * An open-loop generator posts webhooks (60 % unique Radarr Downloads over 400 movies, 20 % exact
 * duplicates, 15 % Sonarr season-pack bursts, 5 % Test/Grab/unknown) while a worker is kill -9ed
 * every 15 s and restarted, Postgres is restarted once, the database is blackholed for 10 s and one
 * worker is paused past its heartbeat. After draining, the invariant checker asserts: no acked
 * delivery lost; one job per step per delivery and exactly one player scan per delivery; every
 * expected movie row, NFO and artwork file equals a clean reference run (the metadata pipeline runs
 * against a fake TMDB unless --no-metadata); the dead-letter queue holds only the injected poison
 * jobs; no 5xx but 503, and 503 only during the outages.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBoss, ensureQueues } from '@metarr/core';
import { type FakeKodi, startFakeKodi, startFakeTmdb, startTcpProxy } from '@metarr/testkit';
import {
  doubledFollowUps,
  inspectJobs,
  movieFolder,
  pendingJobs,
  query,
  type RestartablePostgres,
  radarrDownload,
  seedLibrary,
  sleep,
  sonarrDownload,
  startGate,
  startRestartablePostgres,
  writeMovieTree,
} from '../test/support/chaos.ts';
import { Ledger } from '../test/support/ledger.ts';
import { API_KEY, ROOT, request, startStack, waitFor } from '../test/support/stack.ts';
import { Supervisor } from '../test/support/supervisor.ts';

export interface SoakOptions {
  seconds: number;
  rate: number;
  movies?: number;
  /** Compare movie rows with a clean in-process run of the same deliveries (default true). */
  reference?: boolean;
  /** Run the metadata pipeline against a fake TMDB and compare NFO/artwork hashes with the reference. */
  metadata?: boolean;
  /** false: the same traffic without any fault (a baseline). */
  faults?: boolean;
  seed?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  ok: boolean;
  failures: string[];
  figures: Record<string, number | string>;
}

type Kind = 'unique' | 'duplicate' | 'season' | 'other';
interface Sent {
  kind: Kind;
  source: 'radarr' | 'sonarr';
  /** Our own identity of the delivery (file id) — equal for an exact duplicate. */
  key: string;
  /** Player-side folder this delivery should lead to a scan of. */
  folder: string | null;
  movie: number | null;
  body: Record<string, unknown>;
  at: number;
  ms: number;
  status: number;
  json: { status?: string; jobId?: string } | null;
  error?: string;
}

/** Small seeded PRNG (mulberry32): the same seed gives the same traffic. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  const movies = opts.movies ?? 400;
  const rand = prng(opts.seed ?? 9);
  const S = opts.seconds * 1000;
  const failures: string[] = [];
  const figures: Record<string, number | string> = { seconds: opts.seconds, rate: opts.rate };
  const cleanups: (() => Promise<unknown>)[] = [];
  const dir = path.join(ROOT, '.tmp', `soak-${process.pid}-${Date.now().toString(36)}`);
  const media = path.join(dir, 'movies');
  const tv = path.join(dir, 'tv');

  try {
    await writeMovieTree(media, movies);
    await fs.mkdir(tv, { recursive: true });
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));

    const pg: RestartablePostgres = await startRestartablePostgres();
    cleanups.push(() => pg.destroy());
    const proxy = await startTcpProxy({ port: pg.port });
    cleanups.push(() => proxy.close());
    const dbUrl = proxy.rewrite(pg.url);
    const kodi: FakeKodi = await startFakeKodi();
    const tmdb = opts.metadata ? await startFakeTmdb() : null;
    if (tmdb) cleanups.push(() => tmdb.close());
    const tmdbEnv: Record<string, string> = tmdb
      ? {
          TMDB_API_KEY: 'tmdb-test-key',
          METARR_TMDB_BASE_URL: tmdb.apiUrl,
          METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
        }
      : {};
    cleanups.push(() => kodi.close());
    const ledger = new Ledger({ kodi });
    // A player that takes 200 ms to answer: workers are mid-notification much of the time, so the
    // kills and the pause land inside side effects, not between jobs.
    const slowKodi = await startGate({ port: kodi.port, delayMs: 200 });
    cleanups.push(() => slowKodi.close());

    const sup = new Supervisor(null, {
      DATABASE_URL: dbUrl,
      METARR_API_KEY: API_KEY,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      METARR_WORKER_CONCURRENCY: '4',
      METARR_DB_POOL_MAX: '6',
      METARR_NOTIFY_RETRY_DELAY_SECONDS: '1',
      METARR_SHUTDOWN_GRACE_SECONDS: '5',
      ...tmdbEnv,
      LOG_LEVEL: 'warn',
    });
    cleanups.push(() => sup.stopAll());
    const api = await sup.start('api', { name: 'api' });
    const workers = ['w1', 'w2', 'w3'];
    await Promise.all(workers.map((name) => sup.start('worker', { name })));
    const base = String(api.address);
    const call = (method: string, route: string, body?: unknown) =>
      request(base, method, route, body, { 'x-api-key': API_KEY });
    await seedLibrary(call, { media, tv, kodiPorts: [slowKodi.port], debounceSeconds: 0 });

    // Injected permanent failures: old-shaped payloads that must dead-letter at once.
    const poison: string[] = [];
    {
      const boss = createBoss({
        connectionString: pg.url,
        instanceName: 'soak',
        supervise: false,
        schedule: false,
        max: 2,
      });
      boss.on('error', () => {});
      await boss.start();
      await ensureQueues(boss);
      for (let i = 0; i < 3; i++) {
        const id = randomUUID();
        await boss.send('scan-movie', { payload: { movieId: i + 1, legacy: true }, parentId: null }, { id });
        poison.push(id);
      }
      await boss.stop({ graceful: false });
    }
    log(
      `stack up: api + ${workers.length} workers, ${movies} movies; generating ${opts.rate}/s for ${opts.seconds} s`,
    );

    // ---- generator -------------------------------------------------------------------------
    const sent: Sent[] = [];
    const acked: Sent[] = [];
    const inflight = new Set<Promise<void>>();
    let fileSeq = 1000;
    const t0 = Date.now();
    const post = (s: Omit<Sent, 'at' | 'ms' | 'status' | 'json'>) => {
      const rec = s as Sent;
      rec.at = Date.now();
      sent.push(rec);
      const p = fetch(`${base}/api/webhooks/${s.source}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify(s.body),
        signal: AbortSignal.timeout(15_000),
      })
        .then(async (res) => {
          rec.status = res.status;
          rec.json = (await res.json().catch(() => null)) as Sent['json'];
          if (res.status === 200 && rec.json?.status === 'success' && rec.json?.jobId) acked.push(rec);
        })
        .catch((err: Error) => {
          rec.status = 0;
          rec.error = err.name;
        })
        .finally(() => {
          rec.ms = Date.now() - rec.at;
          inflight.delete(p);
        });
      inflight.add(p);
    };
    const tick = () => {
      const r = rand();
      if (r < 0.6 || (r < 0.8 && acked.length === 0)) {
        const movie = 1 + Math.floor(rand() * movies);
        const fileId = ++fileSeq;
        post({
          kind: 'unique',
          source: 'radarr',
          key: `radarr:${fileId}`,
          folder: `nfs://nas/movies/${movieFolder(movie)}/`,
          movie,
          body: radarrDownload(movie, fileId),
        });
      } else if (r < 0.8) {
        const orig = acked[Math.floor(rand() * acked.length)] as Sent;
        post({ ...orig, kind: 'duplicate' });
      } else if (r < 0.95) {
        const series = 1 + Math.floor(rand() * 20);
        for (let e = 1; e <= 4; e++) {
          const fileId = ++fileSeq;
          post({
            kind: 'season',
            source: 'sonarr',
            key: `sonarr:${fileId}`,
            folder: `nfs://nas/tv/Series ${series}/Season 01/`,
            movie: null,
            body: sonarrDownload(series, e, fileId),
          });
        }
      } else {
        const which = Math.floor(rand() * 3);
        const body = radarrDownload(1, 1);
        body.eventType = ['Test', 'Grab', 'SomethingNew'][which];
        post({
          kind: 'other',
          source: 'radarr',
          key: `other:${sent.length}`,
          folder: null,
          movie: null,
          body,
        });
      }
    };
    const generating = (async () => {
      const interval = 1000 / opts.rate;
      for (let k = 0; Date.now() - t0 < S; k++) {
        const wait = t0 + k * interval - Date.now();
        if (wait > 0) await sleep(wait);
        tick();
      }
    })();

    // ---- chaos -----------------------------------------------------------------------------
    const outages: { what: string; from: number; to: number }[] = [];
    const events: string[] = [];
    const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
    const note = (s: string) => {
      const line = `+${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`;
      events.push(line);
      log(line);
    };
    let paused: string | null = null;
    let lastKilled: string | null = null;
    let kills = 0;
    const restarts: Promise<unknown>[] = [];
    const generation = new Map<string, number>();
    const faults = opts.faults !== false;
    const killer = (async () => {
      if (!faults) return;
      let n = 0;
      for (let ms = 15_000; ms < S; ms += 15_000) {
        await at(ms);
        const candidates = workers.filter((w) => w !== paused);
        const victim = candidates[n++ % candidates.length] as string;
        await sup.kill9(victim);
        lastKilled = victim;
        kills++;
        note(`kill -9 ${victim}`);
        const restarted = sup.restart(victim, { waitReady: false });
        const gen = (generation.get(victim) ?? 0) + 1;
        generation.set(victim, gen);
        restarts.push(
          restarted
            .then(() => sup.ready(victim, 120_000))
            .catch((e) => {
              // A worker killed again while still starting (slow on a loaded box, or waiting out an
              // outage) is part of the chaos: only its latest restart has to come back.
              if (generation.get(victim) === gen) failures.push(`${victim} did not come back: ${e}`);
            }),
        );
      }
    })();
    const pgRestart = (async () => {
      if (!faults) return;
      await at(S * 0.3);
      const from = Date.now();
      note('postgres stop');
      await pg.restart(2000);
      outages.push({ what: 'postgres restart', from, to: Date.now() });
      note('postgres up');
    })();
    const blackhole = (async () => {
      if (!faults) return;
      await at(S * 0.5);
      const from = Date.now();
      const len = Math.min(10_000, S / 6);
      note(`database blackholed for ${len / 1000} s`);
      await proxy.cut('blackhole');
      await sleep(len);
      await proxy.restore();
      outages.push({ what: 'blackhole', from, to: Date.now() });
      note('database reachable again');
    })();
    const pause = (async () => {
      if (!faults) return;
      await at(S * 0.7);
      // Not the next kill victim: a paused worker must wake up to find its job taken.
      // One that has been up a while (not the last one killed), so it holds jobs when it freezes.
      paused = workers.find((w) => w !== lastKilled && sup.alive(w)) ?? 'w1';
      note(`SIGSTOP ${paused}`);
      sup.pause(paused);
      await sleep(18_000);
      sup.resume(paused);
      note(`SIGCONT ${paused}`);
      paused = null;
    })();

    await generating;
    await Promise.all(inflight);
    const genEnd = Date.now();
    await Promise.all([killer, pgRestart, blackhole, pause]);
    await Promise.all(restarts);
    figures.generatedSeconds = ((genEnd - t0) / 1000).toFixed(1);

    // ---- drain -------------------------------------------------------------------------------
    const drainFrom = Date.now();
    const pending = () => pendingJobs(pg.url);
    try {
      await waitFor('the queues to drain', async () => (await pending()) === 0, 180_000);
    } catch {
      failures.push(`queues did not drain: ${await pending()} job(s) still pending`);
    }
    await sleep(1000);
    figures.drainSeconds = ((Date.now() - drainFrom) / 1000).toFixed(1);
    note('drained');

    // ---- invariants --------------------------------------------------------------------------
    const statuses = new Map<number, number>();
    for (const s of sent) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
    figures.requests = sent.length;
    figures.acked = acked.length;
    figures.duplicatesAnswered = sent.filter((s) => s.json?.status === 'duplicate').length;
    figures.ignoredOrTest = sent.filter((s) => s.kind === 'other' && s.status === 200).length;
    figures.status503 = statuses.get(503) ?? 0;
    figures.ackP50ms = pct(
      acked.map((s) => s.ms),
      50,
    );
    figures.ackP99ms = pct(
      acked.map((s) => s.ms),
      99,
    );
    figures.kills = kills;
    figures.outages = outages.map((o) => `${o.what} ${((o.to - o.from) / 1000).toFixed(1)}s`).join(', ');

    // 1. Ack means durable.
    const ackedIds = acked.map((s) => s.json?.jobId as string);
    const deliveryJobs = await query<{ job_id: string }>(
      pg.url,
      'select job_id from webhook_deliveries where job_id = any($1::uuid[])',
      [ackedIds],
    );
    const webhookJobs = await inspectJobs(pg.url, (jobs) => jobs.rows({ types: ['webhook'], ids: ackedIds }));
    const webhookJob = new Map(webhookJobs.map((j) => [j.id, j]));
    const lost =
      ackedIds.length -
      new Set(deliveryJobs.filter((r) => webhookJob.has(r.job_id)).map((r) => r.job_id)).size;
    figures.lostAcked = lost;
    if (lost) failures.push(`${lost} acked deliveries are not in the database`);

    // 2. Duplicates answered with the first job; no other 5xx; 503 only in outages.
    const firstJob = new Map(acked.map((s) => [s.key, s.json?.jobId as string]));
    const wrongDup = sent.filter(
      (s) => s.json?.status === 'duplicate' && firstJob.has(s.key) && s.json?.jobId !== firstJob.get(s.key),
    ).length;
    if (wrongDup) failures.push(`${wrongDup} duplicates named another job than the first delivery's`);
    const doubleAcked = acked.length - firstJob.size;
    figures.doubleAcked = doubleAcked;
    if (doubleAcked) failures.push(`${doubleAcked} exact duplicates were accepted as new deliveries`);
    const bad5xx = sent.filter((s) => s.status >= 500 && s.status !== 503).length;
    if (bad5xx) failures.push(`${bad5xx} responses were 5xx other than 503`);
    const inOutage = (s: Sent) => outages.some((o) => s.at >= o.from - 1000 && s.at <= o.to + 6000);
    const stray503 = sent.filter((s) => s.status === 503 && !inOutage(s)).length;
    figures.stray503 = stray503;
    if (stray503) failures.push(`${stray503} 503s outside the outages`);
    const neterr = sent.filter((s) => s.status === 0).length;
    figures.networkErrors = neterr;
    if (neterr)
      failures.push(
        `${neterr} requests got no HTTP answer (${[...new Set(sent.filter((s) => s.status === 0).map((s) => s.error))].join(', ')})`,
      );
    const unexpected = sent.filter((s) => s.status !== 0 && s.status !== 200 && s.status !== 503).length;
    if (unexpected) failures.push(`${unexpected} responses were neither 200 nor 503`);

    // 3. Every acked webhook job completed; nothing doubled down the chain.
    const notCompleted = webhookJobs.filter((j) => j.state !== 'completed');
    if (notCompleted.length) failures.push(`${notCompleted.length} acked webhook jobs did not complete`);
    // Every job but dead letters, looked at once: the checks below group and join it in memory.
    const allJobs = await inspectJobs(pg.url, (jobs) => jobs.rows({ notTypes: ['dead-letter'] }));
    const parentOf = (j: { data: { parentId?: string | null } | null }) => j.data?.parentId ?? null;
    const childGroups = new Map<string, { parent: string; name: string; n: number }>();
    const acked1 = new Set(ackedIds);
    for (const j of allJobs) {
      const parent = parentOf(j);
      if (!parent || !acked1.has(parent)) continue;
      const key = `${parent}\0${j.name}`;
      const g = childGroups.get(key) ?? { parent, name: j.name, n: 0 };
      g.n++;
      childGroups.set(key, g);
    }
    const retriedWebhooks = new Set(webhookJobs.filter((j) => j.retry_count > 0).map((j) => j.id));
    let missingStep = 0;
    let doubledStep = 0;
    for (const s of acked) {
      // A Sonarr delivery also queues `scan-series` (TV): the players' step is the one checked here.
      const want = s.source === 'radarr' ? 'scan-movie' : 'notify-players';
      const c = childGroups.get(`${s.json?.jobId ?? ''}\0${want}`);
      if (!c) missingStep++;
      else if (c.n > 1 && !retriedWebhooks.has(s.json?.jobId ?? '')) doubledStep++;
    }
    doubledStep += doubledFollowUps(allJobs);
    figures.jobsDoubled = doubledStep;
    if (missingStep) failures.push(`${missingStep} acked deliveries have no follow-up job`);
    if (doubledStep) failures.push(`${doubledStep} follow-up jobs were doubled`);

    // 4. Exactly one player scan per delivery (no coalescing window in this run).
    const expected = new Map<string, number>();
    for (const s of acked) if (s.folder) expected.set(s.folder, (expected.get(s.folder) ?? 0) + 1);
    const scans = new Map<string, number>();
    for (const e of ledger.scans())
      if (e.directory) scans.set(e.directory, (scans.get(e.directory) ?? 0) + 1);
    // A player call is at least once: an attempt killed (or cut off from the database) after the
    // player answered but before its completion landed is retried and tells the player again, and a
    // retried upstream attempt whose follow-up had already run re-runs it. Such repeats are the same
    // effective scan, bounded by the retried attempts in that folder's lineage; any other surplus
    // means a doubled job.
    const retriedAttempts = new Map<string, number>();
    const addRetries = (folder: string, n: number) =>
      retriedAttempts.set(folder, (retriedAttempts.get(folder) ?? 0) + n);
    const toPlayerFolder = (p: string) =>
      `${p.startsWith(media) ? `nfs://nas/movies${p.slice(media.length)}` : `nfs://nas/tv${p.slice(tv.length)}`}/`;
    // Any retried attempt in a delivery's lineage may tell the player once more: the webhook job
    // (by its delivery), jobs with the folder in their payload, and the metadata chain (by movie).
    const folderOfJob = new Map(acked.map((s) => [s.json?.jobId ?? '', s.folder]));
    const moviePath = new Map(
      (await query<{ id: number; path: string }>(pg.url, 'select id, path from movies')).map((m) => [
        m.id,
        m.path,
      ]),
    );
    for (const j of allJobs) {
      if (j.retry_count === 0) continue;
      const payload = (j.data?.payload ?? {}) as { path?: string; movieId?: number };
      const path =
        payload.path ?? (payload.movieId !== undefined ? moviePath.get(payload.movieId) : undefined);
      const folder = j.name === 'webhook' ? folderOfJob.get(j.id) : path;
      if (!folder) continue;
      addRetries(j.name === 'webhook' ? folder : toPlayerFolder(folder), j.retry_count);
    }
    let missingScans = 0;
    let extraScans = 0;
    let repeatedScans = 0;
    for (const f of new Set([...expected.keys(), ...scans.keys()])) {
      const d = (scans.get(f) ?? 0) - (expected.get(f) ?? 0);
      if (d < 0) missingScans -= d;
      else {
        const explained = Math.min(d, retriedAttempts.get(f) ?? 0);
        repeatedScans += explained;
        extraScans += d - explained;
      }
    }
    figures.repeatedByRetriedAttempt = repeatedScans;
    figures.playerScans = ledger.scans().length;
    figures.expectedScans = [...expected.values()].reduce((a, b) => a + b, 0);
    figures.missingScans = missingScans;
    figures.extraScans = extraScans;
    if (missingScans || extraScans) {
      const sample = [...new Set([...expected.keys(), ...scans.keys()])]
        .filter((f) => (scans.get(f) ?? 0) !== (expected.get(f) ?? 0))
        .slice(0, 3)
        .map((f) => `${f}: ${scans.get(f) ?? 0} scans for ${expected.get(f) ?? 0} deliveries`);
      figures.scanMismatchSample = sample.join('; ');
    }
    if (missingScans) failures.push(`${missingScans} expected player scans never happened`);
    if (extraScans)
      failures.push(`${extraScans} player scans were doubled (not a retried attempt of the same job)`);

    // 5. Dead letters: exactly the injected poison.
    const dead = await inspectJobs(pg.url, (jobs) => jobs.rows({ types: ['dead-letter'] }));
    const deadIds = new Set(dead.map((d) => d.source_id ?? ''));
    figures.deadLetters = dead.length;
    const strayDead = [...deadIds].filter((id) => !poison.includes(id)).length;
    const poisonMissing = poison.filter((id) => !deadIds.has(id)).length;
    if (strayDead) failures.push(`${strayDead} dead letters are not injected failures`);
    if (poisonMissing)
      failures.push(`${poisonMissing} injected poison jobs are not in the dead-letter queue`);
    const poisonRetried = await inspectJobs(pg.url, (jobs) => jobs.count({ ids: poison, retried: true }));
    if (poisonRetried) failures.push(`${poisonRetried} poison jobs burned retries`);
    figures.jobs = allJobs.length;
    figures.retries = allJobs.reduce((n, j) => n + j.retry_count, 0);

    // 6. Movie rows: every touched movie exists and equals a clean reference run.
    const touched = new Map<number, Sent>();
    for (const s of acked) if (s.movie !== null) touched.set(s.movie, s);
    const rows = await query<Record<string, unknown>>(pg.url, 'select * from movies order by path');
    figures.movieRows = rows.length;
    const byPath = new Map(rows.map((r) => [String(r.path), r]));
    const absent = [...touched.keys()].filter((m) => !byPath.has(path.join(media, movieFolder(m)))).length;
    if (absent) failures.push(`${absent} movies with an acked delivery have no row`);
    if (opts.reference !== false) {
      const ref = await referenceRun(pg.url, { media, tv, dir, env: tmdbEnv }, [...touched.values()]);
      const norm = (r: Record<string, unknown>, root: string) =>
        JSON.stringify(
          Object.fromEntries(
            Object.entries(r)
              .filter(([k]) => k !== 'id' && !/_at$|_on$/.test(k))
              .map(([k, v]) => [k, typeof v === 'string' && v.startsWith(root) ? path.relative(root, v) : v]),
          ),
        );
      const got = new Map(rows.map((r) => [path.relative(media, String(r.path)), norm(r, media)]));
      let diff = Math.abs(ref.rows.length - rows.length);
      for (const r of ref.rows) {
        const mineRow = got.get(path.relative(ref.media, String(r.path)));
        if (mineRow === norm(r, ref.media)) continue;
        diff++;
        if (diff === 1 && mineRow) {
          const a = JSON.parse(mineRow) as Record<string, unknown>;
          const b = JSON.parse(norm(r, ref.media)) as Record<string, unknown>;
          const keys = Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
          figures.referenceRowSample = `${a.path}: ${keys.map((k) => `${k} soak=${JSON.stringify(a[k])} clean=${JSON.stringify(b[k])}`).join('; ')}`;
        }
      }
      figures.referenceMismatches = diff;
      if (diff) failures.push(`${diff} movie rows differ from the clean reference run`);
      if (tmdb) {
        const mine = await libraryHashes(media);
        const files = new Set([...Object.keys(mine), ...Object.keys(ref.files)]);
        const fileDiff = [...files].filter((f) => mine[f] !== ref.files[f]);
        figures.metadataFiles = Object.keys(mine).length;
        figures.metadataFileMismatches = fileDiff.length;
        const first = fileDiff[0];
        if (first?.endsWith('.nfo')) {
          const read = (root: string) => fs.readFile(path.join(root, first), 'utf8').catch(() => '');
          const [a, b] = [(await read(media)).split('\n'), (await read(ref.media)).split('\n')];
          figures.metadataFileSample = `${first}: soak only ${JSON.stringify(a.filter((l) => !b.includes(l)).slice(0, 3))}, clean only ${JSON.stringify(b.filter((l) => !a.includes(l)).slice(0, 3))}`;
        }
        if (fileDiff.length)
          failures.push(
            `${fileDiff.length} NFO/artwork files differ from the clean reference run (${fileDiff.slice(0, 3).join(', ')})`,
          );
      }
    } else {
      figures.referenceMismatches = 'not compared';
    }
    figures.metadataPipeline = tmdb
      ? 'on (fake TMDB): NFO/artwork hashes compared with the reference run'
      : 'off (no TMDB key; the CI run and --no-metadata): NFO/artwork not compared';
    figures.staleAttemptsFenced = (sup.output().match(/Job attempt superseded/g) ?? []).length;
    figures.events = events.join(' | ');
    for (const name of ['api', ...workers]) {
      if (!sup.alive(name)) {
        const { code, signal } = await sup.get(name).exited;
        failures.push(`${name} died (${code ?? signal}): ${sup.get(name).output().slice(-1500)}`);
      }
    }
    await sup.stopAll();
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
  return { ok: failures.length === 0, failures, figures };
}

/** Relative path → sha256 of every file Metarr wrote (the video files are the soak's own). */
async function libraryHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.endsWith('.mkv')) continue;
    const file = path.join(e.parentPath, e.name);
    out[path.relative(dir, file)] = createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
  }
  return out;
}

/**
 * The clean reference: the last acked delivery of each touched movie, replayed without faults on a
 * fresh database and a fresh copy of the same video files (timestamps kept), in this process.
 */
async function referenceRun(
  adminUrl: string,
  where: { media: string; tv: string; dir: string; env: Record<string, string> },
  deliveries: Sent[],
): Promise<{ media: string; rows: Record<string, unknown>[]; files: Record<string, string> }> {
  const media = path.join(where.dir, 'reference-movies');
  for (const s of deliveries) {
    const folder = movieFolder(s.movie as number);
    await fs.mkdir(path.join(media, folder), { recursive: true });
    const video = path.join(folder, `${folder}.mkv`);
    await fs.copyFile(path.join(where.media, video), path.join(media, video));
    const st = await fs.stat(path.join(where.media, video));
    await fs.utimes(path.join(media, video), st.atime, st.mtime);
  }
  const prev = process.env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = adminUrl;
  const teardown: (() => unknown)[] = [];
  try {
    const stack = await startStack({ teardown: (fn) => teardown.push(fn) }, { env: where.env });
    const kodi = await startFakeKodi();
    teardown.push(() => kodi.close());
    await seedLibrary(stack.api, { media, tv: where.tv, kodiPorts: [kodi.port], debounceSeconds: 0 });
    for (const s of deliveries) await stack.api('POST', '/api/webhooks/radarr', s.body);
    await waitFor(
      'the reference run',
      async () => kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').length >= deliveries.length,
      180_000,
    );
    const rows = await query<Record<string, unknown>>(
      stack.database.url,
      'select * from movies order by path',
    );
    return { media, rows, files: await libraryHashes(media) };
  } finally {
    for (const fn of teardown.reverse()) await Promise.resolve(fn()).catch(() => {});
    if (prev === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = prev;
  }
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`--${name} must be a positive number\n`);
    process.exit(2);
  }
  return v;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seconds = arg('seconds', 180);
  const rate = arg('rate', 20);
  const started = Date.now();
  const report = await runSoak({
    seconds,
    rate,
    reference: !process.argv.includes('--no-reference'),
    metadata: !process.argv.includes('--no-metadata'),
    faults: !process.argv.includes('--no-faults'),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(
    `\nSoak report (${seconds} s at ${rate}/s, ${((Date.now() - started) / 1000).toFixed(0)} s wall)\n`,
  );
  for (const [k, v] of Object.entries(report.figures)) process.stdout.write(`  ${k.padEnd(22)} ${v}\n`);
  process.stdout.write(
    report.ok
      ? '\nPASS: nothing lost, nothing doubled\n'
      : `\nFAIL:\n${report.failures.map((f) => `  - ${f}`).join('\n')}\n`,
  );
  process.exit(report.ok ? 0 : 1);
}
