import fs from 'node:fs/promises';
import path from 'node:path';
import { type JobRow, jobTestControls } from '@metarr/core';
import { startFakeFanart, startFakeKodi, startFakeTmdb } from '@metarr/testkit';
import t from 'tap';
import { type Stack, startStack, waitFor } from './support/stack.ts';

type Dir = NonNullable<Parameters<typeof t.testdir>[0]>;
type TestT = Pick<typeof t, 'teardown' | 'testdir'>;

/** Stack + fake TMDB, fanart.tv and Kodi, one movie library, one Kodi group. */
async function setup(t: TestT, folder: Dir, opts: { tmdbKey?: boolean } = {}) {
  const tmdb = await startFakeTmdb();
  const fanart = await startFakeFanart();
  const kodi = await startFakeKodi({});
  t.teardown(() => Promise.all([tmdb.close(), fanart.close(), kodi.close()]));
  const env: Record<string, string> = {
    FANART_API_KEY: 'fanart-test-key',
    METARR_TMDB_BASE_URL: tmdb.apiUrl,
    METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
    METARR_FANART_BASE_URL: fanart.apiUrl,
  };
  if (opts.tmdbKey !== false) env.TMDB_API_KEY = 'tmdb-test-key';
  const stack = await startStack(t, { env });
  const root = t.testdir({ Movie: folder });
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  const group = await stack.api('POST', '/api/player-groups', {
    name: 'G',
    type: 'kodi',
    sharedLibrary: false,
    // Each run() waits for its own Kodi scan: no group debounce holding a repeat back (notify-coalesce tests it).
    debounceSeconds: 0,
    libraryIds: [lib.json.id],
    pathMappings: [],
  });
  await stack.api('POST', '/api/players', {
    groupId: group.json.id,
    name: 'Kodi',
    type: 'kodi',
    host: '127.0.0.1',
    port: kodi.port,
  });
  const scans = () => kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan').length;
  const run = async (tmdbId = 603) => {
    const before = scans();
    await stack.queue.enqueue('scan-movie', {
      libraryId: lib.json.id,
      path: path.join(root, 'Movie'),
      trigger: 'manual',
      tmdbId,
    });
    await waitFor('Kodi scan', async () => scans() > before, 30_000);
  };
  return { stack, tmdb, fanart, kodi, folder: path.join(root, 'Movie'), run };
}

async function jobsOf(stack: Stack, name: string) {
  return (await stack.jobs.rows({ types: [name] })) as (JobRow & { output: any; data: any })[];
}

t.test('without a TMDB key a scanned folder goes straight to notify-players', async (t) => {
  const { stack, run, folder } = await setup(t, { 'M.mkv': 'v' }, { tmdbKey: false });
  await run();
  const scan = (await jobsOf(stack, 'scan-movie'))[0];
  const children = await stack.jobs.rows({ parentIds: [scan?.id ?? ''] });
  t.same(
    children.map((r) => r.name),
    ['notify-players'],
  );
  t.same(await fs.readdir(folder), ['M.mkv'], 'nothing written');
});

t.test('a 429 waits for Retry-After without spending a retry; the chain still completes', async (t) => {
  const { stack, run, tmdb, folder } = await setup(t, { 'M.mkv': 'v' });
  tmdb.rateLimitNext(1, 1);
  const started = Date.now();
  await run();
  t.ok(Date.now() - started >= 900, 'waited about Retry-After');
  const fetches = await jobsOf(stack, 'fetch-provider-assets');
  t.equal(fetches.length, 2, 'the deferred job and its re-enqueued successor');
  t.match(fetches[0], {
    state: 'completed',
    retry_count: 0,
    output: { deferred: { provider: 'tmdb', retryAfterMs: 1000 } },
  });
  t.match(fetches[1], { state: 'completed', retry_count: 0 });
  t.equal(fetches[1]?.data.parentId, fetches[0]?.id, 'the successor records its parent');
  t.ok((await fs.readdir(folder)).includes('M.nfo'));
});

