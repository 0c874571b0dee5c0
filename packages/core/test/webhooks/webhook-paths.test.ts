import t from 'tap';
import { checkArrPath, folderOfRelative, parentFolder } from '../../src/paths.ts';
import type { ParsedWebhook, WebhookIssue } from '../../src/webhooks/index.ts';
import { parseWebhook, planWebhook } from '../../src/webhooks/index.ts';
import { at, fixture } from '../fixtures/webhooks/load.ts';

function issuesOf(parsed: ParsedWebhook): WebhookIssue[] {
  return parsed.kind === 'invalid' ? parsed.issues : [];
}

function radarrWithFolder(folderPath: unknown) {
  const body = fixture('radarr-download');
  at(body, 'movie').folderPath = folderPath;
  return body;
}

t.test('checkArrPath accepts POSIX, Windows drive and UNC absolute paths', async (t) => {
  for (const p of [
    '/movies/X (1999)',
    '/',
    'C:\\Movies\\X (1999)',
    'c:/movies/x (1999)',
    'D:\\',
    '\\\\nas\\media\\Movies\\X',
    '\\\\nas\\media',
    '//nas/media/Movies/X',
    '/movies/..hidden/x..y',
    '/movies/Amélie (2001)',
  ]) {
    t.equal(checkArrPath(p), null, p);
  }
});

t.test('checkArrPath rejects relative paths', async (t) => {
  for (const p of [
    '',
    'movies/X',
    './movies/X',
    'X (1999)',
    'C:',
    'C:Movies\\X',
    '\\\\nas',
    '\\movies\\X',
    '~/movies',
  ]) {
    t.equal(checkArrPath(p), 'must be an absolute path', JSON.stringify(p));
  }
});

t.test('checkArrPath rejects .. segments in either separator style', async (t) => {
  for (const p of [
    '/movies/../etc/passwd',
    '/movies/X/..',
    'C:\\Movies\\..\\Windows',
    'c:/movies/../x',
    '\\\\nas\\media\\..\\admin$',
  ]) {
    t.equal(checkArrPath(p), 'must not contain .. segments', p);
  }
});

t.test('checkArrPath rejects NUL and other control characters', async (t) => {
  for (const p of [
    '/movies/X\u0000',
    '/movies/\nX',
    '/movies/X\t(1999)',
    'C:\\Movies\\\u001bX',
    '/movies/\u007fX',
  ]) {
    t.equal(checkArrPath(p), 'must not contain control characters', JSON.stringify(p));
  }
});

t.test('checkArrPath rejects paths longer than 4096 characters', async (t) => {
  t.match(checkArrPath(`/${'a'.repeat(4096)}`), /longer than 4096/);
});

t.test('/movies/../etc/passwd as a folder makes the delivery invalid at /movie/folderPath', async (t) => {
  t.strictSame(issuesOf(parseWebhook('radarr', radarrWithFolder('/movies/../etc/passwd'))), [
    { path: '/movie/folderPath', message: 'must not contain .. segments' },
  ]);
});

t.test('a NUL in the folder makes the delivery invalid', async (t) => {
  t.strictSame(issuesOf(parseWebhook('radarr', radarrWithFolder('/movies/X (1999)\u0000/x'))), [
    { path: '/movie/folderPath', message: 'must not contain control characters' },
  ]);
});

t.test('a relative folder makes the delivery invalid', async (t) => {
  t.strictSame(issuesOf(parseWebhook('radarr', radarrWithFolder('movies/X (1999)'))), [
    { path: '/movie/folderPath', message: 'must be an absolute path' },
  ]);
});

t.test('Windows and UNC folders are accepted and kept exactly as given', async (t) => {
  for (const folder of ['C:\\Movies\\X (1999)', 'c:/movies/x (1999)', '\\\\nas\\media\\Movies\\X']) {
    const body = radarrWithFolder(folder);
    t.equal(parseWebhook('radarr', body).kind, 'actionable', folder);
    t.equal(planWebhook('radarr', body)[0]?.folderPath, folder);
  }
});

t.test('every Radarr movie event checks movie.folderPath', async (t) => {
  for (const name of [
    'radarr-rename',
    'radarr-movie-added',
    'radarr-movie-delete',
    'radarr-movie-file-delete',
  ]) {
    const body = fixture(name);
    at(body, 'movie').folderPath = '/movies/../../root';
    t.strictSame(
      issuesOf(parseWebhook('radarr', body)),
      [{ path: '/movie/folderPath', message: 'must not contain .. segments' }],
      name,
    );
  }
});

