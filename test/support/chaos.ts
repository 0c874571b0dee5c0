/**
 * Fault helpers for the reliability suite: a restartable PostgreSQL, backend termination, an HTTP
 * gate that holds a player's request (so a test knows a job is mid-flight), and the library/player
 * setup and webhook bodies the fault tests share. The TCP chaos proxy is @metarr/testkit's.
 */
import { readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {
  createDb,
  createJobInspector,
  type EmbeddedDatabase,
  type InspectedJob,
  type JobInspector,
  type JobQuery,
  startEmbeddedPostgres,
} from '@metarr/core';
import pg from 'pg';
import { ROOT } from './stack.ts';

const fixtures = new Map<string, string>();
/** A fresh copy of a webhook fixture from test/fixtures/webhooks. */
function fixture(name: string): Record<string, unknown> {
  let text = fixtures.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(ROOT, 'test', 'fixtures', 'webhooks', `${name}.json`), 'utf8');
    fixtures.set(name, text);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

// ---- PostgreSQL --------------------------------------------------------------------------------

export interface RestartablePostgres {
  url: string;
  port: number;
  /** Fast shutdown (what `pg_ctl stop -m fast` does): every connection is dropped. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  restart(downMs?: number): Promise<void>;
  /** kill -9 of the postmaster (a crash: no shutdown checkpoint), then a start that runs crash recovery. */
  crashRestart(downMs?: number): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** A private embedded PostgreSQL on a persistent data dir, so it can be stopped and started again. */
export async function startRestartablePostgres(
  opts: {
    port?: number;
    start?: boolean;
    /** `durable` (default): a crash loses no commit. `fast` (fsync and synchronous_commit off) would. */
    tuning?: 'durable' | 'fast';
  } = {},
): Promise<RestartablePostgres> {
  const dataDir = path.join(ROOT, '.tmp', `reliability-pg-${process.pid}-${Date.now().toString(36)}`);
  let server: EmbeddedDatabase | null = null;
  const { freePort } = await import('@metarr/core');
  const port = opts.port ?? (await freePort());
  const start = async () => {
    server = await startEmbeddedPostgres({
      dataDir,
      persistent: true,
      port,
      tuning: opts.tuning ?? 'durable',
    });
  };
  const stop = async () => {
    const s = server;
    server = null;
    await s?.stop();
  };
  // Should the test process end before its teardown ran, the data directory still goes.
  const removeOnExit = () => rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  if (opts.start !== false) await start();
  return {
    url: `postgres://postgres:metarr-embedded@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async restart(downMs = 0) {
      await stop();
      if (downMs) await sleep(downMs);
      await start();
    },
    async crashRestart(downMs = 0) {
      const pid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      // Its backends notice the postmaster is gone and exit; the old shared memory must be released.
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(50);
      }
      // Not stop(): it would wait for an exit that already happened.
      server = null;
      if (downMs) await sleep(downMs);
      for (let attempt = 1; ; attempt++) {
        try {
          await start();
          return;
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(250);
        }
      }
    },
    async destroy() {
      // Bounded: a server that is already gone never reports its exit.
      await Promise.race([stop().catch(() => {}), sleep(10_000)]);
      await fs.rm(dataDir, { recursive: true, force: true });
      process.off('exit', removeOnExit);
    },
  };
}

/** `pg_terminate_backend` on every connection whose application_name matches (e.g. `metarr-worker`). */
export async function terminateBackends(adminUrl: string, applicationName: string): Promise<number> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>(
      `select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity
       where application_name = $1 and pid <> pg_backend_pid()`,
      [applicationName],
    );
    return rows[0]?.n ?? 0;
  } finally {
    await c.end().catch(() => {});
  }
}

export async function query<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

/** One short connection to look at the job table through the store (as `query` for SQL). */
export async function inspectJobs<T>(url: string, fn: (jobs: JobInspector) => Promise<T>): Promise<T> {
  const handle = createDb(url, { max: 1 });
  try {
    return await fn(createJobInspector(handle.db));
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Follow-ups created twice: children of one parent with the same type and payload. A retried parent
 * whose follow-up had already run legitimately runs it again, so only parents never retried count.
 */
export function doubledFollowUps(rows: readonly InspectedJob[]): number {
  const byId = new Map(rows.map((j) => [j.id, j]));
  const siblings = new Map<string, number>();
  for (const c of rows) {
    const parent = byId.get(c.data?.parentId ?? '');
    if (parent?.retry_count !== 0) continue;
    const key = `${parent.id}\0${c.name}\0${JSON.stringify(c.data?.payload ?? null)}`;
    siblings.set(key, (siblings.get(key) ?? 0) + 1);
  }
  return [...siblings.values()].filter((n) => n > 1).length;
}

// ---- HTTP gate ---------------------------------------------------------------------------------

export interface GateRequest {
  method: string;
  url: string;
  body: string;
  at: number;
  /** held: waiting for release(); dropped: its client went away while held. */
  fate: 'forwarded' | 'held' | 'dropped';
}

export interface Gate {
  port: number;
  requests: GateRequest[];
  /** Holds the next request that matches; resolves when it arrives. */
  holdNext(match?: (r: GateRequest) => boolean): Promise<GateRequest>;
  /** Forwards every held request whose client is still connected. */
  release(): void;
  close(): Promise<void>;
}

/**
 * An HTTP forwarder in front of a fake player. Holding a request is how a test knows that a job is
 * in the middle of its side effect, so it can kill or pause exactly that worker at that point.
 */
export async function startGate(target: { port: number; delayMs?: number }): Promise<Gate> {
  const requests: GateRequest[] = [];
  const held: { r: GateRequest; go: () => void }[] = [];
  let want: { match: (r: GateRequest) => boolean; resolve: (r: GateRequest) => void } | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const r: GateRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        body: body.toString('utf8'),
        at: Date.now(),
        fate: 'forwarded',
      };
      requests.push(r);
      const forward = () => {
        const up = http.request(
          { host: '127.0.0.1', port: target.port, method: r.method, path: r.url, headers: req.headers },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', () => res.destroy());
        up.end(body);
      };
      if (want?.match(r)) {
        const w = want;
        want = null;
        r.fate = 'held';
        held.push({
          r,
          go: () => {
            if (res.destroyed || req.socket.destroyed) {
              r.fate = 'dropped';
              return;
            }
            r.fate = 'forwarded';
            forward();
          },
        });
        req.socket.on('close', () => {
          if (r.fate === 'held') r.fate = 'dropped';
        });
        w.resolve(r);
        return;
      }
      if (target.delayMs) setTimeout(forward, target.delayMs);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    holdNext(match = () => true) {
      return new Promise((resolve) => {
        want = { match, resolve };
      });
    },
    release() {
      for (const h of held.splice(0)) h.go();
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---- setup shared by the fault tests -----------------------------------------------------------

export type Call = (
  method: string,
  route: string,
  body?: unknown,
) => Promise<{ status: number; json: any; text: string }>;

/**
 * A movie library at `media` (Radarr's `/movies` maps onto it), optionally a TV library at `tv`
 * (Sonarr's `/tv`), and one Kodi group with a player per given port.
 */
export async function seedLibrary(
  call: Call,
  opts: {
    media: string;
    tv?: string;
    kodiPorts: number[];
    debounceSeconds?: number;
    playerPassword?: string;
  },
): Promise<{ libraryId: number; tvLibraryId?: number; groupId: number; playerIds: number[] }> {
  const must = async (method: string, route: string, body: unknown) => {
    const r = await call(method, route, body);
    if (r.status >= 300) throw new Error(`${method} ${route} → ${r.status} ${r.text}`);
    return r.json;
  };
  const lib = await must('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: opts.media });
  await must('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: opts.media });
  const libraryIds = [lib.id];
  let tvLibraryId: number | undefined;
  if (opts.tv) {
    const tv = await must('POST', '/api/libraries', { name: 'TV', type: 'tv', path: opts.tv });
    await must('POST', '/api/path-mappings', { manager: 'sonarr', from: '/tv', to: opts.tv });
    tvLibraryId = tv.id;
    libraryIds.push(tv.id);
  }
  const group = await must('POST', '/api/player-groups', {
    name: 'Kodi',
    type: 'kodi',
    libraryIds,
    ...(opts.debounceSeconds !== undefined && { debounceSeconds: opts.debounceSeconds }),
    pathMappings: [
      { from: opts.media, to: 'nfs://nas/movies/' },
      ...(opts.tv ? [{ from: opts.tv, to: 'nfs://nas/tv/' }] : []),
    ],
  });
  const playerIds: number[] = [];
  for (const [i, port] of opts.kodiPorts.entries()) {
    const p = await must('POST', '/api/players', {
      groupId: group.id,
      name: `kodi-${i + 1}`,
      type: 'kodi',
      host: '127.0.0.1',
      port,
      ...(opts.playerPassword && { username: 'kodi', password: opts.playerPassword }),
    });
    playerIds.push(p.id);
  }
  return {
    libraryId: lib.id,
    ...(tvLibraryId !== undefined && { tvLibraryId }),
    groupId: group.id,
    playerIds,
  };
}

export function movieFolder(i: number): string {
  return `Movie ${String(i).padStart(4, '0')} (${1950 + (i % 70)})`;
}

/** `n` movie folders, each with a video file, for a testdir/fs tree. */
export function movieTree(n: number): Record<string, Record<string, string>> {
  const tree: Record<string, Record<string, string>> = {};
  for (let i = 1; i <= n; i++) tree[movieFolder(i)] = { [`${movieFolder(i)}.mkv`]: 'v' };
  return tree;
}

export async function writeMovieTree(dir: string, n: number): Promise<void> {
  for (const [folder, files] of Object.entries(movieTree(n))) {
    await fs.mkdir(path.join(dir, folder), { recursive: true });
    for (const [f, c] of Object.entries(files)) await fs.writeFile(path.join(dir, folder, f), c);
  }
}

/** A Radarr Download of movie `i` (folder `/movies/<movieFolder(i)>`); `fileId` makes it unique. */
export function radarrDownload(i: number, fileId: number): Record<string, unknown> {
  const body = fixture('radarr-download') as any;
  const folder = movieFolder(i);
  body.movie.id = i;
  body.movie.title = `Movie ${i}`;
  body.movie.year = 1950 + (i % 70);
  body.movie.folderPath = `/movies/${folder}`;
  body.movie.tmdbId = 100_000 + i;
  body.movie.imdbId = `tt${String(9_000_000 + i)}`;
  body.remoteMovie = {
    tmdbId: 100_000 + i,
    imdbId: `tt${String(9_000_000 + i)}`,
    title: `Movie ${i}`,
    year: body.movie.year,
  };
  body.movieFile.id = fileId;
  body.movieFile.relativePath = `${folder}.mkv`;
  body.movieFile.path = `/movies/${folder}/${folder}.mkv`;
  body.downloadId = `DL${fileId}`;
  return body;
}

/** One Sonarr Download (one episode file of a season pack) for series `s`. */
export function sonarrDownload(s: number, episode: number, fileId: number): Record<string, unknown> {
  const body = fixture('sonarr-download') as any;
  const folder = `/tv/Series ${s}`;
  body.series.id = s;
  body.series.title = `Series ${s}`;
  body.series.path = folder;
  const ep = body.episodes[0];
  ep.id = fileId;
  ep.episodeNumber = episode;
  ep.seasonNumber = 1;
  body.episodes = [ep];
  body.episodeFile.id = fileId;
  body.episodeFile.relativePath = `Season 01/Series ${s} - S01E${String(episode).padStart(2, '0')}.mkv`;
  body.episodeFile.path = `${folder}/${body.episodeFile.relativePath}`;
  body.downloadId = `SPACK${s}`;
  return body;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- traffic -----------------------------------------------------------------------------------

export interface Delivery {
  source: 'radarr' | 'sonarr';
  body: Record<string, unknown>;
  /** Player folder the delivery should end in a scan of. */
  folder: string | null;
  at: number;
  ms: number;
  status: number;
  json: any;
  error?: string;
}

/** Fire-and-record webhook traffic against one API (open loop: no request waits for another). */
export class Traffic {
  readonly all: Delivery[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly base: string;
  private readonly apiKey: string;
  constructor(base: string, apiKey: string) {
    this.base = base;
    this.apiKey = apiKey;
  }
  post(source: 'radarr' | 'sonarr', body: Record<string, unknown>, folder: string | null): Promise<void> {
    const d: Delivery = { source, body, folder, at: Date.now(), ms: 0, status: 0, json: null };
    this.all.push(d);
    const p = fetch(`${this.base}/api/webhooks/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': this.apiKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
      .then(async (res) => {
        d.status = res.status;
        d.json = await res.json().catch(() => null);
      })
      .catch((err: Error) => {
        d.error = err.name;
      })
      .finally(() => {
        d.ms = Date.now() - d.at;
        this.inflight.delete(p);
      });
    this.inflight.add(p);
    return p;
  }
  /** 200 with a new job: the API promised the delivery is durable. */
  acked(): Delivery[] {
    return this.all.filter((d) => d.status === 200 && d.json?.status === 'success' && d.json.jobId);
  }
  async settle(): Promise<void> {
    await Promise.all(this.inflight);
  }
  /** Acked deliveries per player folder. */
  expectedScans(): Map<string, number> {
    const m = new Map<string, number>();
    for (const d of this.acked()) if (d.folder) m.set(d.folder, (m.get(d.folder) ?? 0) + 1);
    return m;
  }
}

/** Jobs not finished yet, scheduled maintenance excluded. */
export const UNFINISHED: JobQuery = {
  states: ['created', 'retry', 'active'],
  notTypes: ['dead-letter', 'scheduled-file-scan', 'scheduled-provider-update'],
};

/** Counts jobs that are not finished yet (scheduled maintenance excluded). */
export async function pendingJobs(url: string): Promise<number> {
  return inspectJobs(url, (jobs) => jobs.count(UNFINISHED));
}
