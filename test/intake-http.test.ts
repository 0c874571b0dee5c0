import net from 'node:net';
import { Writable } from 'node:stream';
import { HTTP_TIMEOUTS, WEBHOOK_BODY_LIMIT } from '@metarr/api';
import { createJobInspector, createLogger, type Db } from '@metarr/core';
import { sql } from 'kysely';
import t from 'tap';
import { API_KEY, request, startStack } from './support/stack.ts';
import { at, fixture } from './support/webhook-fixtures.ts';

/** A pino logger writing into memory, so a test can read every line the API logged. */
function captureLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ name: 'api', level: 'debug', destination });
  return {
    log,
    text: () => lines.join('\n'),
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function stored(db: Db) {
  const jobs = await createJobInspector(db).count();
  const deliveries = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries`.execute(db);
  return { jobs, deliveries: deliveries.rows[0]?.n ?? -1 };
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

t.test(
  'auth matrix: API key by header or query, HTTP Basic with the webhook credentials; anything else 401 with nothing stored and no secret logged',
  async (t) => {
    const cap = captureLog();
    const password = 'hook-pass-7f3a9c21';
    const stack = await startStack(t, {
      worker: false,
      log: cap.log,
      webhookAuth: { username: 'radarr', password },
    });
    let movieFileId = 5000;
    const body = () => {
      const b = fixture('radarr-download');
      at(b, 'movieFile').id = ++movieFileId;
      return b;
    };
    const post = (route: string, headers: Record<string, string>) =>
      request(stack.url, 'POST', route, body(), headers);

    const accepted: [string, string, Record<string, string>][] = [
      ['X-Api-Key header', '/api/webhooks/radarr', { 'x-api-key': API_KEY }],
      ['apikey query', `/api/webhooks/radarr?apikey=${API_KEY}`, {}],
      ['HTTP Basic', '/api/webhooks/radarr', { authorization: basic('radarr', password) }],
    ];
    for (const [what, route, headers] of accepted) {
      const r = await post(route, headers);
      t.equal(r.status, 200, `${what} is accepted`);
      t.equal(r.json?.status, 'success', what);
    }
    const before = await stored(stack.db);
    t.same(before, { jobs: 3, deliveries: 3 });

    const rejected: [string, string, Record<string, string>][] = [
      ['no credentials', '/api/webhooks/radarr', {}],
      ['wrong header key', '/api/webhooks/radarr', { 'x-api-key': 'wrong-key-0123456789' }],
      ['wrong query key', '/api/webhooks/radarr?apikey=wrong-key-0123456789', {}],
      ['empty query key', '/api/webhooks/radarr?apikey=', {}],
      ['Basic, wrong password', '/api/webhooks/radarr', { authorization: basic('radarr', 'not-it') }],
      ['Basic, wrong user', '/api/webhooks/radarr', { authorization: basic('sonarr', password) }],
      [
        'Basic, no colon',
        '/api/webhooks/radarr',
        { authorization: `Basic ${Buffer.from('radarr').toString('base64')}` },
      ],
      ['Bearer with the key', '/api/webhooks/radarr', { authorization: `Bearer ${API_KEY}` }],
    ];
    for (const [what, route, headers] of rejected) {
      const r = await post(route, headers);
      t.equal(r.status, 401, `${what} → 401`);
      t.same(r.json, { statusCode: 401, error: 'Unauthorized', message: 'Missing or invalid API key' }, what);
    }
    const basicOnApi = await request(stack.url, 'GET', '/api/libraries', undefined, {
      authorization: basic('radarr', password),
    });
    t.equal(basicOnApi.status, 401, 'the webhook credentials open webhook routes only');
    const challenged = await post('/api/webhooks/sonarr', {});
    t.equal(
      challenged.headers.get('www-authenticate'),
      'Basic realm="metarr"',
      'Basic is offered when configured',
    );

    t.same(await stored(stack.db), before, 'no rejected request stored a delivery or a job');

    const logged = cap.text();
    t.match(logged, /Unauthorized request/, 'rejections are logged');
    t.match(logged, /Webhook queued/);
    for (const secret of [
      API_KEY,
      password,
      basic('radarr', password).slice(6),
      'wrong-key-0123456789',
      'not-it',
    ]) {
      t.notOk(logged.includes(secret), `the log never contains ${secret.slice(0, 6)}…`);
    }
  },
);

t.test('METARR_BASE_PATH prefixes every route and nothing answers without it', async (t) => {
  const stack = await startStack(t, { worker: false, basePath: '/metarr' });
  t.ok(stack.url.endsWith('/metarr'));
  const root = stack.url.slice(0, -'/metarr'.length);
  const gets = [
    '/api/health',
    '/api/libraries',
    '/api/path-mappings',
    '/api/player-groups',
    '/api/players',
    '/api/movies',
    '/api/jobs',
    '/api/jobs/stats',
    '/api/webhooks/deliveries',
    '/api/paths/explain?manager=radarr&path=/movies/X',
  ];
  for (const route of gets) {
    const prefixed = await stack.api('GET', route);
    t.equal(prefixed.status, 200, `GET /metarr${route}`);
    const bare = await request(root, 'GET', route, undefined, { 'x-api-key': API_KEY });
    t.equal(bare.status, 404, `GET ${route} without the prefix is 404`);
  }
  for (const source of ['radarr', 'sonarr', 'lidarr']) {
    const r = await stack.api('POST', `/api/webhooks/${source}`, fixture(`${source}-test`));
    t.same(r.json, { status: 'success', message: 'Test received' }, `POST /metarr/api/webhooks/${source}`);
    const bare = await request(root, 'POST', `/api/webhooks/${source}`, fixture(`${source}-test`), {
      'x-api-key': API_KEY,
    });
    t.equal(bare.status, 404);
  }
  const put = await stack.api('PUT', '/api/webhooks/radarr', fixture('radarr-download'));
  t.equal(put.status, 200, 'PUT works under the prefix too');
});

t.test('METARR_TRUST_PROXY: X-Forwarded-For is honoured only from a trusted address', async (t) => {
  const forwarded = { 'x-forwarded-for': '203.0.113.7' };
  const ipsSeen = async (trustProxy: string[] | undefined) => {
    const cap = captureLog();
    const stack = await startStack(t, { worker: false, log: cap.log, ...(trustProxy && { trustProxy }) });
    await stack.api('POST', '/api/webhooks/radarr', fixture('radarr-grab'), forwarded);
    await request(stack.url, 'POST', '/api/webhooks/radarr', fixture('radarr-grab'), forwarded);
    return cap
      .entries()
      .filter((e) => e.msg === 'Webhook ignored' || e.msg === 'Unauthorized request')
      .map((e) => e.ip);
  };
  t.same(await ipsSeen(['127.0.0.1']), ['203.0.113.7', '203.0.113.7'], 'trusted proxy: the forwarded client');
  t.same(await ipsSeen(['127.0.0.0/8']), ['203.0.113.7', '203.0.113.7'], 'a CIDR works too');
  t.same(await ipsSeen(['10.0.0.1']), ['127.0.0.1', '127.0.0.1'], 'untrusted peer: the header is ignored');
  t.same(await ipsSeen(undefined), ['127.0.0.1', '127.0.0.1'], 'unset: the header is ignored');
});

/** A Sonarr "import complete" of a 200-episode pack with every string at a generous real length. */
function worstCaseImport(): Record<string, unknown> {
  const body = fixture('sonarr-import-complete');
  const [ep] = body.episodes as Record<string, unknown>[];
  const [file] = body.episodeFiles as Record<string, unknown>[];
  const words = 'The quick brown fox jumps over the lazy dog while the crew investigates. ';
  const episodes = [];
  const files = [];
  for (let i = 1; i <= 200; i++) {
    episodes.push({
      ...ep,
      id: 40_000 + i,
      episodeNumber: i,
      title: `A Rather Long Episode Title Number ${i} – ${words.slice(0, 60)}`,
      overview: words.repeat(8),
    });
    const name = `Season 01/Severance - S01E${String(i).padStart(3, '0')} - A Rather Long Episode Title Number ${i} [Bluray-2160p Remux][DV HDR10][TrueHD Atmos 7.1]-FraMeSToR.mkv`;
    files.push({
      ...file,
      id: 80_000 + i,
      relativePath: name,
      path: `/tv/Severance/${name}`,
      sceneName: `Severance.S01E${i}.2160p.BluRay.REMUX.DV.HDR10.HEVC.TrueHD.7.1.Atmos-FraMeSToR`,
      languages: Array.from({ length: 4 }, (_, j) => ({ id: j + 1, name: `Language ${j}` })),
      mediaInfo: {
        ...(file?.mediaInfo as object),
        audioLanguages: Array.from({ length: 12 }, (_, j) => `l${j}x`),
        subtitles: Array.from({ length: 40 }, (_, j) => `s${j}x`),
      },
    });
  }
  return { ...body, episodes, episodeFiles: files, fileCount: files.length };
}

t.test(
  'limits: the worst real payload passes, everything hostile or malformed gets its 4xx and stores nothing',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const post = (body: unknown, headers: Record<string, string> = {}, source = 'radarr') =>
      request(stack.url, 'POST', `/api/webhooks/${source}`, body, { 'x-api-key': API_KEY, ...headers });

    const worst = JSON.stringify(worstCaseImport());
    t.ok(worst.length > 256 * 1024, `the worst case is ${Math.round(worst.length / 1024)} KiB`);
    t.ok(worst.length * 2 <= WEBHOOK_BODY_LIMIT, 'the body limit leaves at least 2× headroom over it');
    const big = await post(worst, {}, 'sonarr');
    t.equal(big.status, 200, big.text.slice(0, 200));
    t.equal(big.json?.status, 'success');
    const afterWorst = await stored(stack.db);
    t.same(afterWorst, { jobs: 1, deliveries: 1 });

    const download = () => fixture('radarr-download');
    const cases: [string, unknown, number, RegExp | null, Record<string, string>?][] = [];
    const huge = download();
    huge.padding = 'x'.repeat(2 * 1024 * 1024);
    cases.push(['2 MiB body', JSON.stringify(huge), 413, null]);
    cases.push(['text/plain', JSON.stringify(download()), 415, null, { 'content-type': 'text/plain' }]);
    cases.push([
      'form content type',
      'eventType=Download',
      415,
      null,
      { 'content-type': 'application/x-www-form-urlencoded' },
    ]);
    cases.push(['invalid JSON', '{"eventType": Download}', 400, null]);
    cases.push(['truncated JSON', JSON.stringify(download()).slice(0, 120), 400, null]);
    cases.push(['empty body', '', 400, null]);
    cases.push(['a JSON array', '[]', 400, /body/]);
    cases.push(['a JSON string', '"Download"', 400, /body/]);
    const proto = JSON.stringify(download()).replace('{', '{"__proto__":{"isAdmin":true},');
    cases.push(['__proto__', proto, 400, null]);
    const ctor = JSON.stringify(download()).replace('{', '{"constructor":{"prototype":{"isAdmin":true}},');
    cases.push(['constructor.prototype', ctor, 400, null]);
    cases.push([
      '10,000-deep nesting',
      `{"eventType":"Download","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      400,
      /nest/,
    ]);
    cases.push([
      '500,000-deep nesting',
      `{"eventType":"Download","x":${'['.repeat(500_000)}${']'.repeat(500_000)}}`,
      400,
      null,
    ]);
    const tmdb = download();
    at(tmdb, 'movie').tmdbId = '603abc';
    cases.push(['tmdbId "603abc"', tmdb, 400, /body\/movie\/tmdbId/]);
    const arr = download();
    arr.movie = [];
    cases.push(['movie: []', arr, 400, /body\/movie /]);
    const folder = download();
    at(folder, 'movie').folderPath = 123;
    cases.push(['folderPath: 123', folder, 400, /body\/movie\/folderPath must be string/]);
    const noEvent = download();
    delete noEvent.eventType;
    cases.push(['missing eventType', noEvent, 400, /body\/eventType/]);
    const dotdot = download();
    at(dotdot, 'movie').folderPath = '/movies/../etc/passwd';
    cases.push(['a .. path', dotdot, 400, /body\/movie\/folderPath/]);
    const nul = download();
    at(nul, 'movie').folderPath = '/movies/X\u0000Y';
    cases.push(['a NUL in a path', nul, 400, /body\/movie\/folderPath/]);

    const nulTitle = download();
    at(nulTitle, 'movie').title = 'The\u0000Matrix';
    cases.push([
      'a NUL in any string (jsonb cannot store it)',
      nulTitle,
      400,
      /body\/movie\/title must not contain NUL/,
    ]);
    const nulKey = JSON.stringify(download()).replace('{', '{"a\\u0000b":1,');
    cases.push(['a NUL in a property name', nulKey, 400, /NUL/]);

    for (const [what, body, status, message, headers] of cases) {
      const r = await post(body, headers);
      t.equal(r.status, status, `${what} → ${status}`);
      t.equal(r.json?.statusCode, status, `${what}: Fastify's error shape`);
      if (message) t.match(r.json?.message, message, `${what}: the message names the field`);
      t.notMatch(r.text, /at .*\.[jt]s:\d+|node_modules/, `${what}: no stack trace`);
    }
    t.same(await stored(stack.db), afterWorst, 'no rejected body stored a delivery or a job');

    const health = await request(stack.url, 'GET', '/api/health');
    t.equal(health.status, 200, 'the API is still up');
  },
);

