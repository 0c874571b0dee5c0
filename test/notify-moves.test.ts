/**
 * Moves leave no duplicates: when a movie's folder moves — found by a library scan (same TMDB id in
 * the new folder's name) or reported by Radarr (same movie id, new folderPath) — every player is told
 * the old folder is gone (Kodi `VideoLibrary.Clean` of that directory, Jellyfin a `Deleted` media
 * update, Plex a partial scan of its parent) and the new one changed. The fakes see the test's files
 * (`toLocal`), so their libraries end as a real server's would: one entry per movie, at its folder.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { MOVIE, movieLibrary, radarrFixture, settled, statefulPlayers } from './support/notify.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('a moved movie ends as one entry at its new folder in Kodi, Jellyfin and Plex', async (t) => {
  const stack = await startStack(t);
  const lib = await movieLibrary(t, stack);
  const { kodi, jf, held } = await statefulPlayers(t, stack, lib);
  const everywhere = (folder: string | null) => {
    const list = folder === null ? [] : [folder];
    return { kodi: list, jellyfin: list, plex: list };
  };
  const converge = async (what: string, want: ReturnType<typeof everywhere>) => {
    await waitFor(what, async () => JSON.stringify(held()) === JSON.stringify(want), 30_000);
    await settled(stack, ['webhook', 'library-scan', 'scan-movie', 'notify-players', 'notify-group']);
    t.same(held(), want, what);
  };

  // 1. Radarr imports the Matrix: each player scans the folder and holds it once.
  const download = await radarrFixture('radarr-download.json');
  t.equal((await stack.api('POST', '/api/webhooks/radarr', download)).status, 200);
  await converge('each player holds the new movie once', everywhere(MOVIE));

  // 2. Someone renames the folder by hand (its TMDB id in the name); a library scan finds the move.
  const tagged = `${MOVIE} {tmdb-603}`;
  await fs.rename(lib.folder, path.join(lib.root, tagged));
  const scan = await stack.api('POST', `/api/libraries/${lib.id}/scan`);
  t.equal(scan.status, 202, scan.text);
  await converge('a library scan’s move leaves one entry, at the new folder', everywhere(tagged));
  t.ok(
    kodi.calls.some((c) => c.method === 'VideoLibrary.Clean'),
    'Kodi cleaned the old directory (the group allows cleaning)',
  );
  t.ok(
    jf.updates.some((u) => u.updateType === 'Deleted' && u.path === `/data/movies/${MOVIE}`),
    'Jellyfin was told the old folder is gone',
  );

  // 3. Radarr moves it to a folder of its own naming and sends a Download for the new folderPath.
  const renamed = `${MOVIE} [Remux]`;
  await fs.rename(path.join(lib.root, tagged), path.join(lib.root, renamed));
  const moved = structuredClone(download);
  moved.movie.folderPath = `/movies/${renamed}`;
  moved.downloadId = 'MOVED0001';
  t.equal((await stack.api('POST', '/api/webhooks/radarr', moved)).status, 200);
  await converge('a move Radarr reports leaves one entry, at the new folder', everywhere(renamed));

  // 4. Radarr deletes the movie with its files: every player drops it.
  await fs.rm(path.join(lib.root, renamed), { recursive: true });
  const gone = structuredClone(download);
  gone.eventType = 'MovieDelete';
  gone.movie.folderPath = `/movies/${renamed}`;
  gone.deletedFiles = true;
  t.equal((await stack.api('POST', '/api/webhooks/radarr', gone)).status, 200);
  await converge('a deleted movie leaves no entry', everywhere(null));
});
