import fs from 'node:fs/promises';
import path from 'node:path';
import { PROVIDER_SETTINGS_TTL_MS } from '@metarr/core';
import { startFakeFanart, startFakeTmdb } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { inspectJobs } from './support/chaos.ts';
import { API_KEY, METADATA_CHAIN, ROOT, request, spawnProcess, waitFor } from './support/stack.ts';

const TMDB_KEY = 'tmdb-live-key-7f3a9c';
const FANART_KEY = 'fanart-live-key-51be0d';

t.test(
  'provider keys set and removed through the API reach running worker processes without a restart',
  async (t) => {
    const tmdb = await startFakeTmdb({ apiKey: TMDB_KEY });
    const fanart = await startFakeFanart({ apiKey: FANART_KEY });
    t.teardown(() => Promise.all([tmdb.close(), fanart.close()]));
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const env = {
      DATABASE_URL: database.url,
      METARR_API_KEY: API_KEY,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      // Debug, so that a key slipping into any log line would be seen.
      LOG_LEVEL: 'debug',
      // No provider key in the environment (whatever the test runner's environment holds).
      TMDB_API_KEY: '',
      FANART_API_KEY: '',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_FANART_BASE_URL: fanart.apiUrl,
    };
    const [api, w1, w2] = await Promise.all([
      spawnProcess(t, 'api', env),
      spawnProcess(t, 'worker', { ...env, METARR_WORKER_CONCURRENCY: '2' }),
      spawnProcess(t, 'worker', { ...env, METARR_WORKER_CONCURRENCY: '2' }),
    ]);
    const base = String(api.address);
    const call = (method: string, route: string, body?: unknown) =>
      request(base, method, route, body, { 'x-api-key': API_KEY });

    const movies = {
      matrix: { title: 'The Matrix', year: 1999, tmdbId: 603, imdbId: 'tt0133093' },
      heat: { title: 'Heat', year: 1995, tmdbId: 949, imdbId: 'tt0113277' },
      alien: { title: 'Alien', year: 1979, tmdbId: 348, imdbId: 'tt0078748' },
    };
    const folderOf = (m: { title: string; year: number }) => `${m.title} (${m.year})`;
    const media = t.testdir(
      Object.fromEntries(
        Object.values(movies).map((m) => [folderOf(m), { [`${folderOf(m)}.mkv`]: 'video-bytes' }]),
      ),
    );
    const lib = await call('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: media });
    t.equal(lib.status, 201, lib.text);
    await call('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: media });

    const fixture = JSON.parse(
      await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
    );
    const download = (m: (typeof movies)[keyof typeof movies]) => {
      const folder = folderOf(m);
      return {
        ...fixture,
        movie: { ...fixture.movie, ...m, folderPath: `/movies/${folder}` },
        remoteMovie: { ...fixture.remoteMovie, ...m },
        movieFile: {
          ...fixture.movieFile,
          relativePath: `${folder}.mkv`,
          path: `/movies/${folder}/${folder}.mkv`,
        },
        downloadId: `dl-${m.tmdbId}`,
      };
    };

    /** Follows a webhook's lineage (one child per job) until the last job completes; returns the types. */
    const chainOf = async (webhookJobId: string): Promise<string[]> => {
      const types: string[] = [];
      let id = webhookJobId;
      for (;;) {
        const job = await waitFor(
          `job ${id} completed`,
          async () => {
            const r = await call('GET', `/api/jobs/${id}`);
            return r.json?.state === 'completed' ? r.json : null;
          },
          30_000,
        );
        types.push(job.type);
        if (job.children.length === 0) return types;
        t.equal(job.children.length, 1, `${job.type} has one follow-up`);
        id = job.children[0].id;
      }
    };
    const nfoIn = async (m: { title: string; year: number }) =>
      (await fs.readdir(path.join(media, folderOf(m)))).filter((f) => f.endsWith('.nfo'));
    const providerKeysGone = async () =>
      t.notMatch(
        (await call('GET', '/api/settings/providers')).text,
        /live-key/,
        'the settings read never shows a key',
      );

    // 1. No key anywhere: the folder goes straight to the players.
    const first = await call('POST', '/api/webhooks/radarr', download(movies.matrix));
    t.equal(first.status, 200, first.text);
    t.same(
      await chainOf(first.json.jobId),
      ['webhook', 'scan-movie', 'notify-players'],
      'no key: scan → notify',
    );
    t.same(await nfoIn(movies.matrix), [], 'no NFO without a key');
    t.equal(tmdb.calls.length, 0, 'TMDB never called');

    // 2. Keys through the API: the running workers pick them up (within the settings TTL).
    const put = await call('PUT', '/api/settings/providers', {
      tmdbApiKey: TMDB_KEY,
      fanartApiKey: FANART_KEY,
    });
    t.equal(put.status, 200, put.text);
    t.match(put.json, {
      tmdb: { configured: true, source: 'database', masked: `••••${TMDB_KEY.slice(-4)}` },
      fanart: { configured: true, source: 'database' },
    });
    t.notMatch(put.text, /live-key/, 'the answer never shows a key');
    await providerKeysGone();
    await new Promise((r) => setTimeout(r, PROVIDER_SETTINGS_TTL_MS + 500));
    const second = await call('POST', '/api/webhooks/radarr', download(movies.heat));
    t.equal(second.status, 200, second.text);
    t.same(await chainOf(second.json.jobId), METADATA_CHAIN, 'with the key: the metadata pipeline runs');
    t.same(await nfoIn(movies.heat), ['Heat (1995).nfo'], 'the NFO is written');
    t.match(await fs.readFile(path.join(media, 'Heat (1995)', 'Heat (1995).nfo'), 'utf8'), '949');
    t.ok(
      tmdb.calls.some((c) => c.path === '/movie/949'),
      'TMDB was asked with the stored key',
    );
    t.ok(fanart.calls.length > 0, 'fanart.tv was asked with the stored key');
    for (const w of [w1, w2]) t.equal(w.child.exitCode, null, 'the same worker processes, never restarted');

    // 3. Keys removed through the API: the pipeline stops again.
    const cleared = await call('PUT', '/api/settings/providers', { tmdbApiKey: null, fanartApiKey: null });
    t.equal(cleared.status, 200, cleared.text);
    t.equal(cleared.json.tmdb.configured, false);
    await new Promise((r) => setTimeout(r, PROVIDER_SETTINGS_TTL_MS + 500));
    const tmdbCalls = tmdb.calls.length;
    const third = await call('POST', '/api/webhooks/radarr', download(movies.alien));
    t.equal(third.status, 200, third.text);
    t.same(
      await chainOf(third.json.jobId),
      ['webhook', 'scan-movie', 'notify-players'],
      'key removed: scan → notify',
    );
    t.same(await nfoIn(movies.alien), [], 'no NFO once the key is removed');
    t.equal(tmdb.calls.length, tmdbCalls, 'TMDB not called once the key is removed');

    // The keys never reach a log line, a job's payload or output.
    const logs = api.output() + w1.output() + w2.output();
    t.match(logs, 'Provider keys updated', 'the change itself is logged');
    t.notMatch(logs, TMDB_KEY, 'the TMDB key never reaches a log');
    t.notMatch(logs, FANART_KEY, 'the fanart.tv key never reaches a log');
    const leaked = (await inspectJobs(database.url, (jobs) => jobs.rows())).filter((j) =>
      /live-key/.test(`${JSON.stringify(j.data) ?? ''}${JSON.stringify(j.output) ?? ''}`),
    );
    t.equal(leaked.length, 0, 'no job payload or output holds a key');
  },
);