t.test('malformed provider JSON fails permanently into the dead-letter queue', async (t) => {
  const { stack, tmdb } = await setup(t, { 'M.mkv': 'v' });
  tmdb.malformed.add(777);
  const lib = (await stack.api('GET', '/api/libraries')).json[0];
  await stack.queue.enqueue('scan-movie', {
    libraryId: lib.id,
    path: path.join(lib.path, 'Movie'),
    trigger: 'manual',
    tmdbId: 777,
  });
  const dead = await waitFor('dead letter', async () => (await jobsOf(stack, 'dead-letter'))[0], 30_000);
  t.match(JSON.stringify(dead.data), /fetch-provider-assets|777|movieId/);
  const [fetch] = await jobsOf(stack, 'fetch-provider-assets');
  t.equal(fetch?.state, 'failed');
  t.equal(fetch?.retry_count, 0, 'no retry was spent');
  t.match(fetch?.output, { code: 'PROVIDER_BAD_RESPONSE', retryable: false });
  t.equal((await jobsOf(stack, 'enrich-metadata')).length, 0, 'the chain stopped');
});

t.test('locks: a locked field keeps its value when the provider changes; bad fields get a 400', async (t) => {
  const { stack, run, tmdb, folder } = await setup(t, { 'M.mkv': 'v' });
  await run();
  const movie = (await stack.api('GET', '/api/movies')).json[0];
  const bad = await stack.api('POST', `/api/movies/${movie.id}/locks`, { field: 'nope', locked: true });
  t.equal(bad.status, 400);
  t.match(bad.json.message, /body\/field must be one of/);
  const missing = await stack.api('POST', `/api/movies/${movie.id}/locks`, { field: 'title' });
  t.equal(missing.status, 400);
  t.match(missing.json.message, /locked/);
  t.equal((await stack.api('POST', '/api/movies/99999/locks', { field: 'title', locked: true })).status, 404);
  const lock = await stack.api('POST', `/api/movies/${movie.id}/locks`, { field: 'title', locked: true });
  t.equal(lock.status, 200, lock.text);
  t.same(lock.json, { movieId: movie.id, field: 'title', locked: true, locks: ['title'] });
  const one = await stack.api('GET', `/api/movies/${movie.id}`);
  t.same(one.json.locks, ['title'], 'GET /api/movies/:id shows the locks');
  t.match(one.json.metadata, { title: 'The Matrix' }, 'and the enriched metadata');

  const m = tmdb.movies.get(603) as Record<string, unknown>;
  tmdb.movies.set(603, { ...m, title: 'The Matrix Reloaded?', tagline: 'A new tagline.' });
  await stack.db.deleteFrom('provider_cache').execute();
  await run();
  const nfo = await fs.readFile(path.join(folder, 'M.nfo'), 'utf8');
  t.match(nfo, '<title>The Matrix</title>', 'locked title kept');
  t.match(nfo, '<tagline>A new tagline.</tagline>', 'unlocked tagline updated');

  const unlock = await stack.api('POST', `/api/movies/${movie.id}/locks`, { field: 'title', locked: false });
  t.same(unlock.json.locks, []);
  await run();
  t.match(await fs.readFile(path.join(folder, 'M.nfo'), 'utf8'), '<title>The Matrix Reloaded?</title>');
});

