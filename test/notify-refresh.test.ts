/**
 * Players show what Metarr wrote: a republish that changed a movie's NFO makes a Kodi that already
 * holds the movie re-read it (VideoLibrary.RefreshMovie, NFO not ignored), where a scan would skip a
 * known item; a movie Kodi does not hold yet is scanned; a republish that changed nothing is a scan.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeFanart, startFakeKodi, startFakeTmdb } from '@metarr/testkit';
import t from 'tap';
import { ROOT, startStack, waitFor } from './support/stack.ts';

const fixture = async (name: string) =>
  JSON.parse(await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', name), 'utf8'));

t.test('a changed NFO makes Kodi refresh the movie it holds; a new movie is scanned', async (t) => {
  const tmdb = await startFakeTmdb();
  const fanart = await startFakeFanart();
  const kodi = await startFakeKodi();
  t.teardown(() => Promise.all([tmdb.close(), fanart.close(), kodi.close()]));
  const stack = await startStack(t, {
    env: {
      TMDB_API_KEY: 'tmdb-test-key',
      FANART_API_KEY: 'fanart-test-key',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_FANART_BASE_URL: fanart.apiUrl,
    },
  });
  const video = 'The Matrix (1999) [Bluray-1080p].mkv';
  const media = t.testdir({ movies: { 'The Matrix (1999)': { [video]: 'video-bytes' } } });
  const moviesRoot = path.join(media, 'movies');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: moviesRoot });
  await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: moviesRoot });
  const group = await stack.api('POST', '/api/player-groups', {
    name: 'Living room',
    type: 'kodi',
    sharedLibrary: true,
    libraryIds: [lib.json.id],
    pathMappings: [{ from: moviesRoot, to: 'smb://nas/movies/' }],
  });
  await stack.api('POST', '/api/players', {
    groupId: group.json.id,
    name: 'Kodi',
    type: 'kodi',
    host: '127.0.0.1',
    port: kodi.port,
  });
  const methods = () => kodi.calls.map((c) => c.method).filter((m) => m.startsWith('VideoLibrary.'));
  const notifyJobs = async (n: number) =>
    waitFor(`${n} notify-group job(s) completed`, async () => {
      const r = await stack.api('GET', '/api/jobs?type=notify-group&state=completed');
      return r.json?.length >= n ? r.json : null;
    });

  // 1. A new movie: its first publish wrote files, but Kodi does not hold it, so the folder is scanned.
  const ack = await stack.api('POST', '/api/webhooks/radarr', await fixture('radarr-download.json'));
  t.equal(ack.status, 200);
  await notifyJobs(1);
  t.same(methods(), ['VideoLibrary.GetMovies', 'VideoLibrary.Scan'], 'a new movie is scanned');
  // What that scan did in a real Kodi: the movie is in its library now.
  const held = kodi.addMovie(`smb://nas/movies/The Matrix (1999)/${video}`, 'The Matrix');
  const deliveryId = (await stack.api('GET', '/api/webhooks/deliveries')).json[0].id;

  // 2. Nothing changed on a replay: no file rewritten, so a plain scan (a no-op for Kodi), no refresh.
  kodi.calls.length = 0;
  await stack.api('POST', `/api/webhooks/deliveries/${deliveryId}/replay`);
  await notifyJobs(2);
  t.same(methods(), ['VideoLibrary.Scan'], 'an unchanged republish is a plain scan');
  t.same(kodi.refreshes, []);

  // 3. TMDB changed the tagline; once the cached record expires, the replay rewrites the NFO.
  const record = tmdb.movies.get(603) as Record<string, unknown>;
  tmdb.movies.set(603, { ...record, tagline: 'Free your mind.' });
  await stack.db
    .updateTable('provider_cache')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .execute();
  kodi.calls.length = 0;
  await stack.api('POST', `/api/webhooks/deliveries/${deliveryId}/replay`);
  const jobs = await notifyJobs(3);
  const nfo = await fs.readFile(
    path.join(moviesRoot, 'The Matrix (1999)', 'The Matrix (1999) [Bluray-1080p].nfo'),
    'utf8',
  );
  t.match(nfo, '<tagline>Free your mind.</tagline>', 'the NFO was rewritten');
  t.same(methods(), ['VideoLibrary.GetMovies', 'VideoLibrary.RefreshMovie'], 'refreshed, not scanned');
  t.same(kodi.refreshes, [{ movieid: held.movieid, ignorenfo: false }], 'Kodi re-reads the NFO');
  const last = (
    await Promise.all(jobs.map((j: { id: string }) => stack.api('GET', `/api/jobs/${j.id}`)))
  ).find((r) => r.json.output?.refreshed);
  t.ok(last, 'the notify-group job says which player refreshed the item');
  t.same(last?.json.output.refreshed, last?.json.output.notified);
});
