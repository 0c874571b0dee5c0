import fs from 'node:fs/promises';
import path from 'node:path';
import { checkWellFormed } from '@metarr/core';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { providerFakes } from './support/providers.ts';
import { METADATA_CHAIN, ROOT, startStack, waitFor } from './support/stack.ts';

const fixture = async (name: string) =>
  JSON.parse(await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', name), 'utf8'));

async function snapshot(dir: string): Promise<Map<string, { bytes: Buffer; mtimeMs: number }>> {
  const out = new Map<string, { bytes: Buffer; mtimeMs: number }>();
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out.set(path.relative(dir, p), { bytes: await fs.readFile(p), mtimeMs: (await fs.stat(p)).mtimeMs });
    }
  };
  await walk(dir);
  return out;
}

t.test(
  'Radarr Download with a TMDB key: the full chain writes NFO and artwork, then Kodi scans',
  async (t) => {
    const { tmdb, fanart, env } = await providerFakes(t);
    const kodi = await startFakeKodi({ username: 'kodi', password: 'secret-pass' });
    t.teardown(() => kodi.close());
    const stack = await startStack(t, { env });
    const media = t.testdir({
      movies: { 'The Matrix (1999)': { 'The Matrix (1999) [Bluray-1080p].mkv': 'video-bytes' } },
    });
    const moviesRoot = path.join(media, 'movies');
    const folder = path.join(moviesRoot, 'The Matrix (1999)');
    const lib = await stack.api('POST', '/api/libraries', {
      name: 'Movies',
      type: 'movie',
      path: moviesRoot,
    });
    await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: moviesRoot });
    const group = await stack.api('POST', '/api/player-groups', {
      name: 'Living room',
      type: 'kodi',
      sharedLibrary: true,
      libraryIds: [lib.json.id],
      pathMappings: [{ from: moviesRoot, to: 'smb://nas/movies/' }],
    });
    await stack.api('POST', '/api/players', {
      groupId: group.json.id,
      name: 'Kodi',
      type: 'kodi',
      host: '127.0.0.1',
      port: kodi.port,
      username: 'kodi',
      password: 'secret-pass',
    });

    const ack = await stack.api('POST', '/api/webhooks/radarr', await fixture('radarr-download.json'));
    t.equal(ack.status, 200);
    const scan = await waitFor(
      'Kodi VideoLibrary.Scan',
      async () => kodi.calls.find((c) => c.method === 'VideoLibrary.Scan'),
      30_000,
    );
    t.same(scan.params, { directory: 'smb://nas/movies/The Matrix (1999)/', showdialogs: false });

    // The lineage: every job of the chain records its parent.
    const chain = METADATA_CHAIN;
    let job = await waitFor('webhook job', async () => {
      const r = await stack.api('GET', `/api/jobs/${ack.json.jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
    for (let i = 1; i < chain.length; i++) {
      t.equal(job.children.length, 1, `${chain[i - 1]} has one child`);
      t.equal(job.children[0].type, chain[i], `${chain[i - 1]} → ${chain[i]}`);
      const parentId = job.id;
      job = await waitFor(`${chain[i]} completed`, async () => {
        const r = await stack.api('GET', `/api/jobs/${job.children[0].id}`);
        return r.json?.state === 'completed' ? r.json : null;
      });
      t.equal(job.parentId, parentId, `${chain[i]} records its parentId`);
    }

    const base = 'The Matrix (1999) [Bluray-1080p]';
    const nfo = await fs.readFile(path.join(folder, `${base}.nfo`), 'utf8');
    t.equal(checkWellFormed(nfo), true, 'the NFO is well-formed');
    t.match(nfo, '<title>The Matrix</title>');
    t.match(nfo, '<uniqueid type="tmdb" default="true">603</uniqueid>');
    t.match(nfo, '<uniqueid type="imdb" default="false">tt0133093</uniqueid>');
    t.match(nfo, '<mpaa>R</mpaa>');
    t.match(nfo, '<tagline>Welcome to the Real World.</tagline>');
    t.match(nfo, '<name>The Matrix Collection</name>');
    t.match(nfo, '<director>Lana Wachowski</director>');
    t.match(
      nfo,
      /<actor>\s*<name>Keanu Reeves<\/name>\s*<role>Thomas A. Anderson \/ Neo<\/role>\s*<order>0<\/order>/,
    );
    t.match(nfo, '<container>mkv</container>');

    const files = await snapshot(folder);
    for (const f of [
      'poster.jpg',
      'fanart.jpg',
      'clearlogo.png',
      'clearart.png',
      'banner.jpg',
      'landscape.jpg',
      'discart.png',
    ]) {
      const entry = files.get(`${base}-${f}`);
      t.ok(entry, `${base}-${f} written`);
    }
    t.ok(files.get('extrafanart/fanart1.jpg'), 'extrafanart written');
    const poster = files.get(`${base}-poster.jpg`)?.bytes;
    t.same([...(poster ?? Buffer.alloc(0)).subarray(0, 3)], [0xff, 0xd8, 0xff], 'the poster is a JPEG');
    t.notOk(
      [...files.keys()].some((f) => f.includes('metarr-tmp')),
      'no temp file left behind',
    );
    const movie = (await stack.api('GET', '/api/movies')).json[0];
    t.match(movie, { title: 'The Matrix', year: 1999, tmdbId: 603 });

    // Second run: same webhook replayed → byte-identical folder, mtimes unchanged, no provider call.
    const tmdbCalls = tmdb.calls.length;
    const fanartCalls = fanart.calls.length;
    const imageCalls = tmdb.imageCalls.length + fanart.imageCalls.length;
    t.equal(tmdbCalls, 1, 'cold: one TMDB call');
    t.equal(fanartCalls, 1, 'cold: one fanart.tv call');
    await new Promise((r) => setTimeout(r, 50));
    const deliveries = await stack.api('GET', '/api/webhooks/deliveries');
    const replay = await stack.api('POST', `/api/webhooks/deliveries/${deliveries.json[0].id}/replay`);
    t.ok(replay.status < 300, replay.text);
    await waitFor(
      'second Kodi scan',
      async () => kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').length >= 2,
      30_000,
    );
    const publishOut = await waitFor('second publish', async () => {
      const r = await stack.api('GET', '/api/jobs?type=publish&state=completed');
      return r.json?.length >= 2 ? r.json : null;
    });
    t.ok(publishOut);
    const again = await snapshot(folder);
    t.same([...again.keys()].sort(), [...files.keys()].sort(), 'same files');
    for (const [f, a] of files) {
      const b = again.get(f);
      t.ok(b?.bytes.equals(a.bytes), `${f} byte-identical`);
      t.equal(b?.mtimeMs, a.mtimeMs, `${f} not rewritten`);
    }
    t.equal(tmdb.calls.length, tmdbCalls, 'warm: no TMDB call');
    t.equal(fanart.calls.length, fanartCalls, 'warm: no fanart.tv call');
    t.equal(tmdb.imageCalls.length + fanart.imageCalls.length, imageCalls, 'warm: no image download');

    // What the two runs did, as a Prometheus scrape of the API shows it (the worker counted them).
    const metrics = await stack.api('GET', '/metrics');
    const requests = (provider: string, status: string) =>
      new RegExp(`^metarr_provider_requests_total\\{provider="${provider}",status="${status}"\\} 1$`, 'm');
    for (const provider of ['tmdb', 'fanart']) {
      t.match(metrics.text, requests(provider, '2xx'), `${provider}: one request answered, cold`);
      t.match(metrics.text, requests(provider, 'cache_hit'), `${provider}: one cache hit, warm`);
    }
  },
);