t.test('unknown extra properties are accepted', async (t) => {
  const stack = await startStack(t, { worker: false });
  const body = fixture('radarr-download');
  body.someFutureField = { nested: [1, 2, 3] };
  at(body, 'movie').anotherNewOne = 'x';
  const r = await stack.api('POST', '/api/webhooks/radarr', body);
  t.equal(r.status, 200);
  t.equal(r.json.status, 'success');
});

t.test('a client that sends its headers slowly is cut off', async (t) => {
  t.ok(HTTP_TIMEOUTS.headersMs <= 30_000 && HTTP_TIMEOUTS.requestMs <= 60_000, 'the defaults are bounded');
  t.ok(HTTP_TIMEOUTS.checkEveryMs <= HTTP_TIMEOUTS.headersMs / 2, 'and checked often enough to matter');
  t.ok(HTTP_TIMEOUTS.keepAliveMs > 75_000, "keep-alive outlasts nginx's 75 s idle timeout");
  const stack = await startStack(t, {
    worker: false,
    timeouts: { headersMs: 600, requestMs: 1200, checkEveryMs: 100 },
  });
  const { port } = new URL(stack.url);
  const started = Date.now();
  const socket = net.connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d));
  socket.on('error', () => {});
  socket.write('POST /api/webhooks/radarr HTTP/1.1\r\nHost: localhost\r\n');
  // One header byte every 100 ms: never idle long enough for an idle timeout, never finished.
  const drip = setInterval(() => {
    if (!socket.destroyed) socket.write('X');
  }, 100);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  clearInterval(drip);
  const elapsed = Date.now() - started;
  t.ok(elapsed < 3000, `cut after ${elapsed} ms`);
  t.match(received, /^HTTP\/1\.1 408/, 'with a 408');

  const ok = await request(stack.url, 'GET', '/api/health');
  t.equal(ok.status, 200, 'other clients are served');
  t.match(ok.headers.get('keep-alive'), /timeout=90\b/, 'keep-alive is advertised at 90 s');
});

