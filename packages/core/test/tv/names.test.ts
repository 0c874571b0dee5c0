import fs from 'node:fs/promises';
import t from 'tap';
import {
  listSeriesFolder,
  parseEpisodeFileName,
  parseSeasonFolderName,
  parseSeriesFolderName,
} from '../../src/tv/names.ts';

t.test('a series folder name gives its title, year and the *arr / Jellyfin id tokens', async (t) => {
  t.same(parseSeriesFolderName('The Mandalorian (2019) {tvdb-361753}'), {
    title: 'The Mandalorian',
    year: 2019,
    ids: { tvdbId: 361753 },
  });
  t.same(parseSeriesFolderName('Severance (2022) [tmdbid-95396] [tvdbid=371980]'), {
    title: 'Severance',
    year: 2022,
    ids: { tvdbId: 371980, tmdbId: 95396 },
  });
  t.same(parseSeriesFolderName('Show {imdb-TT1234567} {tmdb-1}').ids, { tmdbId: 1, imdbId: 'tt1234567' });
  t.same(parseSeriesFolderName('Being Human (US)'), { title: 'Being Human (US)', year: null, ids: {} });
  t.same(parseSeriesFolderName('Doctor Who (2005) (UK)').year, null, 'a year not at the end is title text');
  t.same(parseSeriesFolderName('{tvdb-1}'), { title: null, year: null, ids: { tvdbId: 1 } });
});

t.test('season folders: Season N, S01 and local words; Specials and Season 00 are season 0', async (t) => {
  t.equal(parseSeasonFolderName('Season 1'), 1);
  t.equal(parseSeasonFolderName('Season 01'), 1);
  t.equal(parseSeasonFolderName('season.12'), 12);
  t.equal(parseSeasonFolderName('S03'), 3);
  t.equal(parseSeasonFolderName('Staffel 2'), 2);
  t.equal(parseSeasonFolderName('Specials'), 0);
  t.equal(parseSeasonFolderName('Season 00'), 0);
  t.equal(parseSeasonFolderName('Extras'), null);
  t.equal(parseSeasonFolderName('2019'), null);
  t.equal(parseSeasonFolderName('Season One'), null);
});

t.test('SxxEyy and 1x02 episode names, any case, with the titles Sonarr writes around them', async (t) => {
  t.same(parseEpisodeFileName('The Show (2019) - S01E02 - Pilot Part 2 [WEBDL-1080p].mkv'), {
    kind: 'episodes',
    season: 1,
    episodes: [2],
  });
  t.same(parseEpisodeFileName('the.show.s02e10.720p.mkv'), { kind: 'episodes', season: 2, episodes: [10] });
  t.same(parseEpisodeFileName('Show S00E03 Behind the Scenes.mkv'), {
    kind: 'episodes',
    season: 0,
    episodes: [3],
  });
  t.same(parseEpisodeFileName('Show 1x02 Title.avi'), { kind: 'episodes', season: 1, episodes: [2] });
  t.same(parseEpisodeFileName('Show S2024E105.mkv'), { kind: 'episodes', season: 2024, episodes: [105] });
  t.same(
    parseEpisodeFileName('Show - S01E01-1080p.mkv'),
    { kind: 'episodes', season: 1, episodes: [1] },
    'a resolution after a dash is not a second episode',
  );
  t.same(parseEpisodeFileName('Show - S01E01-720p.mkv'), { kind: 'episodes', season: 1, episodes: [1] });
  t.same(parseEpisodeFileName('Show 1x01-576i.mkv'), { kind: 'episodes', season: 1, episodes: [1] });
  t.same(
    parseEpisodeFileName('Show - S01E01-2019.mkv'),
    { kind: 'episodes', season: 1, episodes: [1] },
    'a year after a dash is not a range end',
  );
  t.same(
    parseEpisodeFileName('Show.S01E01x264.mkv'),
    { kind: 'episodes', season: 1, episodes: [1] },
    'a codec glued to SxxEyy is not a second episode',
  );
  t.same(
    parseEpisodeFileName('Show 1920x1080 S01E04.mkv'),
    { kind: 'episodes', season: 1, episodes: [4] },
    'a resolution is not a 1x02 episode',
  );
  t.same(
    parseEpisodeFileName('Show 1920x1080.mkv').kind,
    'unparseable',
    'nor is it one without an SxxEyy beside it',
  );
});

t.test('every Sonarr multi-episode style reads as the full run of episodes', async (t) => {
  const run = { kind: 'episodes', season: 1, episodes: [1, 2, 3] };
  t.same(parseEpisodeFileName('Show - S01E01-02-03 - T.mkv'), run, 'Extend');
  t.same(parseEpisodeFileName('Show - S01E01.S01E02.S01E03 - T.mkv'), run, 'Duplicate');
  t.same(parseEpisodeFileName('Show - S01E01E02E03 - T.mkv'), run, 'Repeat');
  t.same(parseEpisodeFileName('Show - S01E01-E02-E03 - T.mkv'), run, 'Scene');
  t.same(parseEpisodeFileName('Show - S01E01-03 - T.mkv'), run, 'Range');
  t.same(parseEpisodeFileName('Show - S01E01-E03 - T.mkv'), run, 'Prefixed Range');
  t.same(parseEpisodeFileName('Show 1x01x02x03.mkv'), run, 'Kodi 1x01x02x03');
  t.same(parseEpisodeFileName('Show S01E01E02.mkv'), { kind: 'episodes', season: 1, episodes: [1, 2] });
  t.same(parseEpisodeFileName('Show S01E01-E02.mkv'), { kind: 'episodes', season: 1, episodes: [1, 2] });
  t.same(parseEpisodeFileName('Show S01E01-02.mkv'), { kind: 'episodes', season: 1, episodes: [1, 2] });
  t.same(
    parseEpisodeFileName('Show S01E01.S02E02.mkv'),
    { kind: 'episodes', season: 1, episodes: [1] },
    'another season is not part of the run',
  );
  t.match(parseEpisodeFileName('Show S01E03E01.mkv'), { kind: 'unparseable', reason: /do not increase/ });
  t.match(parseEpisodeFileName('Show S01E01-E99.mkv'), { kind: 'unparseable', reason: /too many/ });
});

