/**
 * MediaPlayerNotificationService — tells the media servers of a player group to rescan exactly the
 * folder that changed.
 *
 * A group with `sharedLibrary: true` is a set of Kodi boxes sharing one (MySQL) library: one scan
 * updates them all, so the players are tried in order and the first success ends the round. Otherwise
 * every enabled player keeps its own library and each one is asked.
 */
import { createJellyfinClient } from '../clients/jellyfin.ts';
import type { ClientOptions } from '../clients/kodi.ts';
import { createKodiClient } from '../clients/kodi.ts';
import { createPlexClient, findSectionForPath, type PlexSection } from '../clients/plex.ts';
import { AppError, errorCode, errorMessage, isRetryable } from '../errors.ts';
import { type Logger, serviceLogger } from '../log.ts';
import { containsPath, kodiFolder, trimTrailingSeparators } from '../paths.ts';
import type { PlayerConn } from '../records/players.ts';

export const NOTIFICATION_SERVICE = 'MediaPlayerNotificationService';

import type { PlayerType } from '../db/schema.ts';

export type { PlayerConn, PlayerType };
export type MediaKind = 'video' | 'music';
export type MediaChange = 'created' | 'modified' | 'deleted';

export interface RefreshOptions {
  mediaKind: MediaKind;
  change: MediaChange;
  signal?: AbortSignal;
  /** Kodi: a delete runs `VideoLibrary.Clean {directory}` only when the group enables it. */
  cleanAfterDelete?: boolean;
  /** Kodi: ask `Player.GetActivePlayers` first and defer the player while something plays. */
  deferWhilePlaying?: boolean;
  /**
   * The item's NFO or artwork were rewritten (a republish that changed files). A player that already
   * holds the item for `videoFile` (a file name in the folder) is asked to refresh it instead of
   * scanning the folder, since a scan skips known items; a player without it still gets the scan.
   * Jellyfin/Emby and Plex are searched by `title`, then matched on the file's path; when that finds
   * nothing, by `previousTitle` (a renamed movie is listed under its old name until it is refreshed).
   */
  refreshItem?: { videoFile: string | null; title: string | null; previousTitle?: string | null };
}

/** What a player was asked to do for a folder, when it was more than the change implies. */
export type FolderAction = 'refreshed';

export interface MediaServerClient {
  // biome-ignore lint/suspicious/noConfusingVoidType: most clients only notify and return nothing.
  refreshFolder(folder: string, opts: RefreshOptions): Promise<FolderAction | void>;
  test(signal?: AbortSignal): Promise<{ version: string; name?: string }>;
  /** Whether the player is playing right now (Kodi only; others never defer). */
  isPlaying?(signal?: AbortSignal): Promise<boolean>;
}

export type ClientFactory = (player: PlayerConn) => MediaServerClient;

export interface GroupTarget {
  groupId: number;
  groupName: string;
  sharedLibrary: boolean;
  /** Enabled players, in the order they are tried. */
  players: PlayerConn[];
  /** The changed folder, already in the players' form (see mapGroupPath). */
  folder: string;
}

export interface NotifyFailure {
  playerId: number;
  code: string;
  message: string;
  retryable: boolean;
}

export interface NotifyResult {
  groupId: number;
  notified: number[];
  failures: NotifyFailure[];
  /** Players skipped because they were playing; the caller schedules them again. */
  deferred: number[];
  /** Players that re-read a known item instead of scanning its folder (see RefreshOptions.refreshItem). */
  refreshed?: number[];
  /** Set when the group had nothing to do (e.g. a delete with cleaning off). */
  skipped?: string;
}

// ---------------------------------------------------------------------------------------------
// Paths

function parentWithin(folder: string, root: string): string {
  const parent = folder.replace(/[\\/]+[^\\/]+[\\/]*$/, '');
  if (parent === folder || parent === '' || containsPath(root, parent) < 0) return root;
  return parent;
}

// ---------------------------------------------------------------------------------------------
// Clients

const UPDATE_TYPE = { created: 'Created', modified: 'Modified', deleted: 'Deleted' } as const;

