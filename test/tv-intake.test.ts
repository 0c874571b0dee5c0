import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeKodi, tmdbTvShow } from '@metarr/testkit';
import t from 'tap';
import { providerFakes } from './support/providers.ts';
import { type Stack, startStack, waitFor } from './support/stack.ts';
import { fixture } from './support/webhook-fixtures.ts';

// TV intake end to end (issue 15): a tv library scan and a Sonarr delivery record series, seasons,
// episodes and files that the REST API shows.

async function settled(stack: Stack, jobId: string) {
  return waitFor(
    `job ${jobId} settled`,
    async () => {
      const r = await stack.api('GET', `/api/jobs/${jobId}`);
      return r.json?.state === 'completed' || r.json?.state === 'failed' ? r.json : null;
    },
    60_000,
  );
}

async function scanAndWait(stack: Stack, libraryId: number) {
  const started = await stack.api('POST', `/api/libraries/${libraryId}/scan`);
  if (started.status !== 202) throw new Error(started.text);
  const job = await settled(stack, started.json.jobId);
  await waitFor(
    'the scan-series jobs',
    async () =>
      (await stack.jobs.count({ types: ['scan-series'], states: ['created', 'retry', 'active'] })) === 0,
    60_000,
  );
  return job;
}

t.test('a tv library scan queues a scan-series per series folder and they record the series', async (t) => {
  const stack = await startStack(t);
  const tree: Record<string, Record<string, string | Record<string, string>>> = {};
  for (let i = 1; i <= 3; i++) {
    tree[`Show ${i} (2020) {tvdb-${1000 + i}}`] = {
      'Season 01': { [`Show ${i} - S01E01.mkv`]: 'v', [`Show ${i} - S01E02E03.mkv`]: 'v' },
      Specials: { [`Show ${i} - S00E01.mkv`]: 'v' },
      'Show notes.mkv': 'v',
    };
  }
  const root = t.testdir(tree);
  const lib = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: root });
  t.equal(lib.status, 201, lib.text);

  const first = await scanAndWait(stack, lib.json.id);
  t.equal(first.state, 'completed', JSON.stringify(first.output));
  t.match(first.output, { folders: 3, scanJobs: 3, vanished: 0 });
  const scans = await stack.jobs.rows({ types: ['scan-series'] });
  t.equal(scans.length, 3);
  t.ok(
    scans.every((j) => j.state === 'completed' && j.data?.parentId === first.id),
    'every scan-series completed, a child of the library scan',
  );
  const list = await stack.api('GET', `/api/series?libraryId=${lib.json.id}`);
  t.equal(list.status, 200);
  // The scans run concurrently: ids follow the order they finished in.
  const byTitle = [...list.json].sort((a: { title: string }, b: { title: string }) =>
    a.title.localeCompare(b.title),
  );
  t.match(byTitle, [
    {
      title: 'Show 1',
      year: 2020,
      tvdbId: 1001,
      counts: { seasons: 2, episodes: 4, files: 3, placeholders: 0, unparseable: 1 },
    },
    { title: 'Show 2' },
    { title: 'Show 3' },
  ]);

  // Nothing changed on disk: the second scan's scan-series write nothing.
  const second = await scanAndWait(stack, lib.json.id);
  t.equal(second.state, 'completed');
  const again = (await stack.jobs.rows({ types: ['scan-series'] })).filter(
    (j) => j.data?.parentId === second.id,
  );
  t.equal(again.length, 3);
  t.ok(
    again.every((j) => (j.output as { status?: string } | null)?.status === 'unchanged'),
    'a rescan of unchanged folders changes nothing',
  );
});

