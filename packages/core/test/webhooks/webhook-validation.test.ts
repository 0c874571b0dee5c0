import t from 'tap';
import type { ParsedWebhook, WebhookIssue } from '../../src/webhooks/index.ts';
import { parseWebhook, planWebhook } from '../../src/webhooks/index.ts';
import { at, fixture } from '../fixtures/webhooks/load.ts';

function issuesOf(parsed: ParsedWebhook): WebhookIssue[] {
  return parsed.kind === 'invalid' ? parsed.issues : [];
}

t.test('tmdbId "603abc" is invalid at /movie/tmdbId, never coerced', async (t) => {
  const body = fixture('radarr-download');
  at(body, 'movie').tmdbId = '603abc';
  const parsed = parseWebhook('radarr', body);
  t.equal(parsed.kind, 'invalid');
  t.strictSame(issuesOf(parsed), [{ path: '/movie/tmdbId', message: 'must be integer' }]);
});

t.test('a numeric string tmdbId ("603") is still not an integer', async (t) => {
  const body = fixture('radarr-download');
  at(body, 'movie').tmdbId = '603';
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [
    { path: '/movie/tmdbId', message: 'must be integer' },
  ]);
});

t.test('a fractional tmdbId is not an integer', async (t) => {
  const body = fixture('radarr-download');
  at(body, 'movie').tmdbId = 603.5;
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [
    { path: '/movie/tmdbId', message: 'must be integer' },
  ]);
});

t.test('movie: [] is invalid and names /movie', async (t) => {
  const body = fixture('radarr-download');
  body.movie = [];
  const issues = issuesOf(parseWebhook('radarr', body));
  t.strictSame(issues, [{ path: '/movie', message: 'must be object' }]);
});

t.test('folderPath: 123 is invalid at /movie/folderPath', async (t) => {
  const body = fixture('radarr-download');
  at(body, 'movie').folderPath = 123;
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [
    { path: '/movie/folderPath', message: 'must be string' },
  ]);
});

t.test('a Download without movie.folderPath is invalid: it is the field we act on', async (t) => {
  const body = fixture('radarr-download');
  delete at(body, 'movie').folderPath;
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [
    { path: '/movie/folderPath', message: 'is required' },
  ]);
});

t.test('a Download without movie is invalid at /movie', async (t) => {
  const body = fixture('radarr-download');
  delete body.movie;
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [{ path: '/movie', message: 'is required' }]);
});

t.test('a Download without movieFile is still actionable: only the folder is needed', async (t) => {
  const body = fixture('radarr-download');
  delete body.movieFile;
  delete body.release;
  t.equal(parseWebhook('radarr', body).kind, 'actionable');
  t.equal(planWebhook('radarr', body).length, 1);
});

t.test('several wrong fields are all reported', async (t) => {
  const body = fixture('radarr-download');
  at(body, 'movie').tmdbId = 'x';
  at(body, 'movie').year = '1999';
  at(body, 'movieFile').id = '51';
  body.downloadId = 7;
  const issues = issuesOf(parseWebhook('radarr', body));
  t.same(
    issues.map((i) => i.path).sort(),
    ['/downloadId', '/movie/tmdbId', '/movie/year', '/movieFile/id'].sort(),
  );
});

t.test('missing eventType is invalid and names /eventType', async (t) => {
  for (const source of ['radarr', 'sonarr', 'lidarr'] as const) {
    const body = fixture(`${source}-download`);
    delete body.eventType;
    t.strictSame(
      issuesOf(parseWebhook(source, body)),
      [{ path: '/eventType', message: 'is required' }],
      source,
    );
  }
});

t.test('an eventType that is not a string is invalid', async (t) => {
  const body = fixture('radarr-download');
  body.eventType = 42;
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [{ path: '/eventType', message: 'must be string' }]);
  body.eventType = ['Download'];
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [{ path: '/eventType', message: 'must be string' }]);
  body.eventType = '';
  t.equal(
    issuesOf(parseWebhook('radarr', body))[0]?.path,
    '/eventType',
    'an empty event type is no event type',
  );
});

t.test('a body that is not an object is invalid with path ""', async (t) => {
  for (const body of [null, undefined, [], [{ eventType: 'Download' }], 'Download', 42, true]) {
    const parsed = parseWebhook('radarr', body);
    t.equal(parsed.kind, 'invalid', JSON.stringify(body));
    t.strictSame(issuesOf(parsed), [{ path: '', message: 'must be object' }]);
  }
});

t.test('unknown extra properties are accepted, at every level', async (t) => {
  const body = fixture('radarr-download');
  body.someFutureField = { nested: [1, 2, 3] };
  at(body, 'movie').collection = { title: 'The Matrix Collection', tmdbId: 2344 };
  at(body, 'movieFile').someNewFileField = 'x';
  t.equal(parseWebhook('radarr', body).kind, 'actionable');
});

t.test('fields we do not use are not judged', async (t) => {
  const body = fixture('radarr-download');
  body.isUpgrade = 'no';
  body.release = 'weird';
  at(body, 'movie').genres = 'Action';
  at(body, 'movie').overview = 5;
  t.equal(parseWebhook('radarr', body).kind, 'actionable');
});

t.test('an unknown eventType is ignored, never invalid', async (t) => {
  for (const source of ['radarr', 'sonarr', 'lidarr'] as const) {
    const parsed = parseWebhook(source, { eventType: 'SomethingNew', instanceName: 'X', whatever: [] });
    t.equal(parsed.kind, 'ignored', source);
    if (parsed.kind === 'ignored') {
      t.equal(parsed.eventType, 'SomethingNew');
      t.equal(parsed.instanceName, 'X');
    }
  }
  // Names of Object.prototype members are just unknown event types.
  for (const eventType of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.equal(parseWebhook('radarr', { eventType }).kind, 'ignored', eventType);
  }
});