/**
 * The player's items for the video file now in `folder` (the player's form). An entry for another
 * file (the one a Radarr upgrade replaced) is stale: refreshing it would not add the new file, so
 * only a scan does.
 */
function knownVideo<T extends { file: string }>(items: T[], folder: string, videoFile: string | null): T[] {
  const slashes = (p: string) => p.replaceAll('\\', '/');
  const dir = `${slashes(trimTrailingSeparators(folder))}/`;
  const want = videoFile ? `${dir}${slashes(videoFile)}` : null;
  return items.filter((m) => {
    const file = slashes(m.file);
    return want ? file === want : file.startsWith(dir);
  });
}

/**
 * The player's items for the movie: searched by its title, then by its previous one (see
 * RefreshOptions.refreshItem), keeping those whose file is the movie's (knownVideo).
 */
async function findByTitles<T extends { file: string }>(
  item: NonNullable<RefreshOptions['refreshItem']>,
  folder: string,
  search: (title: string) => Promise<T[]>,
): Promise<T[]> {
  const titles = [...new Set([item.title, item.previousTitle].filter((x): x is string => !!x))];
  for (const title of titles) {
    const known = knownVideo(await search(title), folder, item.videoFile);
    if (known.length) return known;
  }
  return [];
}

/** Whether a notification should first look for the item to refresh (see RefreshOptions.refreshItem). */
const wantsItemRefresh = (o: RefreshOptions) =>
  !!o.refreshItem && o.change !== 'deleted' && o.mediaKind === 'video';

/** How long one Plex client reuses the section list it read (see MediaClientOptions). */
export const PLEX_SECTIONS_TTL_MS = 5_000;

export interface MediaClientOptions extends ClientOptions {
  /**
   * Plex: the section list (`/library/sections`) a client read is reused for this long, so a batch of
   * notifications asks once instead of once per folder; a changed list is seen once it is older.
   * Default PLEX_SECTIONS_TTL_MS; 0 reads it every time.
   */
  sectionsTtlMs?: number;
  /** Clock for the TTL (tests). */
  now?: () => number;
}

