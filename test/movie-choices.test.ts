/**
 * A user's choices reach the players: choosing another poster, or editing a field, locks it, rewrites
 * the file and makes every player that holds the movie re-read it (Kodi RefreshMovie, Jellyfin item
 * refresh, Plex metadata refresh) — including a renamed movie the players still list under its old
 * title. A provider update afterwards keeps both choices.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sniffImage } from '@metarr/core';
import t from 'tap';
import { MOVIE, movieLibrary, radarrFixture, settled, statefulPlayers } from './support/notify.ts';
import { providerFakes } from './support/providers.ts';
import { METADATA_CHAIN, startStack, waitFor } from './support/stack.ts';

const PIPELINE = [...METADATA_CHAIN, 'notify-group'];

t.test(
  'a chosen poster and an edited title are published, locked and refreshed in every player',
  async (t) => {
    const { env } = await providerFakes(t);
    const stack = await startStack(t, { env });
    const lib = await movieLibrary(t, stack);
    const { kodi, jf, plex, held } = await statefulPlayers(t, stack, lib);
    const file = (name: string) => fs.readFile(path.join(lib.folder, name));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const nfoName = `${MOVIE} [Bluray-1080p].nfo`;
    const posterName = `${MOVIE} [Bluray-1080p]-poster.jpg`;
    const refreshCounts = () => ({
      kodi: kodi.refreshes.length,
      jellyfin: jf.itemRefreshes.length,
      plex: plex.itemRefreshes.length,
    });

    // 1. Radarr imports the movie: the pipeline publishes it and every player scans it in.
    const download = await radarrFixture('radarr-download.json');
    t.equal((await stack.api('POST', '/api/webhooks/radarr', download)).status, 200);
    await waitFor('every player holds the movie', async () =>
      Object.values(held()).every((folders) => folders.length === 1),
    );
    await settled(stack, PIPELINE);
    const movieId = (await stack.api('GET', '/api/movies')).json[0].id;
    const poster1 = sha(await file(posterName));

    // 2. Choose the second-best poster.
    const art = await stack.api('GET', `/api/movies/${movieId}/artwork`);
    t.equal(art.status, 200, art.text);
    const posters = art.json.candidates.filter((c: { type: string }) => c.type === 'poster');
    t.ok(posters.length >= 2, 'the providers offered several posters');
    t.match(posters[0], { rank: 0, selected: true }, 'the published one first');
    const other = posters[1];
    const chose = await stack.api('PUT', `/api/movies/${movieId}/artwork/poster`, { candidateId: other.id });
    t.equal(chose.status, 202, chose.text);
    t.match(chose.json, { movieId, type: 'poster', candidateId: other.id, locks: ['poster'] });
    t.ok(chose.json.jobId, 'a publish was queued');
    await waitFor('each player refreshed the movie', async () => {
      const n = refreshCounts();
      return n.kodi === 1 && n.jellyfin === 1 && n.plex === 1;
    });
    await settled(stack, PIPELINE);
    const poster2 = sha(await file(posterName));
    t.not(poster2, poster1, 'the poster file on disk changed');
    const published = await stack.db
      .selectFrom('movie_published_files')
      .select('source_url')
      .where('movie_id', '=', movieId)
      .where('kind', '=', 'poster')
      .executeTakeFirstOrThrow();
    t.equal(published.source_url, other.url, 'it is the chosen image');
    t.same(refreshCounts(), { kodi: 1, jellyfin: 1, plex: 1 }, 'refreshed once each, not scanned again');
    t.same(held(), { kodi: [MOVIE], jellyfin: [MOVIE], plex: [MOVIE] }, 'still one entry per player');

    // The published files, and the poster as a viewer gets it (only Metarr's file, with an ETag).
    const files = await stack.api('GET', `/api/movies/${movieId}/files`);
    t.equal(files.status, 200, files.text);
    t.match(
      files.json.files.find((f: { kind: string }) => f.kind === 'poster'),
      { file: posterName, sourceUrl: other.url, hash: poster2 },
    );
    t.ok(
      files.json.files.some((f: { kind: string; file: string }) => f.kind === 'nfo' && f.file === nfoName),
      'the NFO is listed',
    );
    const image = await fetch(`${stack.url}/api/movies/${movieId}/artwork/poster/image`, {
      headers: { 'x-api-key': stack.apiKey },
    });
    t.equal(image.status, 200);
    t.equal(image.headers.get('content-type'), 'image/jpeg');
    t.equal(sha(Buffer.from(await image.arrayBuffer())), poster2, 'the bytes on disk');
    const etag = image.headers.get('etag') ?? '';
    t.equal(etag, `"${poster2}"`);
    const again = await fetch(`${stack.url}/api/movies/${movieId}/artwork/poster/image`, {
      headers: { 'x-api-key': stack.apiKey, 'if-none-match': etag },
    });
    t.equal(again.status, 304, 'unchanged: not sent again');
    // A thumbnail for a grid: made once with sharp, kept in Postgres, small.
    const thumbUrl = `${stack.url}/api/movies/${movieId}/artwork/poster/image?width=180`;
    const thumb = await fetch(thumbUrl, { headers: { 'x-api-key': stack.apiKey } });
    t.equal(thumb.status, 200);
    t.equal(thumb.headers.get('etag'), `"${poster2}-w185"`, 'snapped to a served width');
    const thumbBytes = Buffer.from(await thumb.arrayBuffer());
    t.match(sniffImage(thumbBytes), { type: 'jpeg', width: 185 });
    t.ok(thumbBytes.length < 40 * 1024, `${thumbBytes.length} bytes`);
    const again2 = await fetch(thumbUrl, { headers: { 'x-api-key': stack.apiKey } });
    t.same(Buffer.from(await again2.arrayBuffer()), thumbBytes, 'the cached copy');
    t.equal(
      (await stack.db.selectFrom('artwork_thumbnails').selectAll().where('movie_id', '=', movieId).execute())
        .length,
      1,
      'one row per movie, type and width',
    );
    const none = await stack.api('GET', `/api/movies/${movieId}/artwork/keyart/image`);
    t.equal(none.status, 404, 'nothing published of that type');

    // 3. Edit the title (and the tagline): the players still list the movie under its old name.
    const edit = await stack.api('PATCH', `/api/movies/${movieId}/metadata`, {
      title: 'Matrix: Extended Cut',
      tagline: 'Mine now.',
    });
    t.equal(edit.status, 202, edit.text);
    t.match(edit.json, { movieId, changed: ['title', 'tagline'], locks: ['poster', 'tagline', 'title'] });
    await waitFor('each player refreshed the renamed movie', async () => {
      const n = refreshCounts();
      return n.kodi === 2 && n.jellyfin === 2 && n.plex === 2;
    });
    await settled(stack, PIPELINE);
    const nfo = (await file(nfoName)).toString('utf8');
    t.match(nfo, '<title>Matrix: Extended Cut</title>');
    t.match(nfo, '<tagline>Mine now.</tagline>');
    t.equal((await stack.api('GET', `/api/movies/${movieId}`)).json.title, 'Matrix: Extended Cut');

    // 4. A provider update (the same delivery again) keeps the user's poster and title.
    const deliveryId = (await stack.api('GET', '/api/webhooks/deliveries')).json[0].id;
    const replay = await stack.api('POST', `/api/webhooks/deliveries/${deliveryId}/replay`);
    t.equal(replay.status, 202, replay.text);
    await waitFor('the replay ran', async () => {
      const done = await stack.jobs.count({ types: ['publish'], states: ['completed'] });
      return done >= 4;
    });
    await settled(stack, PIPELINE);
    t.equal(sha(await file(posterName)), poster2, 'the chosen poster stays');
    t.match((await file(nfoName)).toString('utf8'), '<title>Matrix: Extended Cut</title>', 'the edit stays');

    // A symlink put where the poster was is never followed.
    await fs.rm(path.join(lib.folder, posterName));
    await fs.symlink('/etc/hostname', path.join(lib.folder, posterName));
    const linked = await stack.api('GET', `/api/movies/${movieId}/artwork/poster/image`);
    t.equal(linked.status, 404, 'a symlinked poster is not served');
  },
);

t.test('bad choices and edits are refused with the field named', async (t) => {
  const stack = await startStack(t, { worker: false });
  const lib = await movieLibrary(t, stack);
  const movie = await stack.db
    .insertInto('movies')
    .values({ library_id: lib.id, path: lib.folder, status: 'present' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = movie.id;

  const unknown = await stack.api('PUT', '/api/movies/999999/artwork/poster', { candidateId: 1 });
  t.equal(unknown.status, 404);
  const noCandidate = await stack.api('PUT', `/api/movies/${id}/artwork/poster`, { candidateId: 424242 });
  t.equal(noCandidate.status, 404);
  t.match(noCandidate.json.message, `candidate 424242 is not a poster of movie ${id}`);
  const badType = await stack.api('PUT', `/api/movies/${id}/artwork/thumbnail`, { candidateId: 1 });
  t.equal(badType.status, 400);
  t.match(badType.json.message, /type/);

  const empty = await stack.api('PATCH', `/api/movies/${id}/metadata`, {});
  t.equal(empty.status, 400);
  const unknownField = await stack.api('PATCH', `/api/movies/${id}/metadata`, { cast: [] });
  t.equal(unknownField.status, 400);
  t.match(unknownField.json.message, /cast/);
  const badYear = await stack.api('PATCH', `/api/movies/${id}/metadata`, { year: 12 });
  t.equal(badYear.status, 400);
  t.match(badYear.json.message, /year/);
  const noMetadata = await stack.api('PATCH', `/api/movies/${id}/metadata`, { title: 'X' });
  t.equal(noMetadata.status, 409);
  t.match(noMetadata.json.message, 'has no metadata yet');
  t.same(
    await stack.db.selectFrom('movie_field_locks').select('field').where('movie_id', '=', id).execute(),
    [],
    'a refused edit locks nothing',
  );
});