t.test(
  'five identical deliveries at once make one job; the rest are duplicates of it, never a 500',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    for (let round = 0; round < 4; round++) {
      const body = fixture('radarr-download');
      at(body, 'movieFile').id = 70_000 + round;
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => stack.api('POST', '/api/webhooks/radarr', body)),
      );
      t.same(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200],
      );
      const first = answers.filter((a) => a.json.status === 'success');
      t.equal(first.length, 1, `round ${round}: exactly one accepted`);
      const dups = answers.filter((a) => a.json.status === 'duplicate');
      t.equal(dups.length, 4);
      for (const d of dups) t.equal(d.json.jobId, first[0]?.json.jobId, 'a duplicate names the first job');
    }
    t.same(await stored(stack.db), { jobs: 4, deliveries: 4 });
  },
);

t.test(
  'under load, deliveries committed together still fold repeats: 8 bodies × 5 copies at once → 8 jobs',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const bodies = Array.from({ length: 8 }, (_, i) => {
      const b = fixture('radarr-download');
      at(b, 'movieFile').id = 90_000 + i;
      return b;
    });
    const sends = bodies.flatMap((b, i) => Array.from({ length: 5 }, () => ({ i, b })));
    // Interleave copies so repeats of one body land in the same and in different commits.
    sends.sort((x, y) => ((x.i * 7 + 3) % 5) - ((y.i * 7 + 3) % 5) || x.i - y.i);
    const answers = await Promise.all(
      sends.map(async ({ i, b }) => ({ i, r: await stack.api('POST', '/api/webhooks/radarr', b) })),
    );
    t.ok(
      answers.every((a) => a.r.status === 200),
      'all 200',
    );
    for (let i = 0; i < bodies.length; i++) {
      const mine = answers.filter((a) => a.i === i).map((a) => a.r.json);
      const accepted = mine.filter((j) => j.status === 'success');
      t.equal(accepted.length, 1, `body ${i}: one accepted`);
      t.ok(
        mine.filter((j) => j.status === 'duplicate').every((j) => j.jobId === accepted[0]?.jobId),
        `body ${i}: its four repeats name its job`,
      );
    }
    t.same(await stored(stack.db), { jobs: 8, deliveries: 8 });
    const deliveries = await sql<{ id: string; job_id: string }>`
    select id::text as id, job_id from webhook_deliveries`.execute(stack.db);
    const jobs = new Map((await stack.jobs.rows()).map((j) => [j.id, j]));
    const own = deliveries.rows.filter(
      (d) => (jobs.get(d.job_id)?.data?.payload as { deliveryId?: string } | undefined)?.deliveryId === d.id,
    );
    t.equal(own.length, 8, 'each job points at its own delivery');
  },
);