/** The real client for a player; composition roots pass this (or a wrapper) as `clientFor`. */
export function createMediaServerClient(
  player: PlayerConn,
  opts: MediaClientOptions = {},
): MediaServerClient {
  switch (player.type) {
    case 'kodi': {
      const kodi = createKodiClient(player, opts);
      return {
        async refreshFolder(folder, o) {
          const dir = kodiFolder(folder);
          // Cleaning is opt-in per group (it can drop items of a share that is briefly offline).
          if (o.change === 'deleted' && !o.cleanAfterDelete) return;
          if (o.mediaKind === 'music') {
            // AudioLibrary.Clean has no directory parameter: a removal cleans the music library.
            if (o.change === 'deleted') await kodi.cleanAudio(o.signal);
            else await kodi.scanAudio(dir, o.signal);
          } else if (o.change === 'deleted') {
            await kodi.cleanVideo(dir, o.signal);
          } else {
            if (o.refreshItem) {
              const known = knownVideo(
                await kodi.moviesInFolder(dir, o.signal),
                dir,
                o.refreshItem.videoFile,
              );
              for (const m of known) await kodi.refreshMovie(m.movieid, o.signal);
              if (known.length) return 'refreshed';
            }
            await kodi.scanVideo(dir, o.signal);
          }
          return undefined;
        },
        async test(signal) {
          await kodi.ping(signal);
          const v = await kodi.version(signal);
          return { version: `${v.major}.${v.minor}.${v.patch}`, name: 'Kodi JSON-RPC' };
        },
        async isPlaying(signal) {
          // Music in the background does not stutter from a scan; a video does.
          return (await kodi.activePlayers(signal)).some((p) => p.type === 'video');
        },
      };
    }
    case 'jellyfin':
    case 'emby': {
      const jf = createJellyfinClient(player, player.type, opts);
      return {
        async refreshFolder(folder, o) {
          const path = trimTrailingSeparators(folder);
          if (wantsItemRefresh(o) && o.refreshItem) {
            const known = await findByTitles(o.refreshItem, path, (title) => jf.findMovies(title, o.signal));
            for (const item of known) await jf.refreshItem(item.id, o.signal);
            if (known.length) return 'refreshed';
          }
          await jf.mediaUpdated([{ path, updateType: UPDATE_TYPE[o.change] }], o.signal);
          return undefined;
        },
        async test(signal) {
          const info = await jf.publicInfo(signal);
          // The public endpoint answers anyone: prove the API key as well.
          await jf.systemInfo(signal);
          return info.name === undefined
            ? { version: info.version }
            : { version: info.version, name: info.name };
        },
      };
    }
    case 'plex': {
      const plex = createPlexClient(player, opts);
      const ttl = opts.sectionsTtlMs ?? PLEX_SECTIONS_TTL_MS;
      const now = opts.now ?? Date.now;
      let cached: { at: number; list: Promise<PlexSection[]> } | null = null;
      /** The section list, and whether it came from the cache (read earlier). */
      const sectionList = async (signal?: AbortSignal): Promise<{ list: PlexSection[]; reused: boolean }> => {
        const t = now();
        if (cached && t - cached.at < ttl) return { list: await cached.list, reused: true };
        const list = plex.sections(signal);
        const entry = { at: t, list };
        cached = entry;
        // A failed read is not kept: the next notification asks again.
        list.catch(() => {
          if (cached === entry) cached = null;
        });
        return { list: await list, reused: false };
      };
      const notify = async (sections: PlexSection[], path: string, o: RefreshOptions) => {
        const { section, location } = findSectionForPath(player.name, sections, path, o.mediaKind);
        if (wantsItemRefresh(o) && o.refreshItem) {
          const found = await findByTitles(o.refreshItem, path, (title) =>
            plex.findMovies(section.key, title, o.signal),
          );
          // One item may have several parts (stacked files): refresh each item once.
          const keys = [...new Set(found.map((i) => i.id))];
          for (const key of keys) await plex.refreshItem(key, o.signal);
          if (keys.length) return 'refreshed' as const;
        }
        // A partial scan of a folder that no longer exists finds nothing to remove; its parent does.
        const target = o.change === 'deleted' ? parentWithin(path, location) : path;
        await plex.refreshSection(section.key, target, o.signal);
        return undefined;
      };
      return {
        async refreshFolder(folder, o) {
          const path = trimTrailingSeparators(folder);
          const { list, reused } = await sectionList(o.signal);
          try {
            return await notify(list, path, o);
          } catch (err) {
            // A reused list may be stale (a section removed or moved since): never fail on it, read
            // the list again and retry once.
            if (!reused || o.signal?.aborted) throw err;
            cached = null;
            return notify((await sectionList(o.signal)).list, path, o);
          }
        },
        async test(signal) {
          const id = await plex.identity(signal);
          // /identity is public: listing the sections proves the token.
          await plex.sections(signal);
          return { version: id.version };
        },
      };
    }
    default: {
      const unknown: never = player.type;
      throw new AppError('PLAYER_TYPE_UNKNOWN', `player ${player.name} has unknown type ${String(unknown)}`, {
        retryable: false,
      });
    }
  }
}

/**
 * The clients for one batch of notifications: one instance per player (so a Plex client's section
 * list is read once), and a Kodi's `isPlaying` asked once for the batch instead of once per folder.
 */
export function shareClients(clientFor: ClientFactory): ClientFactory {
  const clients = new Map<number, MediaServerClient>();
  return (player) => {
    let c = clients.get(player.id);
    if (c) return c;
    const inner = clientFor(player);
    let playing: Promise<boolean> | null = null;
    c = {
      refreshFolder: (folder, o) => inner.refreshFolder(folder, o),
      test: (signal) => inner.test(signal),
      ...(inner.isPlaying && {
        isPlaying: (signal?: AbortSignal) => {
          playing ??= (inner.isPlaying as (s?: AbortSignal) => Promise<boolean>).call(inner, signal);
          return playing;
        },
      }),
    };
    clients.set(player.id, c);
    return c;
  };
}

// ---------------------------------------------------------------------------------------------
// Group notification

