import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import tap from 'tap';
import { type Stack, startStack, waitFor } from './support/stack.ts';
import { at, fixture } from './support/webhook-fixtures.ts';

type SubTest = Pick<typeof tap, 'teardown' | 'testdir' | 'equal'>;

async function setup(t: SubTest, worker = false) {
  const stack = await startStack(t, { worker });
  const media = t.testdir({
    movies: { 'The Matrix (1999)': { 'The Matrix (1999).mkv': 'video' } },
    tv: {},
    data: {},
    outside: { 'secret.mkv': 'not yours' },
  });
  const moviesRoot = path.join(media, 'movies');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: moviesRoot });
  const tv = await stack.api('POST', '/api/libraries', {
    name: 'TV',
    type: 'tv',
    path: path.join(media, 'tv'),
  });
  t.equal(lib.status, 201, lib.text);
  t.equal(tv.status, 201, tv.text);
  const maps: [string, string][] = [
    ['/movies', moviesRoot],
    ['C:\\Movies', moviesRoot],
    ['D:\\Movies', moviesRoot],
    ['\\\\nas\\media\\Movies', moviesRoot],
    ['/data', path.join(media, 'data')],
    ['/data/movies/', moviesRoot],
  ];
  for (const [from, to] of maps) {
    const r = await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from, to });
    t.equal(r.status, 201, r.text);
  }
  const group = await stack.api('POST', '/api/player-groups', {
    name: 'Living room',
    type: 'kodi',
    sharedLibrary: true,
    libraryIds: [lib.json.id],
    pathMappings: [{ from: moviesRoot, to: 'smb://nas/movies/' }],
  });
  t.equal(group.status, 201, group.text);
  return { stack, media, moviesRoot, libraryId: lib.json.id as number, groupId: group.json.id as number };
}

const explain = (stack: Stack, p: string, manager = 'radarr') =>
  stack.api('GET', `/api/paths/explain?manager=${manager}&path=${encodeURIComponent(p)}`);

tap.test(
  '/api/paths/explain walks the corpus: each mapping, Metarr path, library and player path',
  async (t) => {
    const { stack, moviesRoot, libraryId, groupId } = await setup(t);
    const mapped: [string, string, string, string][] = [
      // input, mapping from, Metarr path, player path
      [
        '/movies/The Matrix (1999)',
        '/movies',
        `${moviesRoot}/The Matrix (1999)`,
        'smb://nas/movies/The Matrix (1999)',
      ],
      ['/movies/./X//Y/', '/movies', `${moviesRoot}/X/Y`, 'smb://nas/movies/X/Y'],
      ['/movies/X/', '/movies', `${moviesRoot}/X`, 'smb://nas/movies/X'],
      ['C:\\Movies\\X (1999)', 'C:\\Movies', `${moviesRoot}/X (1999)`, 'smb://nas/movies/X (1999)'],
      ['c:/movies/x (1999)', 'C:\\Movies', `${moviesRoot}/x (1999)`, 'smb://nas/movies/x (1999)'],
      ['\\\\nas\\media\\Movies\\X', '\\\\nas\\media\\Movies', `${moviesRoot}/X`, 'smb://nas/movies/X'],
      ['\\\\NAS\\Media\\movies\\X\\', '\\\\nas\\media\\Movies', `${moviesRoot}/X`, 'smb://nas/movies/X'],
      ['/data/movies/X', '/data/movies/', `${moviesRoot}/X`, 'smb://nas/movies/X'],
    ];
    for (const [input, from, metarrPath, playerPath] of mapped) {
      const r = await explain(stack, input);
      t.equal(r.status, 200, input);
      t.match(
        r.json,
        {
          ok: true,
          input,
          manager: 'radarr',
          mapping: { from },
          metarrPath,
          library: { id: libraryId, name: 'Movies', type: 'movie', path: moviesRoot },
          groups: [{ id: groupId, name: 'Living room', type: 'kodi', playerPath, mappingUsed: true }],
          reason: null,
        },
        `${input} → ${metarrPath} → ${playerPath}`,
      );
      t.type(r.json.steps, Array, 'a readable list of steps');
      t.match(r.json.steps.join('\n'), from.replace(/\\/g, '\\'), 'the steps name the mapping');
    }
  },
);