t.test("the user's own poster and NFO tags are kept; images from other hosts are refused", async (t) => {
  const userNfo = `<?xml version="1.0" encoding="UTF-8"?>
<movie>
  <title>My Title</title>
  <uniqueid type="tmdb">603</uniqueid>
  <mytag lang="en">Keep &amp; cherish</mytag>
  <watched>true</watched>
</movie>`;
  const { stack, run, fanart, folder } = await setup(t, {
    'M.mkv': 'v',
    'poster.jpg': 'my own poster',
    'M.nfo': userNfo,
  });
  const origin = fanart.url;
  const rec = (await import('@metarr/testkit')).fanartMovie(origin, 603);
  rec.hdmovielogo = [{ id: '1', url: 'http://127.0.0.2:9/evil-800x310.png', lang: 'en', likes: '99' }];
  fanart.movies.set(603, rec);
  await run();
  const files = await fs.readdir(folder);
  t.equal(
    await fs.readFile(path.join(folder, 'poster.jpg'), 'utf8'),
    'my own poster',
    'user poster untouched',
  );
  t.notOk(files.includes('M-poster.jpg'), 'no provider poster next to it');
  t.ok(files.includes('M-fanart.jpg'), 'other artwork still published');
  // The top-voted clearlogo sits on a foreign host: refused, and the next-best one stands in.
  const logo = await stack.db
    .selectFrom('movie_published_files')
    .select('source_url')
    .where('kind', '=', 'clearlogo')
    .executeTakeFirstOrThrow();
  t.ok(files.includes('M-clearlogo.png'));
  t.notMatch(logo.source_url, /127\.0\.0\.2/, 'not from the foreign host');
  const nfo = await fs.readFile(path.join(folder, 'M.nfo'), 'utf8');
  t.match(nfo, '<mytag lang="en">Keep &amp; cherish</mytag>');
  t.match(nfo, '<watched>true</watched>');
  t.match(nfo, '<title>The Matrix</title>');
  const [publish] = await jobsOf(stack, 'publish');
  t.match(JSON.stringify(publish?.output.skipped), /not a configured provider image host/);
  const select = (await jobsOf(stack, 'select-assets'))[0];
  t.match(select?.output.keptLocal, ['poster']);
});

t.test('a failed publish leaves the previous NFO and images intact, and its retry completes', async (t) => {
  const { stack, run, fanart, folder } = await setup(t, { 'M.mkv': 'v' });
  await run();
  const before = await fs.readFile(path.join(folder, 'M.nfo'));
  const logo = path.join(folder, 'M-clearlogo.png');
  await fs.rm(logo);
  const movie = (await stack.api('GET', '/api/movies')).json[0];
  const meta = await stack.db
    .selectFrom('movie_metadata')
    .select('data')
    .where('movie_id', '=', movie.id)
    .executeTakeFirstOrThrow();
  await stack.db
    .updateTable('movie_metadata')
    .set({ data: JSON.stringify({ ...(meta.data as object), tagline: 'Changed' }) })
    .where('movie_id', '=', movie.id)
    .execute();
  fanart.setMode('500');
  const job = await stack.queue.enqueue('publish', { movieId: movie.id });
  await waitFor(
    'publish failed once',
    async () => (await jobsOf(stack, 'publish')).find((j) => j.id === job?.id && j.retry_count >= 1),
    30_000,
  );
  t.ok((await fs.readFile(path.join(folder, 'M.nfo'))).equals(before), 'NFO untouched after the failure');
  t.notOk(
    (await fs.readdir(folder)).some((f) => f.includes('metarr-tmp')),
    'no temp file left',
  );
  fanart.setMode('ok');
  // The retry's backoff is pg-boss's to keep; that the job is retried is what is tested, so it runs now.
  await jobTestControls(stack.db).runRetryNow(job?.id ?? '');
  await waitFor(
    'publish retried',
    async () => (await jobsOf(stack, 'publish')).find((j) => j.id === job?.id && j.state === 'completed'),
    60_000,
  );
  t.match(await fs.readFile(path.join(folder, 'M.nfo'), 'utf8'), '<tagline>Changed</tagline>');
  t.ok((await fs.readdir(folder)).includes('M-clearlogo.png'), 'the missing logo is back');
});