t.test('daily shows: an air date in the name, checked against the calendar', async (t) => {
  t.same(parseEpisodeFileName('The Daily Show - 2024-03-01 - Guest.mkv'), {
    kind: 'daily',
    airDate: '2024-03-01',
  });
  t.same(parseEpisodeFileName('the.daily.show.2024.03.01.mkv'), { kind: 'daily', airDate: '2024-03-01' });
  t.match(parseEpisodeFileName('Show 2023-02-30.mkv'), {
    kind: 'unparseable',
    reason: /not a calendar date/,
  });
  t.same(
    parseEpisodeFileName('Show (2024) - S01E01 - 2024-03-01.mkv'),
    { kind: 'episodes', season: 1, episodes: [1] },
    'SxxEyy wins over a date in the title',
  );
});

t.test('names that state no episode are unparseable with a reason', async (t) => {
  t.match(parseEpisodeFileName('[Group] Anime - 012 [1080p].mkv'), {
    kind: 'unparseable',
    reason: /only an absolute episode number \(012\)/,
  });
  t.match(parseEpisodeFileName('Behind the Scenes.mkv'), {
    kind: 'unparseable',
    reason: /no season and episode/,
  });
  t.match(parseEpisodeFileName('Show 1080p.mkv'), { kind: 'unparseable', reason: /no season and episode/ });
});

t.test(
  'listSeriesFolder lists root and season-folder episodes, skips clutter, reports the rest',
  async (t) => {
    const root = t.testdir({
      'tvshow.nfo': '<tvshow/>',
      'Show - S01E00 - Pilot (unaired).mkv': 'v',
      'Season 01': {
        'Show - S01E01E02 - Start.mkv': 'v',
        'Show - S01E01E02 - Start.nfo': 'n',
        'Show - S01E03 - More.mp4': 'v',
        'Show - S01E03 - More-sample.mp4': 's',
        'Show - S01E03 - More.en.srt': 'sub',
        'Random Clip.mkv': 'v',
        '.hidden S01E09.mkv': 'v',
        Sample: { 'S01E01.mkv': 's' },
        'Show.S01E04.1080p-GRP': { 'Show.S01E04.1080p-GRP.mkv': 'v' },
      },
      Specials: { 'Show - S00E01 - Christmas.mkv': 'v', 'trailer.mkv': 't' },
      'Season 2': { 'Show - 2024-03-01 - Daily.mkv': 'v' },
      Extras: { 'Featurette.mkv': 'v' },
      '@eaDir': {},
      'Show - 012.mkv': 'v',
    });
    const listing = await listSeriesFolder(fs, root);
    t.same(listing.videos, [
      {
        file: 'Season 01/Show - S01E01E02 - Start.mkv',
        folderSeason: 1,
        kind: 'episodes',
        season: 1,
        episodes: [1, 2],
      },
      {
        file: 'Season 01/Show - S01E03 - More.mp4',
        folderSeason: 1,
        kind: 'episodes',
        season: 1,
        episodes: [3],
      },
      {
        file: 'Season 2/Show - 2024-03-01 - Daily.mkv',
        folderSeason: 2,
        kind: 'daily',
        airDate: '2024-03-01',
      },
      {
        file: 'Show - S01E00 - Pilot (unaired).mkv',
        folderSeason: null,
        kind: 'episodes',
        season: 1,
        episodes: [0],
      },
      {
        file: 'Specials/Show - S00E01 - Christmas.mkv',
        folderSeason: 0,
        kind: 'episodes',
        season: 0,
        episodes: [1],
      },
    ]);
    t.same(listing.unparseable.map((u) => u.file).sort(), ['Season 01/Random Clip.mkv', 'Show - 012.mkv']);
    t.match(listing.unparseable.find((u) => u.file === 'Show - 012.mkv')?.reason, /absolute/);
    t.same(listing.seasons, [
      { folder: 'Specials', season: 0 },
      { folder: 'Season 01', season: 1 },
      { folder: 'Season 2', season: 2 },
    ]);
    t.same(listing.otherFolders, ['Extras', 'Season 01/Show.S01E04.1080p-GRP'], 'named, not looked into');
  },
);

t.test(
  'an unreadable season folder is reported on the series, never fatal; an unreadable series throws',
  async (t) => {
    const root = t.testdir({ 'Season 1': { 'S01E01.mkv': 'v' }, 'Season 2': { 'S02E01.mkv': 'v' } });
    const failing = {
      readdir: async (p: string, o: { withFileTypes: true }) => {
        if (p.endsWith('Season 2')) throw Object.assign(new Error('denied'), { code: 'EACCES' });
        return fs.readdir(p, o);
      },
    };
    const listing = await listSeriesFolder(failing, root);
    t.same(
      listing.videos.map((v) => v.file),
      ['Season 1/S01E01.mkv'],
    );
    t.same(listing.unparseable, [{ file: 'Season 2/', reason: 'season folder cannot be read (EACCES)' }]);
    await t.rejects(listSeriesFolder(fs, `${root}/missing`), { code: 'ENOENT' });
  },
);
