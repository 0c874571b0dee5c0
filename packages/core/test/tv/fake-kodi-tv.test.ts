/**
 * The fake Kodi's TV library answers as Kodi's JSON-RPC does: `GetTVShows` filtered on the show's
 * `path`, `GetEpisodes` by show/season and filtered on `filename`/`path`, `RefreshTVShow` and
 * `RefreshEpisode` recorded with Kodi's defaults — what a player refresh of a series or an episode
 * will be tested against.
 */
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { request } from 'undici';

const kodi = await startFakeKodi();
t.teardown(() => kodi.close());
let id = 0;
async function rpc(method: string, params: Record<string, unknown>): Promise<any> {
  const res = await request(`${kodi.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
  });
  return res.body.json();
}

const show = kodi.addTvShow('smb://nas/tv/Harbour Lights (2021)', 'Harbour Lights');
const other = kodi.addTvShow('smb://nas/tv/Other (2020)/', 'Other');
const dir = 'smb://nas/tv/Harbour Lights (2021)/Season 01/';
const e1 = kodi.addEpisode(show.tvshowid, { season: 1, episode: 1, file: `${dir}S01E01E02.mkv` });
const e2 = kodi.addEpisode(show.tvshowid, { season: 1, episode: 2, file: `${dir}S01E01E02.mkv` });
const e3 = kodi.addEpisode(show.tvshowid, { season: 1, episode: 3, file: `${dir}S01E03.mkv` });
kodi.addEpisode(other.tvshowid, { season: 1, episode: 1, file: 'smb://nas/tv/Other (2020)/S01E01.mkv' });

t.test('GetTVShows finds a show by its folder and lists its path as file', async (t) => {
  const r = await rpc('VideoLibrary.GetTVShows', {
    properties: ['file'],
    filter: { field: 'path', operator: 'is', value: 'smb://nas/tv/Harbour Lights (2021)/' },
  });
  t.same(r.result, {
    limits: { start: 0, end: 1, total: 1 },
    tvshows: [
      { tvshowid: show.tvshowid, label: 'Harbour Lights', file: 'smb://nas/tv/Harbour Lights (2021)/' },
    ],
  });
  const none = await rpc('VideoLibrary.GetTVShows', {
    filter: { field: 'path', operator: 'is', value: 'smb://nas/tv/Missing/' },
  });
  t.same(none.result, { limits: { start: 0, end: 0, total: 0 } }, 'no list in an empty answer');
});

t.test('GetEpisodes by show and season, filtered on a file name (a multi-episode file is two)', async (t) => {
  const r = await rpc('VideoLibrary.GetEpisodes', {
    tvshowid: show.tvshowid,
    season: 1,
    properties: ['file', 'episode'],
    filter: {
      and: [
        { field: 'path', operator: 'is', value: dir },
        { field: 'filename', operator: 'is', value: 'S01E01E02.mkv' },
      ],
    },
  });
  t.same(
    r.result.episodes.map((e: { episodeid: number; episode: number }) => [e.episodeid, e.episode]),
    [
      [e1.episodeid, 1],
      [e2.episodeid, 2],
    ],
  );
  const all = await rpc('VideoLibrary.GetEpisodes', {
    tvshowid: show.tvshowid,
    limits: { start: 2, end: 10 },
  });
  t.same(all.result.limits, { start: 2, end: 3, total: 3 }, 'paged like GetMovies');
  t.same(all.result.episodes, [{ episodeid: e3.episodeid, label: '1x03' }]);
});

t.test('refreshes are recorded with Kodi’s defaults; an unknown id is invalid params', async (t) => {
  t.same(
    (await rpc('VideoLibrary.RefreshTVShow', { tvshowid: show.tvshowid, ignorenfo: false })).result,
    'OK',
  );
  t.same((await rpc('VideoLibrary.RefreshEpisode', { episodeid: e3.episodeid })).result, 'OK');
  t.same(kodi.tvRefreshes, [{ tvshowid: show.tvshowid, ignorenfo: false, refreshepisodes: false }]);
  t.same(
    kodi.episodeRefreshes,
    [{ episodeid: e3.episodeid, ignorenfo: true }],
    'Kodi ignores the NFO by default',
  );
  const bad = await rpc('VideoLibrary.RefreshEpisode', { episodeid: 999 });
  t.equal(bad.error.code, -32602);
});
