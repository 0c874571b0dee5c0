/** Shared set-up for the media-server notification tests: a movie library and player groups. */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type FakeJellyfin,
  type FakeKodi,
  type FakePlex,
  mappedRoot,
  startFakeJellyfin,
  startFakeKodi,
  startFakePlex,
} from '@metarr/testkit';
import { ROOT, type Stack, waitFor } from './stack.ts';

export const MOVIE = 'The Matrix (1999)';

export async function radarrFixture(name: string): Promise<any> {
  return JSON.parse(await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', name), 'utf8'));
}

/** A Radarr Download of the Matrix with its own downloadId, so that each one is a new delivery. */
export async function download(n: number): Promise<any> {
  const body = await radarrFixture('radarr-download.json');
  body.downloadId = `BURST${String(n).padStart(4, '0')}`;
  return body;
}

/** The part of a tap Test the helpers use (tap's assertion signatures are overloaded generics). */
type Checks = { testdir(fixture: any): string; equal(...args: any[]): unknown };

/** A library at `<dir>/movies` with the Matrix folder on disk, and Radarr's /movies mapped to it. */
export async function movieLibrary(
  t: Checks,
  stack: Stack,
): Promise<{ id: number; root: string; folder: string }> {
  const media = t.testdir({ movies: { [MOVIE]: { [`${MOVIE} [Bluray-1080p].mkv`]: 'video-bytes' } } });
  const root = path.join(media, 'movies');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  t.equal(lib.status, 201, lib.text);
  const m = await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: root });
  t.equal(m.status, 201, m.text);
  return { id: lib.json.id, root, folder: path.join(root, MOVIE) };
}

export interface PlayerSpec {
  name: string;
  port: number;
  username?: string;
  password?: string;
  apiKey?: string;
}

/** Creates a group with its players through the API; returns the group id and player ids. */
export async function playerGroup(
  t: Pick<Checks, 'equal'>,
  stack: Stack,
  group: Record<string, unknown> & { type: string },
  players: PlayerSpec[],
): Promise<{ id: number; playerIds: number[] }> {
  const g = await stack.api('POST', '/api/player-groups', group);
  t.equal(g.status, 201, g.text);
  const playerIds: number[] = [];
  for (const p of players) {
    const r = await stack.api('POST', '/api/players', {
      groupId: g.json.id,
      type: group.type,
      host: '127.0.0.1',
      ...p,
    });
    t.equal(r.status, 201, r.text);
    playerIds.push(r.json.id);
  }
  return { id: g.json.id, playerIds };
}

/** A shared-library Kodi group on `lib`, its folder seen as smb://nas/movies/, with these players. */
export function kodiGroup(
  t: Pick<Checks, 'equal'>,
  stack: Stack,
  lib: { id: number; root: string },
  players: PlayerSpec[],
): Promise<{ id: number; playerIds: number[] }> {
  return playerGroup(
    t,
    stack,
    {
      name: 'Living room',
      type: 'kodi',
      sharedLibrary: true,
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: 'smb://nas/movies/' }],
    },
    players,
  );
}

export interface BossJob {
  id: string;
  name: string;
  state: string;
  retry_count: number;
  data: { payload: Record<string, unknown>; parentId: string | null };
  output: any;
  start_after: Date;
}

export async function jobsOf(stack: Stack, name: string): Promise<BossJob[]> {
  return (await stack.jobs.rows({ types: [name] })) as BossJob[];
}

/** Player notifications: the library-level fan-outs (`notify-players`) and each group's (`notify-group`), oldest first. */
export async function notifyJobs(stack: Stack): Promise<BossJob[]> {
  return (await stack.jobs.rows({ types: ['notify-players', 'notify-group'] })) as BossJob[];
}

/** Waits until no job of these queues is waiting, retrying or running. */
export async function settled(stack: Stack, names: string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${names.join(', ')} to settle`,
    async () => {
      return (await stack.jobs.count({ types: names, states: ['created', 'retry', 'active'] })) === 0;
    },
    timeoutMs,
  );
}

/** Waits until the clock is early in a coalescing window, so a short burst cannot straddle two. */
export async function startOfWindow(seconds: number, slackMs = 400): Promise<void> {
  const ms = seconds * 1000;
  const into = Date.now() % ms;
  if (into < slackMs) return;
  await new Promise((r) => setTimeout(r, ms - into + 20));
}

/**
 * A Kodi (cleaning on), a Jellyfin and a Plex group on `lib`, each a fake that sees the library's
 * files (`toLocal`), so its scans and cleans change its library as a real server's would.
 * `held()` lists each player's entries as the folder of each file, relative to the library root.
 */
export async function statefulPlayers(
  t: Pick<Checks, 'equal'> & { teardown(fn: () => unknown): void },
  stack: Stack,
  lib: { id: number; root: string },
): Promise<{
  kodi: FakeKodi;
  jf: FakeJellyfin;
  plex: FakePlex;
  held(): { kodi: string[]; jellyfin: string[]; plex: string[] };
}> {
  const kodi = await startFakeKodi({ toLocal: mappedRoot('smb://nas/movies', lib.root) });
  const jf = await startFakeJellyfin({ apiKey: 'jf', toLocal: mappedRoot('/data/movies', lib.root) });
  const plex = await startFakePlex({ token: 'px', toLocal: mappedRoot('/data/movies', lib.root) });
  t.teardown(() => Promise.all([kodi.close(), jf.close(), plex.close()]));
  const group = (name: string, type: string, to: string, cleanAfterDelete: boolean) => ({
    name,
    type,
    libraryIds: [lib.id],
    pathMappings: [{ from: lib.root, to }],
    cleanAfterDelete,
  });
  await playerGroup(t, stack, group('Kodi', 'kodi', 'smb://nas/movies/', true), [
    { name: 'Kodi', port: kodi.port },
  ]);
  await playerGroup(t, stack, group('Jellyfin', 'jellyfin', '/data/movies', false), [
    { name: 'Jellyfin', port: jf.port, apiKey: 'jf' },
  ]);
  await playerGroup(t, stack, group('Plex', 'plex', '/data/movies', false), [
    { name: 'Plex', port: plex.port, apiKey: 'px' },
  ]);
  const folderOf = (file: string, root: string) => path.posix.dirname(file.slice(root.length));
  const held = () => ({
    kodi: [...kodi.movies.values()].map((m) => folderOf(m.file, 'smb://nas/movies/')),
    jellyfin: [...jf.items.values()].map((i) => folderOf(i.Path, '/data/movies/')),
    plex: plex.movies.map((m) => folderOf(m.file, '/data/movies/')),
  });
  return { kodi, jf, plex, held };
}
