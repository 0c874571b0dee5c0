/**
 * Secrets canary: planted secrets (API key, webhook password, player passwords, TMDB key) go through
 * a full run with failures on purpose (wrong credentials, bad bodies, a TMDB 500, a failing player
 * test). None may appear in any log line, job row, WebSocket frame, HTTP error body or written file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeKodi, startFakeTmdb } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import WebSocket from 'ws';
import { type Call, inspectJobs, movieTree, radarrDownload, seedLibrary } from './support/chaos.ts';
import { request, waitFor } from './support/stack.ts';
import { Supervisor } from './support/supervisor.ts';

const SECRETS = {
  apiKey: 'canary-apikey-5b0e7d21c4aa0f93e1b7',
  webhookPassword: 'canary-hookpw-3f9a61',
  kodiPassword: 'canary-kodipw-8c4117',
  wrongKodiPassword: 'canary-wrongpw-71aa02',
  tmdbKey: 'canary-tmdbkey-d00d5e',
};

async function filesUnder(dir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out.push({ file, text: (await fs.readFile(file)).toString('latin1') });
  }
  return out;
}

t.test(
  'planted secrets appear in no log, job row, WebSocket frame, HTTP error body or written file',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const tmdb = await startFakeTmdb({ apiKey: SECRETS.tmdbKey });
    const kodi = await startFakeKodi({ username: 'kodi', password: SECRETS.kodiPassword });
    t.teardown(() => Promise.all([tmdb.close(), kodi.close()]));
    const sup = new Supervisor(t, {
      DATABASE_URL: database.url,
      METARR_API_KEY: SECRETS.apiKey,
      METARR_WEBHOOK_USERNAME: 'arr',
      METARR_WEBHOOK_PASSWORD: SECRETS.webhookPassword,
      TMDB_API_KEY: SECRETS.tmdbKey,
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      METARR_DB_POOL_MAX: '4',
      LOG_LEVEL: 'debug',
    });
    const api = await sup.start('api', { name: 'api' });
    await sup.start('worker', { name: 'w1' });
    const base = String(api.address);
    const call: Call = (method, route, body) =>
      request(base, method, route, body, { 'x-api-key': SECRETS.apiKey });

    const frames: string[] = [];
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/ws?apikey=${SECRETS.apiKey}`);
    ws.on('message', (raw) => frames.push(raw.toString()));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    t.teardown(() => ws.close());

    const media = t.testdir(movieTree(1));
    await seedLibrary(call, {
      media,
      kodiPorts: [kodi.port],
      debounceSeconds: 0,
      playerPassword: SECRETS.kodiPassword,
    });
    const groupId = (await call('GET', '/api/player-groups')).json[0].id;
    const wrong = await call('POST', '/api/players', {
      groupId,
      name: 'wrong-password',
      type: 'kodi',
      host: '127.0.0.1',
      port: kodi.port,
      username: 'kodi',
      password: SECRETS.wrongKodiPassword,
      enabled: false,
    });
    t.equal(wrong.status, 201, wrong.text);

    // Failures on purpose: each is a place a secret likes to leak.
    const errorBodies: string[] = [];
    const basic = (pw: string) => `Basic ${Buffer.from(`arr:${pw}`).toString('base64')}`;
    const bad = [
      await request(base, 'POST', '/api/webhooks/radarr', radarrDownload(1, 1), {
        authorization: basic('not-it'),
      }),
      await request(
        base,
        'POST',
        '/api/webhooks/radarr',
        { eventType: 'Download', movie: 7 },
        { authorization: basic(SECRETS.webhookPassword) },
      ),
      await request(base, 'GET', `/api/nope?apikey=${SECRETS.apiKey}`),
      await request(base, 'GET', '/api/jobs?state=bogus', undefined, { 'x-api-key': SECRETS.apiKey }),
      await call('POST', `/api/players/${wrong.json.id}/test`),
    ];
    for (const r of bad) errorBodies.push(r.text);
    t.same(
      bad.slice(0, 4).map((r) => r.status >= 400),
      [true, true, true, true],
      `every provoked failure failed (${bad.map((r) => r.status).join(', ')})`,
    );
    t.notMatch(bad[4]?.text, /"ok":\s*true/, `the wrong-password player test did not pass: ${bad[4]?.text}`);
    const players = await call('GET', '/api/players');
    errorBodies.push(players.text);

    // A real run through the metadata pipeline, with one TMDB failure on the way.
    tmdb.failNext(1, 500);
    const ack = await request(base, 'POST', '/api/webhooks/radarr', radarrDownload(1, 2), {
      authorization: basic(SECRETS.webhookPassword),
    });
    t.equal(ack.status, 200, ack.text);
    await waitFor(
      'Kodi to be told',
      async () => kodi.calls.some((c) => c.method === 'VideoLibrary.Scan'),
      45_000,
    );
    const files = await filesUnder(media);
    t.ok(
      files.some((f) => f.file.endsWith('.nfo')),
      `an NFO was written (${files.map((f) => path.basename(f.file)).join(', ')})`,
    );
    t.ok(tmdb.calls.length > 1, 'TMDB was called (and failed once)');

    const rows = (await inspectJobs(database.url, (jobs) => jobs.rows())).map((j) => ({
      name: j.name,
      data: JSON.stringify(j.data),
      output: j.output === null ? null : JSON.stringify(j.output),
    }));
    t.ok(rows.length >= 5, `job rows to inspect (${rows.length})`);
    const logs = sup.output();
    t.ok(
      logs.length > 1000 && frames.length > 3,
      `logs (${logs.length} chars) and frames (${frames.length}) to inspect`,
    );

    for (const [name, secret] of Object.entries(SECRETS)) {
      const where = [
        logs.includes(secret) && 'logs',
        rows.some((r) => r.data.includes(secret) || r.output?.includes(secret)) && 'job rows',
        frames.some((f) => f.includes(secret)) && 'WebSocket frames',
        errorBodies.some((b) => b.includes(secret)) && 'HTTP bodies',
        files.some((f) => f.text.includes(secret)) && 'files',
      ].filter(Boolean);
      t.same(where, [], `${name} appears nowhere`);
    }
    // Base64 of the Basic credentials is the password too.
    const basicToken = Buffer.from(`arr:${SECRETS.webhookPassword}`).toString('base64');
    t.notOk(logs.includes(basicToken), 'nor the webhook Basic credentials, encoded');
  },
);
