/**
 * A player's movie library as the player audit reads and repairs it: pages of items (id, file, the
 * date the player last changed it where it gives one) and the removal of a duplicate entry that
 * never touches a file. Transport only, over the Kodi, Jellyfin/Emby and Plex clients.
 */

import { AppError } from '../errors.ts';
import { containsPath } from '../paths.ts';
import type { PlayerConn } from '../records/players.ts';
import { createJellyfinClient } from './jellyfin.ts';
import { type ClientOptions, createKodiClient } from './kodi.ts';
import { createPlexClient } from './plex.ts';

/** Items per request when a library is read. */
export const AUDIT_PAGE_SIZE = 500;

export interface PlayerLibraryItem {
  /** The player's id of the item (Kodi movieid, Jellyfin item id, Plex ratingKey), as text. */
  id: string;
  /** Its media files, in the player's form. */
  files: string[];
  /** When its metadata last changed, where the player says (Plex); null otherwise. */
  updatedAt: Date | null;
}

/** A player's movie library as the audit reads and repairs it (transport through the clients). */
export interface PlayerLibrary {
  /** Whether items carry `updatedAt`, so that `stale` can be judged. */
  readonly hasUpdateDates: boolean;
  /** Why `stale` cannot be judged on this player (when `hasUpdateDates` is false). */
  readonly noDatesReason?: string;
  /**
   * The pages of the movies under `roots` (the linked libraries' roots in the player's form): each
   * page is one request of at most `pageSize` items, with the total the player reported for the list
   * being read (Plex: the section's).
   */
  pages(
    roots: string[],
    pageSize: number,
    signal?: AbortSignal,
  ): AsyncIterable<{ items: PlayerLibraryItem[]; total: number }>;
  /** The roots the player's library can hold at all (Plex: those inside a movie section). */
  coveredRoots?(roots: string[], signal?: AbortSignal): Promise<string[]>;
  /**
   * Removes the `extras` entries (duplicates of `keep`) from the player's library without touching any
   * file; absent when the player has no such call.
   */
  removeDuplicates?(keep: string, extras: string[], signal?: AbortSignal): Promise<void>;
  /** Why duplicates cannot be removed on this player (when `removeDuplicates` is absent). */
  readonly noRemoveReason?: string;
}

export type PlayerLibraryFactory = (player: PlayerConn) => PlayerLibrary;

/** The real library reader of a player; composition roots pass this as `playerLibraryFor`. */
export function createPlayerLibrary(player: PlayerConn, opts: ClientOptions = {}): PlayerLibrary {
  switch (player.type) {
    case 'kodi': {
      const kodi = createKodiClient(player, opts);
      return {
        hasUpdateDates: false,
        noDatesReason:
          'Kodi does not say when a movie was last refreshed (VideoLibrary.GetMovies has no such property)',
        async *pages(_roots, pageSize, signal) {
          for (let start = 0; ; start += pageSize) {
            const page = await kodi.listMovies(start, start + pageSize, signal);
            if (page.movies.length)
              yield {
                total: page.total,
                items: page.movies.map((m) => ({ id: String(m.movieid), files: [m.file], updatedAt: null })),
              };
            if (!page.movies.length || start + pageSize >= page.total) return;
          }
        },
        async removeDuplicates(_keep, extras, signal) {
          for (const id of extras) await kodi.removeMovie(Number(id), signal);
        },
      };
    }
    case 'jellyfin':
    case 'emby': {
      const jf = createJellyfinClient(player, player.type, opts);
      return {
        hasUpdateDates: false,
        noDatesReason:
          'Jellyfin/Emby items carry no date of their last refresh (DateLastSaved is not in the item DTO)',
        noRemoveReason:
          "Jellyfin/Emby can only delete an item together with its files; remove the extra entry in the server's own tools",
        async *pages(_roots, pageSize, signal) {
          for (let start = 0; ; start += pageSize) {
            const page = await jf.listMovies(start, pageSize, signal);
            if (page.items.length)
              yield {
                total: page.total,
                items: page.items.map((i) => ({ id: i.id, files: i.file ? [i.file] : [], updatedAt: null })),
              };
            if (!page.items.length || start + pageSize >= page.total) return;
          }
        },
      };
    }
    case 'plex': {
      const plex = createPlexClient(player, opts);
      const movieSections = async (roots: string[], signal?: AbortSignal) =>
        (await plex.sections(signal)).filter(
          (s) =>
            s.type === 'movie' &&
            s.locations.some((l) =>
              roots.some((r) => containsPath(l.path, r) >= 0 || containsPath(r, l.path) >= 0),
            ),
        );
      return {
        hasUpdateDates: true,
        async coveredRoots(roots, signal) {
          const sections = await movieSections(roots, signal);
          return roots.filter((r) =>
            sections.some((s) => s.locations.some((l) => containsPath(l.path, r) >= 0)),
          );
        },
        async *pages(roots, pageSize, signal) {
          for (const section of await movieSections(roots, signal)) {
            for (let start = 0; ; start += pageSize) {
              const page = await plex.listMovies(section.key, start, pageSize, signal);
              if (page.items.length)
                yield {
                  total: page.total,
                  items: page.items.map((i) => ({
                    id: i.id,
                    files: i.files,
                    updatedAt: i.updatedAt === null ? null : new Date(i.updatedAt * 1000),
                  })),
                };
              if (!page.items.length || start + pageSize >= page.total) break;
            }
          }
        },
        async removeDuplicates(keep, extras, signal) {
          await plex.mergeItems(keep, extras, signal);
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
