/**
 * Identify: a folder whose name carries no id gets no metadata; the user searches TMDB from Metarr
 * (by title and year, by TMDB id, by IMDb id), picks the match, and the pipeline publishes it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { providerFakes } from './support/providers.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('a folder without ids is identified by a TMDB search and then published', async (t) => {
  const { tmdb, env } = await providerFakes(t);
  const stack = await startStack(t, { env });
  const media = t.testdir({ movies: { 'Some Rip': { 'rip.mkv': 'video' } } });
  const root = path.join(media, 'movies');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  t.equal(lib.status, 201, lib.text);
  t.equal((await stack.api('POST', `/api/libraries/${lib.json.id}/scan`)).status, 202);
  const movie = await waitFor('the folder was scanned', async () => {
    const list = (await stack.api('GET', '/api/movies')).json;
    return list.length === 1 && list[0].lastScannedAt ? list[0] : null;
  });
  t.equal(movie.tmdbId, null, 'no id in the folder name');

  const byTitle = await stack.api('GET', `/api/movies/${movie.id}/identify?query=matrix&year=1999`);
  t.equal(byTitle.status, 200, byTitle.text);
  t.match(byTitle.json.matches, [{ tmdbId: 603, title: 'The Matrix', year: 1999 }]);
  t.match(byTitle.json.matches[0].posterUrl, `${tmdb.imageUrl}/w185/`);
  const wrongYear = await stack.api('GET', `/api/movies/${movie.id}/identify?query=matrix&year=2005`);
  t.same(wrongYear.json.matches, [], 'the year narrows the search');
  const byImdb = await stack.api('GET', `/api/movies/${movie.id}/identify?query=tt0133093`);
  t.match(byImdb.json.matches, [{ tmdbId: 603 }], 'an IMDb id is looked up');
  const byTmdb = await stack.api('GET', `/api/movies/${movie.id}/identify?query=tmdb-603`);
  t.match(byTmdb.json.matches, [{ tmdbId: 603, title: 'The Matrix' }], 'a TMDB id is looked up');

  tmdb.failNext(1, 500);
  const down = await stack.api('GET', `/api/movies/${movie.id}/identify?query=matrix`);
  t.equal(down.status, 502);
  t.match(down.json.message, /^TMDB search failed \([A-Z_]+\)$/, 'our words, not TMDB’s');

  const pick = await stack.api('POST', `/api/movies/${movie.id}/identify`, { tmdbId: 603 });
  t.equal(pick.status, 202, pick.text);
  t.match(pick.json, { movieId: movie.id, tmdbId: 603 });
  t.ok(pick.json.jobId, 'the pipeline was queued');
  const nfo = path.join(root, 'Some Rip', 'rip.nfo');
  await waitFor('the NFO was published', async () =>
    fs.readFile(nfo, 'utf8').then(
      (x) => x.includes('<title>The Matrix</title>'),
      () => false,
    ),
  );
  const after = (await stack.api('GET', `/api/movies/${movie.id}`)).json;
  t.match(after, { tmdbId: 603, imdbId: 'tt0133093', title: 'The Matrix', year: 1999 });
});

t.test('identify refuses without a TMDB key, for an unknown movie, and with a bad query', async (t) => {
  const stack = await startStack(t, { worker: false });
  const media = t.testdir({ movies: { 'Some Rip': {} } });
  const root = path.join(media, 'movies');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  const row = await stack.db
    .insertInto('movies')
    .values({ library_id: lib.json.id, path: path.join(root, 'Some Rip'), status: 'present' })
    .returning('id')
    .executeTakeFirstOrThrow();

  const noKey = await stack.api('GET', `/api/movies/${row.id}/identify?query=matrix`);
  t.equal(noKey.status, 503);
  t.match(noKey.json.message, 'no TMDB key is configured');
  t.equal((await stack.api('GET', '/api/movies/999999/identify?query=matrix')).status, 404);
  const noQuery = await stack.api('GET', `/api/movies/${row.id}/identify`);
  t.equal(noQuery.status, 400);
  t.match(noQuery.json.message, /query/);
  const badId = await stack.api('POST', `/api/movies/${row.id}/identify`, { tmdbId: 'x' });
  t.equal(badId.status, 400);
  t.match(badId.json.message, /tmdbId/);
  t.equal((await stack.api('POST', '/api/movies/999999/identify', { tmdbId: 603 })).status, 404);
});