t.test('a Test event with a relative or odd path is still a test', async (t) => {
  const body = fixture('radarr-test');
  at(body, 'movie').folderPath = 'testpath/../x';
  t.equal(parseWebhook('radarr', body).kind, 'test');
});

t.test('Sonarr: bad series or episode file paths are reported at their pointer', async (t) => {
  const series = fixture('sonarr-series-add');
  at(series, 'series').path = 'tv/Shogun';
  t.strictSame(issuesOf(parseWebhook('sonarr', series)), [
    { path: '/series/path', message: 'must be an absolute path' },
  ]);

  const file = fixture('sonarr-download');
  at(file, 'episodeFile').path = '/tv/Severance/../../etc/x.mkv';
  t.strictSame(issuesOf(parseWebhook('sonarr', file)), [
    { path: '/episodeFile/path', message: 'must not contain .. segments' },
  ]);

  const relativeOnly = fixture('sonarr-import-complete');
  delete at(relativeOnly, 'episodeFiles', 2).path;
  at(relativeOnly, 'episodeFiles', 2).relativePath = '../Other Show/x.mkv';
  t.strictSame(issuesOf(parseWebhook('sonarr', relativeOnly)), [
    { path: '/episodeFiles/2/relativePath', message: 'must not contain .. segments' },
  ]);
  at(relativeOnly, 'episodeFiles', 2).relativePath = '/etc/x.mkv';
  t.strictSame(issuesOf(parseWebhook('sonarr', relativeOnly)), [
    { path: '/episodeFiles/2/relativePath', message: 'must be a relative path' },
  ]);
});

t.test('Sonarr: a relativePath is not judged when the absolute path is there', async (t) => {
  const body = fixture('sonarr-download');
  at(body, 'episodeFile').relativePath = '../odd.mkv';
  t.equal(parseWebhook('sonarr', body).kind, 'actionable');
});

t.test('Lidarr: bad artist and track file paths are reported at their pointer', async (t) => {
  const body = fixture('lidarr-download');
  at(body, 'trackFiles', 1).path = 'Random Access Memories (2013)/02.flac';
  t.strictSame(issuesOf(parseWebhook('lidarr', body)), [
    { path: '/trackFiles/1/path', message: 'must be an absolute path' },
  ]);
  const retag = fixture('lidarr-retag');
  at(retag, 'artist').path = '/music/Daft Punk\u0000';
  t.strictSame(issuesOf(parseWebhook('lidarr', retag)), [
    { path: '/artist/path', message: 'must not contain control characters' },
  ]);
});

t.test('parentFolder keeps each path style', async (t) => {
  t.equal(parentFolder('/tv/Show/Season 01/x.mkv'), '/tv/Show/Season 01');
  t.equal(parentFolder('/x.mkv'), '/');
  t.equal(parentFolder('C:\\TV\\Show\\Season 01\\x.mkv'), 'C:\\TV\\Show\\Season 01');
  t.equal(parentFolder('c:/tv/show/x.mkv'), 'c:/tv/show');
  t.equal(parentFolder('C:\\x.mkv'), 'C:\\');
  t.equal(parentFolder('\\\\nas\\media\\TV\\x.mkv'), '\\\\nas\\media\\TV');
  t.equal(parentFolder('/music/AC\\DC/x.flac'), '/music/AC\\DC', 'a backslash is part of a POSIX file name');
});

t.test('folderOfRelative joins under the base in the base’s style', async (t) => {
  t.equal(folderOfRelative('/tv/Show', 'Season 01/x.mkv'), '/tv/Show/Season 01');
  t.equal(folderOfRelative('/tv/Show/', 'Season 01/x.mkv'), '/tv/Show/Season 01');
  t.equal(folderOfRelative('/tv/Show', 'x.mkv'), '/tv/Show');
  t.equal(folderOfRelative('C:\\TV\\Show', 'Season 01\\x.mkv'), 'C:\\TV\\Show\\Season 01');
  t.equal(folderOfRelative('\\\\nas\\tv\\Show', 'Specials/x.mkv'), '\\\\nas\\tv\\Show\\Specials');
});