tap.test('/api/paths/explain says exactly why nothing matched', async (t) => {
  const { stack, media } = await setup(t);
  const sibling = await explain(stack, '/movies2/X');
  t.equal(sibling.status, 200);
  t.match(sibling.json, { ok: false, mapping: null, metarrPath: '/movies2/X', library: null, groups: [] });
  t.match(sibling.json.reason, /\/movies2\/X is in no library/, '/movies2 is not inside /movies');
  t.match(sibling.json.reason, /no radarr path mapping matched/);
  t.match(sibling.json.mappingsConsidered, [{ from: '/movies', matched: false }], 'every mapping is listed');

  const deeper = await explain(stack, '/data/tv/X');
  t.match(deeper.json, {
    ok: false,
    mapping: { from: '/data' },
    metarrPath: path.join(media, 'data', 'tv', 'X'),
  });
  t.match(deeper.json.reason, /is in no library/);

  const windows = await explain(stack, 'D:\\Films\\X');
  t.match(windows.json, { ok: false, metarrPath: null });
  t.match(windows.json.reason, /no radarr path mapping matches D:\\Films\\X/);

  const otherManager = await explain(stack, '/movies/X', 'sonarr');
  t.match(otherManager.json, { ok: false, mapping: null });
  t.match(otherManager.json.reason, /no sonarr path mapping matched/, 'mappings are per manager');

  const tvLib = await explain(stack, path.join(media, 'tv', 'Show'), 'sonarr');
  t.match(tvLib.json, { ok: true, library: { name: 'TV' }, groups: [] });
  t.match(tvLib.json.reason, /library "TV" is linked to no player group/);

  for (const [p, why] of [
    ['/movies/../etc/passwd', /querystring\/path must not contain \.\. segments/],
    ['/movies/X\u0000', /querystring\/path must not contain control characters/],
    ['movies/X', /querystring\/path must be an absolute path/],
  ] as const) {
    const r = await explain(stack, p);
    t.equal(r.status, 400, JSON.stringify(p));
    t.match(r.json.message, why);
  }
  const missing = await stack.api('GET', '/api/paths/explain?manager=radarr');
  t.equal(missing.status, 400);
  t.match(missing.json.message, /querystring\/path/);
});

tap.test(
  'a Windows Radarr path is mapped end to end, and a symlink out of the library fails the scan permanently',
  async (t) => {
    const { stack, moviesRoot, media } = await setup(t, true);
    const windows = fixture('radarr-download-windows');
    const win = await stack.api('POST', '/api/webhooks/radarr', windows);
    t.equal(win.status, 200, win.text);
    const winJob = await waitFor('webhook job done', async () => {
      const r = await stack.api('GET', `/api/jobs/${win.json.jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    t.match(winJob.output, { actions: [{ action: 'scan-movie', path: new RegExp(`^${moviesRoot}/`) }] });

    await fs.symlink(path.join(media, 'outside'), path.join(moviesRoot, 'Escape (2001)'));
    const body = fixture('radarr-download');
    at(body, 'movie').folderPath = '/movies/Escape (2001)';
    at(body, 'movieFile').id = 999;
    const ack = await stack.api('POST', '/api/webhooks/radarr', body);
    t.equal(ack.status, 200, 'the path is well-formed, so it is accepted');
    const hook = await waitFor('webhook job done', async () => {
      const r = await stack.api('GET', `/api/jobs/${ack.json.jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    const scanId = hook.output.actions[0].jobId;
    const scan = await waitFor('scan job failed', async () => {
      const r = await stack.api('GET', `/api/jobs/${scanId}`);
      return r.json?.state === 'failed' ? r.json : null;
    });
    t.match(scan.error, /outside the library root/);
    t.equal(scan.retryCount, 0, 'permanent: no retry was burnt');
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from movies where path like ${'%Escape%'}`.execute(stack.db);
    t.equal(rows[0]?.n, 0, 'no movie recorded from outside the library');
    t.equal(scan.children?.length ?? 0, 0, 'no players told');
  },
);

tap.test(
  'a folder written NFD on disk is found from an NFC webhook path: the scan records it and explain says it exists',
  async (t) => {
    const { stack, moviesRoot } = await setup(t, true);
    const nfcName = 'Am\u00e9lie (2001)';
    const nfdName = nfcName.normalize('NFD');
    t.not(nfdName, nfcName, 'the two spellings differ byte for byte');
    const onDisk = path.join(moviesRoot, nfdName);
    await fs.mkdir(onDisk);
    await fs.writeFile(path.join(onDisk, `${nfdName}.mkv`), 'video');

    const why = await explain(stack, `/movies/${nfcName}`);
    t.equal(why.status, 200, why.text);
    t.match(why.json, {
      ok: true,
      metarrPath: `${moviesRoot}/${nfcName}`,
      folder: { exists: true, path: onDisk },
    });

    const body = fixture('radarr-download');
    at(body, 'movie').folderPath = `/movies/${nfcName}`;
    at(body, 'movie').tmdbId = 194;
    at(body, 'movie').imdbId = 'tt0211915';
    at(body, 'movie').title = 'Amélie';
    at(body, 'movie').year = 2001;
    at(body, 'movie').id = 18;
    at(body, 'movieFile').id = 1001;
    at(body, 'movieFile').path = `/movies/${nfcName}/${nfcName}.mkv`;
    at(body, 'movieFile').relativePath = `${nfcName}.mkv`;
    const ack = await stack.api('POST', '/api/webhooks/radarr', body);
    t.equal(ack.status, 200, ack.text);
    const hook = await waitFor('webhook job done', async () => {
      const r = await stack.api('GET', `/api/jobs/${ack.json.jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    const scanId = hook.output.actions[0].jobId;
    const scan = await waitFor('scan job done', async () => {
      const r = await stack.api('GET', `/api/jobs/${scanId}`);
      return ['completed', 'failed'].includes(r.json?.state) ? r.json : null;
    });
    t.match(scan, { state: 'completed', output: { status: 'created', videoFile: `${nfdName}.mkv` } });
    const { rows } = await sql<{ path: string; status: string }>`
      select path, status from movies where tmdb_id = 194`.execute(stack.db);
    t.same(rows, [{ path: onDisk, status: 'present' }], 'one movie, under the folder as spelled on disk');
  },
);
