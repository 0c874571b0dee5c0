/**
 * Players show what Metarr wrote: a republish that changed a movie's NFO makes a Kodi that already
 * holds the movie re-read it (VideoLibrary.RefreshMovie, NFO not ignored), where a scan would skip a
 * known item; a movie Kodi does not hold yet is scanned; a republish that changed nothing is a scan.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { kodiGroup, MOVIE, movieLibrary, radarrFixture } from './support/notify.ts';
import { providerFakes } from './support/providers.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('a changed NFO makes Kodi refresh the movie it holds; a new movie is scanned', async (t) => {
  const { tmdb, env } = await providerFakes(t);
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  const stack = await startStack(t, { env });
  const lib = await movieLibrary(t, stack);
  await kodiGroup(t, stack, lib, [{ name: 'Kodi', port: kodi.port }]);
  const video = `${MOVIE} [Bluray-1080p].mkv`;
  const methods = () => kodi.calls.map((c) => c.method).filter((m) => m.startsWith('VideoLibrary.'));
  const notifyJobs = async (n: number) =>
    waitFor(`${n} notify-group job(s) completed`, async () => {
      const r = await stack.api('GET', '/api/jobs?type=notify-group&state=completed');
      return r.json?.length >= n ? r.json : null;
    });

  // 1. A new movie: its first publish wrote files, but Kodi does not hold it, so the folder is scanned.
  const ack = await stack.api('POST', '/api/webhooks/radarr', await radarrFixture('radarr-download.json'));
  t.equal(ack.status, 200);
  await notifyJobs(1);
  t.same(methods(), ['VideoLibrary.GetMovies', 'VideoLibrary.Scan'], 'a new movie is scanned');
  // What that scan did in a real Kodi: the movie is in its library now.
  const held = kodi.addMovie(`smb://nas/movies/${MOVIE}/${video}`, 'The Matrix');
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
  const nfo = await fs.readFile(path.join(lib.folder, `${MOVIE} [Bluray-1080p].nfo`), 'utf8');
  t.match(nfo, '<tagline>Free your mind.</tagline>', 'the NFO was rewritten');
  t.same(methods(), ['VideoLibrary.GetMovies', 'VideoLibrary.RefreshMovie'], 'refreshed, not scanned');
  t.same(kodi.refreshes, [{ movieid: held.movieid, ignorenfo: false }], 'Kodi re-reads the NFO');
  const last = (
    await Promise.all(jobs.map((j: { id: string }) => stack.api('GET', `/api/jobs/${j.id}`)))
  ).find((r) => r.json.output?.refreshed);
  t.ok(last, 'the notify-group job says which player refreshed the item');
  t.same(last?.json.output.refreshed, last?.json.output.notified);
});
