/**
 * What the web app's grid and movie view ask of the API: movies searched by title and sorted by
 * title, year or date added; a movie's jobs; Refresh from providers.
 */
import t from 'tap';
import { startStack } from './support/stack.ts';

t.test('search, sort, a movie’s jobs and refresh', async (t) => {
  const stack = await startStack(t, { worker: false });
  const dir = t.testdir({ movies: {} });
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: dir });
  t.equal(lib.status, 201, lib.text);
  const rows = [
    { title: 'heat', year: 1995, tmdb_id: 949 },
    { title: 'Alien', year: 1979, tmdb_id: null },
    { title: '100% Wolf', year: 2020, tmdb_id: null },
    { title: null, year: null, tmdb_id: null },
    { title: 'The Heat', year: 2013, tmdb_id: null },
  ];
  const ids: number[] = [];
  for (const [i, r] of rows.entries()) {
    const row = await stack.db
      .insertInto('movies')
      .values({
        library_id: lib.json.id,
        path: `${dir}/Folder ${i}`,
        ...r,
        imdb_id: null,
        radarr_id: null,
        video_file: null,
        created_at: new Date(Date.UTC(2026, 0, 1 + i)),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  const titles = async (query: string) => {
    const res = await stack.api('GET', `/api/movies${query}`);
    t.equal(res.status, 200, res.text);
    return res.json.map((m: { title: string | null }) => m.title);
  };
  t.same(
    await titles(''),
    rows.map((r) => r.title),
    'by id without a sort',
  );
  t.same(await titles('?sort=title'), ['100% Wolf', 'Alien', 'heat', 'The Heat', null], 'A–Z, any case');
  t.same(await titles('?sort=year'), ['100% Wolf', 'The Heat', 'heat', 'Alien', null], 'newest first');
  t.same(await titles('?sort=added'), ['The Heat', null, '100% Wolf', 'Alien', 'heat'], 'newest first');
  t.same(await titles('?q=HEAT&sort=title'), ['heat', 'The Heat'], 'a title search, any case');
  t.same(await titles('?q=%25'), ['100% Wolf'], 'a % is a character, not a wildcard');
  t.same(await titles('?q=folder%203'), [null], 'an untitled movie by its folder');
  t.same(await titles('?sort=title&limit=2&offset=2'), ['heat', 'The Heat'], 'pages');
  t.equal((await stack.api('GET', '/api/movies?sort=rating')).status, 400);

  // Filters: no metadata stored yet; a locked field or image.
  await stack.db
    .insertInto('movie_metadata')
    .values({ movie_id: ids[0] as number, data: JSON.stringify({ title: 'Heat' }) })
    .execute();
  await stack.db
    .insertInto('movie_field_locks')
    .values({ movie_id: ids[1] as number, field: 'poster' })
    .execute();
  t.same(await titles('?filter=no-metadata&sort=title'), ['100% Wolf', 'Alien', 'The Heat', null]);
  t.same(await titles('?filter=locked'), ['Alien']);
  t.same(await titles('?filter=locked&q=heat'), [], 'filters and search together');
  t.equal((await stack.api('GET', '/api/movies?filter=failed')).status, 400);

  // Refresh queues the pipeline for a movie with a TMDB id; without one it says to identify first.
  const refresh = await stack.api('POST', `/api/movies/${ids[0]}/refresh`);
  t.equal(refresh.status, 202, refresh.text);
  t.match(refresh.json, { movieId: ids[0], jobId: String });
  const noId = await stack.api('POST', `/api/movies/${ids[1]}/refresh`);
  t.equal(noId.status, 409);
  t.match(noId.json.message, 'identify');
  t.equal((await stack.api('POST', '/api/movies/999999/refresh')).status, 404);

  // The movie's jobs: the refresh just queued, nothing for another movie.
  const jobs = await stack.api('GET', `/api/jobs?movieId=${ids[0]}`);
  t.equal(jobs.status, 200, jobs.text);
  t.same(
    jobs.json.map((j: { id: string; type: string }) => [j.id, j.type]),
    [[refresh.json.jobId, 'discover-assets']],
  );
  t.equal(jobs.headers.get('x-total-count'), '1');
  t.same((await stack.api('GET', `/api/jobs?movieId=${ids[1]}`)).json, []);
});