export async function notifyGroup(
  deps: { log: Logger; clientFor: ClientFactory },
  target: GroupTarget,
  opts: RefreshOptions,
): Promise<NotifyResult> {
  const log = serviceLogger(deps.log, NOTIFICATION_SERVICE);
  const { groupId } = target;
  const notified: number[] = [];
  const failures: NotifyFailure[] = [];
  const deferred: number[] = [];
  const refreshed: number[] = [];
  // Attempt lines are written in order once the group's outcome is known: a failure is a warn when
  // another player was reached, a debug line when none was (the thrown error carries every failure
  // and the job runner logs it once, so per-player lines would repeat it).
  const attempts: { fields: Record<string, unknown>; msg: string; failed: boolean }[] = [];

  if (target.players.length === 0) {
    log.warn(
      { groupId, groupName: target.groupName, folder: target.folder },
      'player group has no enabled players; nothing to notify',
    );
    return { groupId, notified, failures, deferred };
  }
  // Kodi removes a deleted folder's items only through VideoLibrary.Clean; a scan would not, so with
  // cleaning off a delete has nothing to tell a Kodi group.
  if (opts.change === 'deleted' && !opts.cleanAfterDelete && target.players.every((p) => p.type === 'kodi')) {
    const skipped = `cleanAfterDelete is off for group ${target.groupName}`;
    log.info({ groupId, groupName: target.groupName, folder: target.folder }, skipped);
    return { groupId, notified, failures, deferred, skipped };
  }

  for (const player of target.players) {
    if (opts.signal?.aborted) {
      throw new AppError('NOTIFY_ABORTED', `notification of group ${target.groupName} was cancelled`, {
        retryable: true,
        cause: opts.signal.reason,
      });
    }
    const folder = player.type === 'kodi' ? kodiFolder(target.folder) : trimTrailingSeparators(target.folder);
    const fields = { playerId: player.id, playerName: player.name, playerType: player.type, groupId, folder };
    const started = Date.now();
    try {
      const client = deps.clientFor(player);
      if (opts.deferWhilePlaying && client.isPlaying && (await client.isPlaying(opts.signal))) {
        // A library scan stutters playback on small boxes: wait, do not fail.
        deferred.push(player.id);
        attempts.push({
          fields: { ...fields, deferred: true },
          msg: 'player is playing; scan deferred',
          failed: false,
        });
        continue;
      }
      const action = await client.refreshFolder(folder, opts);
      notified.push(player.id);
      if (action === 'refreshed') refreshed.push(player.id);
      attempts.push({
        fields: { ...fields, ok: true, code: null, action: action ?? null, durationMs: Date.now() - started },
        msg: action === 'refreshed' ? 'player refreshed the item' : 'player notified',
        failed: false,
      });
      if (target.sharedLibrary) break;
    } catch (err) {
      const failure: NotifyFailure = {
        playerId: player.id,
        code: errorCode(err),
        message: errorMessage(err),
        retryable: isRetryable(err),
      };
      failures.push(failure);
      attempts.push({
        fields: {
          ...fields,
          ok: false,
          code: failure.code,
          retryable: failure.retryable,
          error: failure.message,
          durationMs: Date.now() - started,
        },
        msg: target.sharedLibrary
          ? 'player notification failed; tried the next player'
          : 'player notification failed',
        failed: true,
      });
    }
  }

  for (const a of attempts) {
    if (!a.failed) log.info(a.fields, a.msg);
    else if (notified.length > 0) log.warn(a.fields, a.msg);
    else log.debug(a.fields, a.msg);
  }

  if (notified.length === 0 && deferred.length > 0) {
    return { groupId, notified, failures, deferred };
  }
  if (target.sharedLibrary && notified.length > 0) deferred.length = 0;
  if (notified.length === 0) {
    const names = new Map(target.players.map((p) => [p.id, p.name]));
    const summary = failures
      .map((f) => `${names.get(f.playerId)} (#${f.playerId}): ${f.code} ${f.message}`)
      .join('; ');
    const retry = failures.some((f) => f.retryable);
    throw new AppError(
      'NOTIFY_GROUP_FAILED',
      `no player of group ${target.groupName} could be notified: ${summary}`,
      {
        retryable: retry,
        details: { groupId, failures },
      },
    );
  }
  return { groupId, notified, failures, deferred, ...(refreshed.length && { refreshed }) };
}