t.test(
  'a Sonarr Download leads to the series, its season and episode file in GET /api/series/:id',
  async (t) => {
    const stack = await startStack(t);
    const media = t.testdir({ tv: { Severance: { 'Season 02': {} } } });
    const tvRoot = path.join(media, 'tv');
    const file = 'Season 02/Severance - S02E01 - Hello, Ms. Cobel [WEBDL-2160p].mkv';
    await fs.writeFile(path.join(tvRoot, 'Severance', file), 'video');
    const lib = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: tvRoot });
    t.equal(lib.status, 201, lib.text);
    const mapping = await stack.api('POST', '/api/path-mappings', {
      manager: 'sonarr',
      from: '/tv',
      to: tvRoot,
    });
    t.equal(mapping.status, 201, mapping.text);

    const ack = await stack.api('POST', '/api/webhooks/sonarr', fixture('sonarr-download'));
    t.equal(ack.status, 200, ack.text);
    const hook = await settled(stack, ack.json.jobId);
    t.equal(hook.state, 'completed', JSON.stringify(hook.output));
    const scanChild = hook.children.find((c: { type: string }) => c.type === 'scan-series');
    t.ok(scanChild, 'the webhook queued a scan-series');
    const scan = await settled(stack, scanChild.id);
    t.equal(scan.state, 'completed', JSON.stringify(scan.output));

    const list = await stack.api('GET', '/api/series');
    t.equal(list.json.length, 1);
    const detail = await stack.api('GET', `/api/series/${list.json[0].id}`);
    t.equal(detail.status, 200, detail.text);
    t.match(detail.json, {
      path: path.join(tvRoot, 'Severance'),
      title: 'Severance',
      year: 2022,
      tvdbId: 371980,
      tmdbId: 95396,
      imdbId: 'tt11280740',
      sonarrId: 85,
      status: 'present',
      seasons: [
        {
          number: 2,
          folder: 'Season 02',
          episodes: [{ seasonNumber: 2, number: 1, files: [file], placeholder: false }],
        },
      ],
      files: [{ file, episodes: [{ season: 2, number: 1 }] }],
    });
  },
);

t.test(
  'with a TMDB key, a Sonarr Download ends in tvshow.nfo and the episode NFO written, and Kodi told about the series folder',
  async (t) => {
    const { tmdb, env } = await providerFakes(t);
    tmdb.tvShows.set(95396, tmdbTvShow(95396, { name: 'Severance', year: 2022, tvdbId: 371980, seasons: 2 }));
    const kodi = await startFakeKodi({});
    t.teardown(() => kodi.close());
    const stack = await startStack(t, { env });
    const media = t.testdir({ tv: { Severance: { 'Season 02': {} } } });
    const tvRoot = path.join(media, 'tv');
    const folder = path.join(tvRoot, 'Severance');
    const video = 'Severance - S02E01 - Hello, Ms. Cobel [WEBDL-2160p].mkv';
    await fs.writeFile(path.join(folder, 'Season 02', video), 'video');
    const lib = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: tvRoot });
    await stack.api('POST', '/api/path-mappings', { manager: 'sonarr', from: '/tv', to: tvRoot });
    const group = await stack.api('POST', '/api/player-groups', {
      name: 'Living room',
      type: 'kodi',
      sharedLibrary: true,
      libraryIds: [lib.json.id],
      pathMappings: [{ from: tvRoot, to: 'smb://nas/tv/' }],
    });
    await stack.api('POST', '/api/players', {
      groupId: group.json.id,
      name: 'Kodi',
      type: 'kodi',
      host: '127.0.0.1',
      port: kodi.port,
    });

    const ack = await stack.api('POST', '/api/webhooks/sonarr', fixture('sonarr-download'));
    t.equal(ack.status, 200, ack.text);
    const nfo = path.join(folder, 'Season 02', 'Severance - S02E01 - Hello, Ms. Cobel [WEBDL-2160p].nfo');
    const episode = await waitFor(
      'the episode NFO',
      () => fs.readFile(nfo, 'utf8').catch(() => null),
      30_000,
    );
    t.match(episode, /<episodedetails>[\s\S]*<title>Severance 2\.1<\/title>[\s\S]*<season>2<\/season>/);
    const show = await fs.readFile(path.join(folder, 'tvshow.nfo'), 'utf8');
    t.match(show, /<title>Severance<\/title>/);
    await waitFor(
      'Kodi scan of the series folder',
      async () =>
        kodi.calls.find(
          (c) =>
            c.method === 'VideoLibrary.Scan' &&
            (c.params as { directory?: string })?.directory === 'smb://nas/tv/Severance/',
        ),
      30_000,
    );
    const series = (await stack.api('GET', '/api/series')).json[0];
    const detail = await stack.api('GET', `/api/series/${series.id}`);
    t.match(detail.json, {
      title: 'Severance',
      metadata: { title: 'Severance', uniqueIds: { tmdb: 95396, tvdb: 371980 } },
      seasons: [{ number: 2, episodes: [{ number: 1, title: 'Severance 2.1', placeholder: false }] }],
    });
    // One series call and one season call: the season's episodes all come from it.
    t.same(
      tmdb.calls
        .map((c) => c.path)
        .filter((p) => p.startsWith('/tv/95396'))
        .sort(),
      ['/tv/95396', '/tv/95396/season/2'],
    );
  },
);