t.test('Grab, Health and other non-library events are ignored even with odd bodies', async (t) => {
  for (const eventType of [
    'Grab',
    'Health',
    'HealthRestored',
    'ApplicationUpdate',
    'ManualInteractionRequired',
  ]) {
    const parsed = parseWebhook('radarr', { eventType, movie: [], instanceName: 5 });
    t.equal(parsed.kind, 'ignored', eventType);
    t.notOk('instanceName' in parsed, 'a non-string instanceName is left out');
  }
});

t.test('a Test event is lenient: placeholder paths and ids, even a broken movie, still test', async (t) => {
  const body = fixture('radarr-test');
  t.strictSame(parseWebhook('radarr', body), { kind: 'test', eventType: 'Test', instanceName: 'Radarr' });
  body.movie = [];
  t.equal(parseWebhook('radarr', body).kind, 'test');
  t.strictSame(parseWebhook('sonarr', { eventType: 'Test' }), { kind: 'test', eventType: 'Test' });
});

t.test('an actionable event with a non-string instanceName is invalid (it is part of the key)', async (t) => {
  const body = fixture('sonarr-download');
  body.instanceName = 5;
  t.strictSame(issuesOf(parseWebhook('sonarr', body)), [
    { path: '/instanceName', message: 'must be string' },
  ]);
});

t.test('Sonarr: wrong types in series and episode files are reported with their pointer', async (t) => {
  const body = fixture('sonarr-import-complete');
  at(body, 'episodeFiles', 1).path = 42;
  at(body, 'series').id = '85';
  const issues = issuesOf(parseWebhook('sonarr', body));
  t.same(issues.map((i) => `${i.path} ${i.message}`).sort(), [
    '/episodeFiles/1/path must be string',
    '/series/id must be integer',
  ]);
  const noPath = fixture('sonarr-download');
  delete at(noPath, 'series').path;
  t.strictSame(issuesOf(parseWebhook('sonarr', noPath)), [{ path: '/series/path', message: 'is required' }]);
});

t.test('Lidarr: a track file id given as a string is invalid', async (t) => {
  const body = fixture('lidarr-download');
  at(body, 'trackFiles', 0).id = '5001';
  t.strictSame(issuesOf(parseWebhook('lidarr', body)), [
    { path: '/trackFiles/0/id', message: 'must be integer' },
  ]);
  const noArtist = fixture('lidarr-album-delete');
  delete noArtist.artist;
  t.strictSame(issuesOf(parseWebhook('lidarr', noArtist)), [{ path: '/artist', message: 'is required' }]);
});

t.test('Radarr MovieDelete: deletedFiles must be a boolean when present', async (t) => {
  const body = fixture('radarr-movie-delete');
  body.deletedFiles = 'true';
  t.strictSame(issuesOf(parseWebhook('radarr', body)), [
    { path: '/deletedFiles', message: 'must be boolean' },
  ]);
  delete body.deletedFiles;
  t.strictSame(planWebhook('radarr', body), [
    {
      action: 'movie-removed',
      folderPath: '/movies/The Matrix (1999)',
      radarrId: 17,
      tmdbId: 603,
      filesDeleted: false,
    },
  ]);
});

t.test(
  'a "__proto__" key in a JSON body is only data: it supplies nothing and pollutes nothing',
  async (t) => {
    // As sent over the wire: JSON.parse makes "__proto__" an own property, not a prototype.
    const inMovie = JSON.parse(
      '{"eventType":"Download","movie":{"id":1,"title":"X","__proto__":{"folderPath":"/movies/X (1999)"}}}',
    );
    t.strictSame(issuesOf(parseWebhook('radarr', inMovie)), [
      { path: '/movie/folderPath', message: 'is required' },
    ]);

    const atTop = JSON.parse('{"__proto__":{"eventType":"Download"},"movie":{"folderPath":"/movies/X"}}');
    t.strictSame(issuesOf(parseWebhook('radarr', atTop)), [{ path: '/eventType', message: 'is required' }]);

    const extra = JSON.parse(
      '{"eventType":"Download","movie":{"folderPath":"/movies/X (1999)","__proto__":{"polluted":true}},' +
        '"__proto__":{"polluted":true,"folderPath":"/etc"}}',
    );
    t.equal(parseWebhook('radarr', extra).kind, 'actionable');
    const plan = planWebhook('radarr', extra);
    t.strictSame(plan, [{ action: 'scan-movie', folderPath: '/movies/X (1999)', eventType: 'Download' }]);
    t.equal(Object.getPrototypeOf(plan[0]), Object.prototype);
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
    t.equal(({} as Record<string, unknown>).folderPath, undefined);
  },
);

t.test('an invalid delivery cannot be planned', async (t) => {
  const body = fixture('radarr-download');
  at(body, 'movie').folderPath = 'relative/path';
  t.throws(() => planWebhook('radarr', body), { code: 'WEBHOOK_NOT_ACTIONABLE', retryable: false });
  t.throws(() => planWebhook('radarr', null), { code: 'WEBHOOK_NOT_ACTIONABLE' });
});

t.test('an unknown source is a programming error', async (t) => {
  t.throws(() => parseWebhook('readarr' as 'radarr', fixture('radarr-download')), TypeError);
});
