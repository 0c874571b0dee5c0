/**
 * What the web app's series grid asks of the API: series searched by title, sorted by title, year
 * or date added, and filtered to those with placeholder episodes or locked fields.
 */
import t from 'tap';
import { startStack } from './support/stack.ts';

t.test('series search, sort and filters', async (t) => {
  const stack = await startStack(t, { worker: false });
  const dir = t.testdir({ tv: {} });
  const lib = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: dir });
  t.equal(lib.status, 201, lib.text);
  const rows = [
    { title: 'severance', year: 2022 },
    { title: 'Andor', year: 2022 },
    { title: '100% Human', year: 2019 },
    { title: null, year: null },
    { title: 'The Severance Files', year: 2024 },
  ];
  const ids: number[] = [];
  for (const [i, r] of rows.entries()) {
    const row = await stack.db
      .insertInto('series')
      .values({
        library_id: lib.json.id,
        path: `${dir}/Show ${i}`,
        ...r,
        tmdb_id: null,
        tvdb_id: null,
        imdb_id: null,
        sonarr_id: null,
        last_scanned_at: null,
        created_at: new Date(Date.UTC(2026, 0, 1 + i)),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  const titles = async (query: string) => {
    const res = await stack.api('GET', `/api/series${query}`);
    t.equal(res.status, 200, res.text);
    return res.json.map((s: { title: string | null }) => s.title);
  };
  t.same(
    await titles(''),
    rows.map((r) => r.title),
    'by id without a sort',
  );
  t.same(
    await titles('?sort=title'),
    ['100% Human', 'Andor', 'severance', 'The Severance Files', null],
    'A–Z, any case, untitled last',
  );
  t.same(
    await titles('?sort=year'),
    ['The Severance Files', 'severance', 'Andor', '100% Human', null],
    'newest first, ties by id',
  );
  t.same(
    await titles('?sort=added'),
    ['The Severance Files', null, '100% Human', 'Andor', 'severance'],
    'newest first',
  );
  t.same(await titles('?q=SEVERANCE&sort=title'), ['severance', 'The Severance Files'], 'any case');
  t.same(await titles('?q=%25'), ['100% Human'], 'a % is a character, not a wildcard');
  t.same(await titles('?q=show%203'), [null], 'an untitled series by its folder');
  t.same(await titles('?sort=title&limit=2&offset=1'), ['Andor', 'severance'], 'pages');
  t.equal((await stack.api('GET', '/api/series?sort=rating')).status, 400);
  t.equal((await stack.api('GET', '/api/series?filter=nope')).status, 400);

  // Filters: an episode still a placeholder; a locked series field.
  t.same(await titles('?filter=placeholders'), [], 'no placeholder yet');
  const season = await stack.db
    .insertInto('seasons')
    .values({ series_id: ids[1] as number, number: 1, folder: 'Season 01' })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [number, placeholder] of [
    [1, []],
    [2, ['title']],
  ] as const)
    await stack.db
      .insertInto('episodes')
      .values({
        series_id: ids[1] as number,
        season_id: season.id,
        season_number: 1,
        number,
        title: placeholder.length ? 'TBA' : 'One Way or Another',
        plot: null,
        air_date: null,
        placeholder_fields: [...placeholder],
        placeholder_next_check: null,
        placeholder_give_up_at: null,
      })
      .execute();
  t.same(await titles('?filter=placeholders'), ['Andor'], 'a series with a placeholder episode');
  t.equal(
    (await stack.api('POST', `/api/series/${ids[4]}/locks`, { field: 'title', locked: true })).status,
    200,
  );
  t.same(await titles('?filter=locked'), ['The Severance Files'], 'a series with a locked field');
  t.same(await titles('?filter=locked&q=andor'), [], 'filters and search combine');
});
