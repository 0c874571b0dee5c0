import { startFakeFanart, startFakeTmdb } from '@metarr/testkit';
import t from 'tap';
import { providerGetJson } from '../../src/clients/tmdb.ts';

// The TV endpoints of the fake providers, read through the real provider transport, so a TV client
// built on providerGetJson meets the same shapes as in production.

t.test('fake TMDB /tv/{id}: appended parts only on request, images in the requested languages', async (t) => {
  const tmdb = await startFakeTmdb();
  t.teardown(() => tmdb.close());
  const endpoint = { provider: 'tmdb' as const, baseUrl: tmdb.apiUrl };
  const key = { api_key: 'tmdb-test-key' };

  const bare = (await providerGetJson(endpoint, '/tv/95001', { ...key, language: 'en-US' })) as Record<
    string,
    unknown
  >;
  t.equal(bare.name, 'Harbour Lights');
  t.match(bare, {
    id: 95001,
    first_air_date: '2021-01-10',
    status: 'Returning Series',
    number_of_seasons: 2,
  });
  t.same(
    ['aggregate_credits', 'images', 'external_ids', 'content_ratings', 'videos'].filter((k) => k in bare),
    [],
    'no appended part unless asked',
  );
  t.same(
    (bare.seasons as { season_number: number; episode_count: number }[]).map((s) => [
      s.season_number,
      s.episode_count,
    ]),
    [
      [0, 1],
      [1, 3],
      [2, 2],
    ],
  );

  const full = (await providerGetJson(endpoint, '/tv/95001', {
    ...key,
    language: 'en-US',
    append_to_response: 'aggregate_credits,images,external_ids,content_ratings,videos',
    include_image_language: 'en,null',
  })) as Record<string, any>;
  t.match(full.external_ids, { tvdb_id: 400001, imdb_id: 'tt9500100' });
  t.match(full.content_ratings.results, [{ iso_3166_1: 'US', rating: 'TV-MA' }]);
  t.match(full.aggregate_credits.cast[1].roles, [
    { character: 'Sidekick' },
    { character: 'Young Sidekick (voice)' },
  ]);
  t.same(
    full.images.posters.map((p: { iso_639_1: string | null }) => p.iso_639_1),
    ['en', null],
    'the German poster is left out',
  );
  t.same(
    full.images.backdrops.map((p: { iso_639_1: string | null }) => p.iso_639_1),
    [null],
  );

  const german = (await providerGetJson(endpoint, '/tv/95001', {
    ...key,
    append_to_response: 'images',
    include_image_language: 'de',
  })) as Record<string, any>;
  t.same(
    german.images.posters.map((p: { iso_639_1: string | null }) => p.iso_639_1),
    ['de'],
  );
  t.notOk('external_ids' in german);

  t.equal(tmdb.calls.at(-1)?.path, '/tv/95001');
});

