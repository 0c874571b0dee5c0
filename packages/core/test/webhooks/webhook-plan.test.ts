import t from 'tap';
import { parseWebhook, planWebhook } from '../../src/webhooks/index.ts';
import { at, fixture } from '../fixtures/webhooks/load.ts';

/** The player notifications of a plan (every Sonarr plan also records the series: see below). */
const folders = (source: 'sonarr', body: unknown) =>
  planWebhook(source, body).filter((a) => a.action === 'notify-folder');

function titleOf(source: 'radarr' | 'sonarr' | 'lidarr', body: unknown): string | undefined {
  const parsed = parseWebhook(source, body);
  return parsed.kind === 'actionable' ? parsed.title : undefined;
}

/** An "On Import Complete" Sonarr body with `count` episode files in the given season folders. */
function seasonPack(count: number, season: (i: number) => number = () => 1) {
  const body = fixture('sonarr-import-complete');
  const files = [];
  const episodes = [];
  for (let i = 1; i <= count; i++) {
    const s = String(season(i)).padStart(2, '0');
    const e = String(i).padStart(2, '0');
    const relativePath = `Season ${s}/Severance - S${s}E${e} [Bluray-1080p].mkv`;
    files.push({
      id: 10_000 + i,
      relativePath,
      path: `/tv/Severance/${relativePath}`,
      quality: 'Bluray-1080p',
    });
    episodes.push({ id: 20_000 + i, seasonNumber: season(i), episodeNumber: i, title: `Episode ${i}` });
  }
  body.episodeFiles = files;
  body.episodes = episodes;
  body.fileCount = count;
  return body;
}

t.test(
  'every Sonarr Download, Rename, SeriesAdd, SeriesDelete and file delete also records the series with the ids Sonarr sent',
  async (t) => {
    const body = fixture('sonarr-download');
    t.strictSame(planWebhook('sonarr', body).at(-1), {
      action: 'scan-series',
      folderPath: '/tv/Severance',
      eventType: 'Download',
      tmdbId: 95396,
      tvdbId: 371980,
      imdbId: 'tt11280740',
      title: 'Severance',
      year: 2022,
      sonarrId: 85,
    });
    // Sonarr sends 0 (or nothing) for an id it does not know: such ids are left out, never refused.
    const unknown = fixture('sonarr-series-add');
    Object.assign(at(unknown, 'series'), { tmdbId: 0, imdbId: '', year: 0 });
    delete at(unknown, 'series').tvdbId;
    t.equal(parseWebhook('sonarr', unknown).kind, 'actionable');
    t.strictSame(planWebhook('sonarr', unknown).at(-1), {
      action: 'scan-series',
      folderPath: '/tv/Shogun (2024)',
      eventType: 'SeriesAdd',
      title: 'Shōgun',
      sonarrId: 91,
    });
  },
);

t.test('Sonarr season pack of 24 episode files in one folder → one notify-folder action', async (t) => {
  const body = seasonPack(24);
  t.equal(parseWebhook('sonarr', body).kind, 'actionable');
  t.strictSame(folders('sonarr', body), [
    { action: 'notify-folder', folderPath: '/tv/Severance/Season 01', mediaKind: 'tv', change: 'created' },
  ]);
  t.equal(titleOf('sonarr', body), 'Severance S01E01-E24');
});

t.test('Sonarr files in two season folders → one action per folder, in first-seen order', async (t) => {
  const body = seasonPack(6, (i) => (i <= 4 ? 1 : 2));
  t.strictSame(
    folders('sonarr', body).map((a) => a.folderPath),
    ['/tv/Severance/Season 01', '/tv/Severance/Season 02'],
  );
  t.equal(titleOf('sonarr', body), 'Severance (6 episodes)');
});

t.test('Sonarr files with only relativePath resolve under series.path', async (t) => {
  const body = seasonPack(3);
  for (const f of body.episodeFiles as Record<string, unknown>[]) delete f.path;
  t.strictSame(folders('sonarr', body), [
    { action: 'notify-folder', folderPath: '/tv/Severance/Season 01', mediaKind: 'tv', change: 'created' },
  ]);
});

t.test('Sonarr Windows series with relativePath-only files keeps Windows separators', async (t) => {
  const body = fixture('sonarr-download');
  at(body, 'series').path = 'C:\\TV\\Severance';
  delete at(body, 'episodeFile').path;
  at(body, 'episodeFile').relativePath = 'Season 02\\Severance - S02E01.mkv';
  t.strictSame(folders('sonarr', body), [
    {
      action: 'notify-folder',
      folderPath: 'C:\\TV\\Severance\\Season 02',
      mediaKind: 'tv',
      change: 'created',
    },
  ]);
});