t.test("editing Metarr's NFO by hand adopts and locks the edited fields", async (t) => {
  const { stack, run, folder } = await setup(t, { 'M.mkv': 'v' });
  await run();
  const file = path.join(folder, 'M.nfo');
  const ours = await fs.readFile(file, 'utf8');
  await fs.writeFile(
    file,
    ours.replace('<title>The Matrix</title>', '<title>The Matrix (Director&apos;s Cut)</title>'),
  );
  await run();
  const nfo = await fs.readFile(file, 'utf8');
  t.match(nfo, '<title>The Matrix (Director&apos;s Cut)</title>', 'the edit survives re-enrichment');
  t.match(nfo, '<tagline>Welcome to the Real World.</tagline>', 'other fields still from the provider');
  const locks = await stack.db.selectFrom('movie_field_locks').select('field').execute();
  t.same(
    locks.map((l) => l.field),
    ['title'],
    'the edited field is locked',
  );
  const movie = (await stack.api('GET', '/api/movies')).json[0];
  t.equal(movie.title, "The Matrix (Director's Cut)");
});

t.test('a provider image identical to one already in the folder is dropped by content hash', async (t) => {
  const { imageForPath } = await import('@metarr/testkit');
  // The user's extrafanart holds exactly the bytes TMDB serves for the best backdrop.
  const same = imageForPath('/603-backdrop-0-1920x1080.jpg') as Buffer;
  const { stack, run, folder } = await setup(t, { 'M.mkv': 'v', extrafanart: { 'mine.jpg': same } });
  await run();
  const files = await fs.readdir(folder);
  t.ok(files.includes('M-fanart.jpg'), 'the next-best fanart stands in');
  t.notOk((await fs.readFile(path.join(folder, 'M-fanart.jpg'))).equals(same), 'and it is not the duplicate');
  t.same(
    await fs.readdir(path.join(folder, 'extrafanart')),
    ['mine.jpg'],
    "the user's extrafanart is kept as is",
  );
  t.ok(files.includes('M-poster.jpg'), 'other artwork is written');
  const [publish] = await jobsOf(stack, 'publish');
  t.match(JSON.stringify(publish?.output.skipped), /duplicate of an image already in the folder/);
});

t.test('a Blu-ray folder (BDMV) gets movie.nfo and Kodi-named artwork without a video prefix', async (t) => {
  const { run, folder } = await setup(t, { BDMV: { 'index.bdmv': 'i', STREAM: { '00001.m2ts': 'x' } } });
  await run();
  const files = await fs.readdir(folder);
  t.ok(files.includes('movie.nfo'));
  t.ok(files.includes('poster.jpg'));
  t.ok(files.includes('fanart.jpg'));
  t.notMatch(await fs.readFile(path.join(folder, 'movie.nfo'), 'utf8'), '<container>');
});

t.test('a locked artwork type keeps its image when the provider offers a better one', async (t) => {
  const { stack, run, tmdb, folder } = await setup(t, { 'M.mkv': 'v' });
  await run();
  const poster = path.join(folder, 'M-poster.jpg');
  const first = await fs.readFile(poster);
  const movie = (await stack.api('GET', '/api/movies')).json[0];
  const lock = await stack.api('POST', `/api/movies/${movie.id}/locks`, { field: 'poster', locked: true });
  t.equal(lock.status, 200, lock.text);

  // A clearly better poster appears at the provider.
  const m = tmdb.movies.get(603) as { images: { posters: Record<string, unknown>[] } };
  const better = {
    aspect_ratio: 0.667,
    file_path: '/603-poster-better-en-1000x1500.jpg',
    height: 1500,
    width: 1000,
    iso_639_1: 'en',
    vote_average: 9.9,
    vote_count: 5000,
  };
  tmdb.movies.set(603, { ...m, images: { ...m.images, posters: [better, ...m.images.posters] } });
  await stack.db.deleteFrom('provider_cache').execute();
  await run();
  t.same(await fs.readFile(poster), first, 'the locked poster is not replaced');
  t.match(
    await fs.readFile(path.join(folder, 'M.nfo'), 'utf8'),
    /<thumb[^>]*aspect="poster"/,
    'the NFO still names the poster',
  );

  await stack.api('POST', `/api/movies/${movie.id}/locks`, { field: 'poster', locked: false });
  await run();
  t.notSame(await fs.readFile(poster), first, 'unlocked, the better poster replaces it');
});