t.test(
  'fake TMDB /tv/{id}/season/{n}: episodes with crew, guest stars, stills; specials; 404s',
  async (t) => {
    const tmdb = await startFakeTmdb();
    t.teardown(() => tmdb.close());
    const endpoint = { provider: 'tmdb' as const, baseUrl: tmdb.apiUrl };
    const key = { api_key: 'tmdb-test-key' };
    const s1 = (await providerGetJson(endpoint, '/tv/95001/season/1', key)) as Record<string, any>;
    t.match(s1, { season_number: 1, name: 'The Return', _id: String });
    t.same(
      s1.episodes.map((e: { episode_number: number }) => e.episode_number),
      [1, 2, 3],
    );
    t.match(s1.episodes[0], {
      name: 'Arrival (1)',
      air_date: '2021-01-10',
      runtime: 45,
      still_path: /1280x720\.jpg$/,
      crew: [{ job: 'Director' }, { department: 'Writing' }],
      guest_stars: [{ name: 'Guest Star', character: 'Harbour Master', order: 500 }],
    });
    const specials = (await providerGetJson(endpoint, '/tv/95001/season/0', key)) as Record<string, any>;
    t.match(specials, {
      name: 'Specials',
      episodes: [{ name: 'Christmas at the Harbour', season_number: 0 }],
    });
    const s2 = (await providerGetJson(endpoint, '/tv/95001/season/2', key)) as Record<string, any>;
    t.match(s2.episodes[1], { name: 'Episode 2', overview: '', still_path: null, runtime: null });
    t.equal(await providerGetJson(endpoint, '/tv/95001/season/9', key), null, 'no such season: 404');

    tmdb.synthesize = false;
    t.equal(await providerGetJson(endpoint, '/tv/123', key), null, 'unknown show: 404');
    tmdb.synthesize = true;
    const made = (await providerGetJson(endpoint, '/tv/123', {
      ...key,
      append_to_response: 'external_ids',
    })) as Record<string, any>;
    t.match(made, { id: 123, name: 'Show 123', external_ids: { tvdb_id: 300123 } });
    t.match(await providerGetJson(endpoint, '/tv/123/season/1', key), { season_number: 1, episodes: Array });
  },
);

t.test('fake TMDB /find/{tvdbId}?external_source=tvdb_id answers tv_results', async (t) => {
  const tmdb = await startFakeTmdb();
  t.teardown(() => tmdb.close());
  const endpoint = { provider: 'tmdb' as const, baseUrl: tmdb.apiUrl };
  const hit = (await providerGetJson(endpoint, '/find/400001', {
    api_key: 'tmdb-test-key',
    external_source: 'tvdb_id',
  })) as Record<string, any>;
  t.same(hit.movie_results, []);
  t.match(hit.tv_results, [
    { id: 95001, name: 'Harbour Lights', media_type: 'tv', first_air_date: '2021-01-10' },
  ]);
  const miss = (await providerGetJson(endpoint, '/find/999', {
    api_key: 'tmdb-test-key',
    external_source: 'tvdb_id',
  })) as Record<string, any>;
  t.same(miss.tv_results, []);
  await t.rejects(providerGetJson(endpoint, '/tv/95001', { api_key: 'wrong' }), { code: 'PROVIDER_AUTH' });
});

t.test('fake fanart.tv /v3/tv/{tvdbId}: every show art type, season art with its season', async (t) => {
  const fanart = await startFakeFanart();
  t.teardown(() => fanart.close());
  const endpoint = { provider: 'fanart' as const, baseUrl: fanart.apiUrl };
  const rec = (await providerGetJson(endpoint, '/tv/400001', { api_key: 'fanart-test-key' })) as Record<
    string,
    any
  >;
  t.match(rec, { thetvdb_id: '400001' });
  for (const type of [
    'hdtvlogo',
    'hdclearart',
    'clearlogo',
    'clearart',
    'showbackground',
    'tvposter',
    'tvbanner',
    'tvthumb',
    'characterart',
    'seasonposter',
    'seasonbanner',
    'seasonthumb',
  ])
    t.match(
      rec[type],
      [{ id: String, url: /^http:\/\/127\.0\.0\.1:\d+\/fanart\/tv\/400001\//, lang: String, likes: String }],
      type,
    );
  t.same(
    rec.seasonposter.map((p: { season: string }) => p.season),
    ['0', '1', '2'],
  );
  t.equal(rec.showbackground[0].season, 'all');
  const image = await fetch(rec.seasonposter[1].url);
  t.equal(image.status, 200);
  t.equal(image.headers.get('content-type'), 'image/jpeg');
  t.same(fanart.calls.at(-1), { path: '/tv/400001', query: { api_key: 'fanart-test-key' } });

  fanart.shows.set(1, null);
  t.equal(await providerGetJson(endpoint, '/tv/1', { api_key: 'fanart-test-key' }), null);
  t.match(await providerGetJson(endpoint, '/movies/603', { api_key: 'fanart-test-key' }), { tmdb_id: '603' });
});