t.test('Sonarr UNC episode file path → its UNC season folder', async (t) => {
  const body = fixture('sonarr-download');
  at(body, 'series').path = '\\\\nas\\tv\\Severance';
  at(body, 'episodeFile').path = '\\\\nas\\tv\\Severance\\Season 02\\Severance - S02E01.mkv';
  t.strictSame(folders('sonarr', body)[0]?.folderPath, '\\\\nas\\tv\\Severance\\Season 02');
});

t.test('Sonarr Download with no usable file path falls back to the series folder (modified)', async (t) => {
  const body = fixture('sonarr-download');
  delete body.episodeFile;
  t.strictSame(folders('sonarr', body), [
    { action: 'notify-folder', folderPath: '/tv/Severance', mediaKind: 'tv', change: 'modified' },
  ]);
  const pathless = fixture('sonarr-download');
  delete at(pathless, 'episodeFile').path;
  delete at(pathless, 'episodeFile').relativePath;
  t.strictSame(
    folders('sonarr', pathless).map((a) => a.folderPath),
    ['/tv/Severance'],
  );
});

t.test('Sonarr Download with both shapes present notifies each folder once', async (t) => {
  const body = seasonPack(2);
  body.episodeFile = { id: 10_001, path: '/tv/Severance/Season 01/Severance - S01E01 [Bluray-1080p].mkv' };
  t.equal(folders('sonarr', body).length, 1);
});

t.test(
  'Sonarr EpisodeFileDelete for an upgrade plans nothing; the Download that follows notifies',
  async (t) => {
    const body = fixture('sonarr-episode-file-delete');
    body.deleteReason = 'upgrade';
    t.equal(parseWebhook('sonarr', body).kind, 'actionable');
    t.strictSame(planWebhook('sonarr', body), []);
  },
);

t.test('Radarr upgrade import plans a scan of the movie folder', async (t) => {
  const body = fixture('radarr-download-upgrade');
  t.equal(body.isUpgrade, true);
  t.strictSame(
    planWebhook('radarr', body).map((a) => [a.action, a.folderPath]),
    [['scan-movie', '/movies/The Matrix (1999)']],
  );
});

t.test(
  'Radarr scan-movie leaves out ids Radarr sends as placeholders (tmdbId 0, year 0, bad imdbId)',
  async (t) => {
    const body = fixture('radarr-download');
    Object.assign(at(body, 'movie'), { tmdbId: 0, year: 0, imdbId: '5678', id: 0 });
    t.strictSame(planWebhook('radarr', body), [
      {
        action: 'scan-movie',
        folderPath: '/movies/The Matrix (1999)',
        title: 'The Matrix',
        eventType: 'Download',
      },
    ]);
    t.equal(titleOf('radarr', body), 'The Matrix', 'no "(0)" in the title');
  },
);

t.test('Lidarr tracks in several disc folders → one action per folder, duplicates dropped', async (t) => {
  const body = fixture('lidarr-download');
  const base = '/music/Daft Punk/Random Access Memories (2013)';
  body.trackFiles = [
    { id: 1, path: `${base}/CD1/01.flac` },
    { id: 2, path: `${base}/CD1/02.flac` },
    { id: 3, path: `${base}/CD2/01.flac` },
  ];
  t.strictSame(planWebhook('lidarr', body), [
    { action: 'notify-folder', folderPath: `${base}/CD1`, mediaKind: 'music', change: 'created' },
    { action: 'notify-folder', folderPath: `${base}/CD2`, mediaKind: 'music', change: 'created' },
  ]);
});

t.test('Lidarr Download without track files falls back to the artist folder', async (t) => {
  const body = fixture('lidarr-download');
  delete body.trackFiles;
  t.strictSame(planWebhook('lidarr', body), [
    { action: 'notify-folder', folderPath: '/music/Daft Punk', mediaKind: 'music', change: 'modified' },
  ]);
});

t.test('titles name the thing for job lists', async (t) => {
  t.equal(titleOf('radarr', fixture('radarr-download')), 'The Matrix (1999)');
  t.equal(titleOf('sonarr', fixture('sonarr-download')), 'Severance S02E01');
  t.equal(titleOf('lidarr', fixture('lidarr-download')), 'Daft Punk – Random Access Memories');
  const long = fixture('radarr-download');
  at(long, 'movie').title = 'x'.repeat(2000);
  t.equal(titleOf('radarr', long)?.length, 500, 'capped at the job title limit');
  const untitled = fixture('radarr-download');
  delete at(untitled, 'movie').title;
  t.equal(titleOf('radarr', untitled), undefined);
});
