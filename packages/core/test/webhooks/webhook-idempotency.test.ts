import t from 'tap';
import type { WebhookSource } from '../../src/webhooks/index.ts';
import { parseWebhook } from '../../src/webhooks/index.ts';
import { at, fixture } from '../fixtures/webhooks/load.ts';

function keyOf(source: WebhookSource, body: unknown): string {
  const parsed = parseWebhook(source, body);
  if (parsed.kind !== 'actionable') throw new Error(`expected actionable, got ${JSON.stringify(parsed)}`);
  return parsed.idempotencyKey;
}

/** The same object with its keys in reverse order, all the way down. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversed(v)]),
    );
  }
  return value;
}

t.test('the key is a sha256 hex digest', async (t) => {
  t.match(keyOf('radarr', fixture('radarr-download')), /^[0-9a-f]{64}$/);
});

t.test('identical bodies give the same key, whatever the property order', async (t) => {
  for (const [source, name] of [
    ['radarr', 'radarr-download'],
    ['radarr', 'radarr-rename'],
    ['sonarr', 'sonarr-import-complete'],
    ['lidarr', 'lidarr-download'],
  ] as const) {
    const a = keyOf(source, fixture(name));
    t.equal(keyOf(source, fixture(name)), a, `${name} twice`);
    t.equal(keyOf(source, reversed(fixture(name))), a, `${name} reordered`);
  }
});

t.test('fields outside the identity (release info, dates, media info) do not change the key', async (t) => {
  const body = fixture('radarr-download');
  const a = keyOf('radarr', body);
  body.release = { releaseTitle: 'other' };
  body.applicationUrl = 'http://radarr.local';
  at(body, 'movieFile').mediaInfo = {};
  t.equal(keyOf('radarr', body), a);
});

t.test('a different movieFile.id gives a different key', async (t) => {
  const body = fixture('radarr-download');
  const a = keyOf('radarr', body);
  at(body, 'movieFile').id = 52;
  t.not(keyOf('radarr', body), a);
});

t.test('a different downloadId gives a different key', async (t) => {
  const body = fixture('radarr-download');
  const a = keyOf('radarr', body);
  body.downloadId = 'B1B2C3D4E5F60718293A4B5C6D7E8F9012345678';
  t.not(keyOf('radarr', body), a);
  delete body.downloadId;
  t.not(keyOf('radarr', body), a, 'no downloadId differs from one');
});

t.test('the instance, the event type and the movie are all part of the key', async (t) => {
  const a = keyOf('radarr', fixture('radarr-download'));
  const otherInstance = fixture('radarr-download');
  otherInstance.instanceName = 'Radarr 4K';
  t.not(keyOf('radarr', otherInstance), a);

  const otherMovie = fixture('radarr-download');
  at(otherMovie, 'movie').id = 18;
  t.not(keyOf('radarr', otherMovie), a);

  t.not(keyOf('radarr', fixture('radarr-movie-file-delete')), keyOf('radarr', fixture('radarr-movie-added')));
});

t.test('an upgrade (with deletedFiles) differs from the first import of the same movie', async (t) => {
  t.not(keyOf('radarr', fixture('radarr-download-upgrade')), keyOf('radarr', fixture('radarr-download')));
});

t.test('a rename to another path is a different event', async (t) => {
  const body = fixture('radarr-rename');
  const a = keyOf('radarr', body);
  at(body, 'renamedMovieFiles', 0).path = '/movies/The Matrix (1999)/The Matrix (1999).mkv';
  t.not(keyOf('radarr', body), a);
});

t.test('Radarr MovieDelete keys on whether files were deleted', async (t) => {
  const body = fixture('radarr-movie-delete');
  const a = keyOf('radarr', body);
  body.deletedFiles = false;
  t.not(keyOf('radarr', body), a);
});

t.test('Sonarr: episode file order does not matter, another file id does', async (t) => {
  const body = fixture('sonarr-import-complete');
  const a = keyOf('sonarr', body);
  (body.episodeFiles as unknown[]).reverse();
  t.equal(keyOf('sonarr', body), a, 'same files in another order');
  at(body, 'episodeFiles', 0).id = 9999;
  t.not(keyOf('sonarr', body), a);
});

t.test('Sonarr: the per-file Download keys on episodeFile.id', async (t) => {
  const body = fixture('sonarr-download');
  const a = keyOf('sonarr', body);
  at(body, 'episodeFile').id = 9002;
  t.not(keyOf('sonarr', body), a);
});

t.test('Lidarr: another track file or download gives another key', async (t) => {
  const a = keyOf('lidarr', fixture('lidarr-download'));
  const file = fixture('lidarr-download');
  at(file, 'trackFiles', 1).id = 5003;
  t.not(keyOf('lidarr', file), a);
  const dl = fixture('lidarr-download');
  dl.downloadId = 'other';
  t.not(keyOf('lidarr', dl), a);
});

t.test('the same body sent by different apps never shares a key', async (t) => {
  const body = {
    eventType: 'Rename',
    instanceName: 'X',
    series: { id: 1, path: '/a' },
    artist: { id: 1, path: '/a' },
  };
  t.not(keyOf('sonarr', body), keyOf('lidarr', body));
});
