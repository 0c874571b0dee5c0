/**
 * External services misbehaving, each fault exercised through the whole running pipeline: a Radarr
 * webhook → scan-movie → discover-assets → fetch-provider-assets → enrich-metadata → select-assets →
 * publish → notify-players, against fake TMDB / fanart.tv / Kodi servers speaking the real protocols.
 *
 * Invariants, whatever the fault: the chain completes (or, for a permanent fault, stops with a clear
 * error in the dead-letter queue), every job of it ran once (retries are attempts, not new jobs), the
 * NFO and artwork are written once and never hold a refused image, and the player is told exactly once.
 *
 * Covered elsewhere, not repeated here:
 * - TMDB 429 (Retry-After honoured, no retry spent) and malformed JSON (dead-lettered at once):
 *   test/metadata-pipeline.test.ts;
 * - Plex 401 and Jellyfin redirects (permanent, no retries), Jellyfin 500 / Plex reset retried alone:
 *   test/notify-delivery.test.ts; the transports' error mapping: packages/core/test/clients/*.test.ts.
 * The provider and player timeouts are set to 2 s here (METARR_PROVIDER_TIMEOUT_SECONDS,
 * METARR_PLAYER_TIMEOUT_SECONDS; defaults 15 s and 10 s): the two hang tests check they are honoured.
 * The last test found a bug: a refused main fanart left `-fanart.jpg` empty while the next backdrops
 * were written as extrafanart (fixed in PublishService: the next selected backdrop stands in).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type FakeFanart,
  type FakeKodi,
  type FakeKodiOptions,
  type FakeTmdb,
  fanartMovie,
  imageForPath,
  makeJpeg,
  startFakeFanart,
  startFakeKodi,
  startFakeTmdb,
} from '@metarr/testkit';
import t from 'tap';
import {
  type BossJob,
  jobsOf,
  MOVIE,
  movieLibrary,
  type PlayerSpec,
  playerGroup,
  radarrFixture,
  settled,
} from './support/notify.ts';
import { METADATA_CHAIN, type Stack, startStack, waitFor } from './support/stack.ts';

/** Both timeouts, shortened from the defaults so the hang tests are quick. */
const TIMEOUT_SECONDS = 2;

type TestT = Parameters<typeof movieLibrary>[0] & Pick<typeof t, 'teardown' | 'equal'>;
type Checks = Pick<typeof t, 'equal' | 'same' | 'ok' | 'match' | 'notMatch' | 'notOk'>;

/** Radarr's file name in the fixture: the NFO and artwork take its stem. */
const STEM = `${MOVIE} [Bluray-1080p]`;
const NFO = `${STEM}.nfo`;
const POSTER = `${STEM}-poster.jpg`;
/** The poster the fake TMDB ranks best for the Matrix; it stands in when a better-voted one is refused. */
const NEXT_POSTER = '/603-poster-0-en-1000x1500.jpg';

interface Pipeline {
  stack: Stack;
  tmdb: FakeTmdb;
  kodi: FakeKodi;
  fanart: FakeFanart | null;
  folder: string;
  /** Posts a Radarr Download of the Matrix; resolves with the webhook job id. */
  download(): Promise<string>;
}

/** Stack with a TMDB key, a movie library with Radarr's /movies mapped, one Kodi group. */
async function pipeline(
  t: TestT,
  opts: { kodi?: FakeKodiOptions; player?: Partial<PlayerSpec>; fanart?: boolean } = {},
): Promise<Pipeline> {
  const tmdb = await startFakeTmdb();
  const kodi = await startFakeKodi(opts.kodi);
  const fanart = opts.fanart ? await startFakeFanart() : null;
  t.teardown(() => Promise.all([tmdb.close(), kodi.close(), fanart?.close()]));
  const stack = await startStack(t, {
    env: {
      TMDB_API_KEY: 'tmdb-test-key',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_NOTIFY_RETRY_DELAY_SECONDS: '1',
      METARR_PROVIDER_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
      METARR_PLAYER_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
      ...(fanart && { FANART_API_KEY: 'fanart-test-key', METARR_FANART_BASE_URL: fanart.apiUrl }),
    },
  });
  const lib = await movieLibrary(t, stack);
  await playerGroup(
    t,
    stack,
    {
      name: 'Living room',
      type: 'kodi',
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: 'smb://nas/movies/' }],
    },
    [{ name: 'Living room Kodi', port: kodi.port, ...opts.player }],
  );
  return {
    stack,
    tmdb,
    kodi,
    fanart,
    folder: lib.folder,
    async download() {
      const ack = await stack.api(
        'POST',
        '/api/webhooks/radarr',
        await radarrFixture('radarr-download.json'),
      );
      t.equal(ack.status, 200, ack.text);
      return ack.json.jobId as string;
    },
  };
}

const scans = (kodi: FakeKodi) => kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan');
const groupJobs = async (stack: Stack) => await jobsOf(stack, 'notify-group');

/** Waits for a job of `name` to sit in `retry` (failed, retry pending) and returns that row. */
async function failedOnce(stack: Stack, name: string, timeoutMs = 30_000): Promise<BossJob> {
  return waitFor(
    `a failed ${name} attempt`,
    async () => (await jobsOf(stack, name)).find((j) => j.state === 'retry'),
    timeoutMs,
  );
}

/**
 * The chain ran to the end exactly once: one job per step (the library-level notify-players and
 * the group's notify-group), all completed, nothing dead-lettered, one publish that wrote the NFO,
 * and Kodi asked to scan the movie folder exactly once.
 */
async function chainCompletedOnce(t: Checks, p: Pipeline) {
  await waitFor('the Kodi scan', async () => scans(p.kodi).length >= 1, 45_000);
  await settled(p.stack, [...METADATA_CHAIN, 'notify-group'], 45_000);
  for (const name of [...METADATA_CHAIN, 'notify-group']) {
    const jobs = await jobsOf(p.stack, name);
    const n = 1;
    t.equal(jobs.length, n, `${n} ${name} job(s)`);
    t.same(
      jobs.map((j) => j.state),
      jobs.map(() => 'completed'),
      `${name} completed`,
    );
  }
  t.equal((await jobsOf(p.stack, 'dead-letter')).length, 0, 'nothing dead-lettered');
  const [publish] = await jobsOf(p.stack, 'publish');
  t.ok(publish?.output.written.includes(NFO), 'the one publish wrote the NFO');
  t.match(await fs.readFile(path.join(p.folder, NFO), 'utf8'), '<title>The Matrix</title>');
  t.equal(scans(p.kodi).length, 1, 'Kodi was told exactly once');
  t.same(scans(p.kodi)[0]?.params, { directory: `smb://nas/movies/${MOVIE}/`, showdialogs: false });
}

// ---- TMDB ----------------------------------------------------------------------------------------

t.test('TMDB 5xx for a while → in-job retries, then a job retry; the chain completes once', async (t) => {
  const p = await pipeline(t);
  // Three in-job attempts fail, so the attempt fails; the job retry's first call fails too.
  p.tmdb.failNext(4, 503);
  await p.download();
  const failed = await failedOnce(p.stack, 'fetch-provider-assets');
  t.match(failed.output, { code: 'PROVIDER_SERVER_ERROR', retryable: true }, 'failed retryably');
  t.match(failed.output.error, /TMDB answered HTTP 503/);
  t.equal(p.tmdb.calls.length, 3, 'the failed attempt tried TMDB three times');
  t.equal((await jobsOf(p.stack, 'enrich-metadata')).length, 0, 'nothing downstream yet');
  await chainCompletedOnce(t, p);
  t.equal(p.tmdb.calls.length, 5, 'then one more 503 and the success: no extra call');
  const [fetch] = await jobsOf(p.stack, 'fetch-provider-assets');
  t.equal(fetch?.retry_count, 1, 'one job retry was spent');
  t.match(fetch?.output, { tmdbId: 603, requests: { tmdb: 2 } });
});

t.test('TMDB hanging (accepts, never answers) → the call times out, is retried, completes', async (t) => {
  const p = await pipeline(t);
  p.tmdb.faultNext(1, 'hang');
  const started = Date.now();
  await p.download();
  await waitFor('the hung TMDB call', async () => p.tmdb.calls.length >= 1);
  const hungAt = Date.now();
  await waitFor('the call after the timeout', async () => p.tmdb.calls.length >= 2, 25_000);
  const waited = Date.now() - hungAt;
  t.ok(
    waited >= TIMEOUT_SECONDS * 1000 - 500 && waited < TIMEOUT_SECONDS * 1000 + 5000,
    `the hung call was given up after the ${TIMEOUT_SECONDS} s timeout (${waited} ms)`,
  );
  await chainCompletedOnce(t, p);
  t.equal(p.tmdb.calls.length, 2, 'one hung call and one answered call');
  const [fetch] = await jobsOf(p.stack, 'fetch-provider-assets');
  t.equal(fetch?.retry_count, 0, 'retried inside the attempt: no job retry spent, nothing left active');
  t.ok(Date.now() - started < 30_000, 'the whole chain did not wait beyond the timeout');
});

t.test('TMDB resetting connections → retried in the job; the chain completes once', async (t) => {
  const p = await pipeline(t);
  p.tmdb.faultNext(2, 'reset');
  await p.download();
  await chainCompletedOnce(t, p);
  t.equal(p.tmdb.calls.length, 3, 'two resets, then the answer');
  const [fetch] = await jobsOf(p.stack, 'fetch-provider-assets');
  t.equal(fetch?.retry_count, 0, 'no job retry spent');
  t.match(fetch?.output, { requests: { tmdb: 3 }, cacheHits: 0 });
});

// ---- players -------------------------------------------------------------------------------------

t.test('Kodi answering 500 → the notify job retries, Kodi is told once after recovery', async (t) => {
  const p = await pipeline(t);
  p.kodi.setMode('500');
  await p.download();
  const failed = await failedOnce(p.stack, 'notify-group');
  t.match(failed.output, { code: 'NOTIFY_GROUP_FAILED', retryable: true });
  t.match(failed.output.error, /PLAYER_SERVER_ERROR/);
  t.equal(scans(p.kodi).length, 0, 'no scan reached Kodi while it failed');
  p.kodi.setMode('ok');
  await chainCompletedOnce(t, p);
  const [group] = await groupJobs(p.stack);
  t.ok((group?.retry_count ?? 0) >= 1, 'the group job was retried');
  t.equal((await jobsOf(p.stack, 'publish'))[0]?.retry_count, 0, 'publish was not rerun');
});

t.test('Kodi hanging → the call times out, the notify job retries, Kodi is told once', async (t) => {
  const p = await pipeline(t);
  p.kodi.setMode('hang');
  await p.download();
  await waitFor('the first Kodi call', async () => p.kodi.calls.length >= 1, 30_000);
  const hungAt = Date.now();
  // Only that call hangs: it still has to time out.
  p.kodi.setMode('ok');
  const failed = await failedOnce(p.stack, 'notify-group', 20_000);
  const waited = Date.now() - hungAt;
  t.ok(
    waited >= TIMEOUT_SECONDS * 1000 - 500 && waited < TIMEOUT_SECONDS * 1000 + 5000,
    `given up after the ${TIMEOUT_SECONDS} s player timeout (${waited} ms)`,
  );
  t.match(failed.output, { code: 'NOTIFY_GROUP_FAILED', retryable: true });
  t.match(failed.output.error, /PLAYER_TIMEOUT/);
  await chainCompletedOnce(t, p);
  const [group] = await groupJobs(p.stack);
  t.equal(group?.retry_count, 1, 'one retry');
});

t.test('Kodi resetting connections → the notify job retries, Kodi is told once', async (t) => {
  const p = await pipeline(t);
  p.kodi.setMode('reset');
  await p.download();
  const failed = await failedOnce(p.stack, 'notify-group');
  t.match(failed.output, { code: 'NOTIFY_GROUP_FAILED', retryable: true });
  t.match(failed.output.error, /PLAYER_CONNECTION_RESET/);
  p.kodi.setMode('ok');
  await chainCompletedOnce(t, p);
  t.ok(((await groupJobs(p.stack))[0]?.retry_count ?? 0) >= 1, 'the group job was retried');
});

// Plex's 401 is in test/notify-delivery.test.ts (enqueued directly); this is Kodi's Basic auth refused
// at the end of a full chain.
t.test('Kodi refusing the credentials (401) → dead letter at once, no retry, a clear message', async (t) => {
  const p = await pipeline(t, {
    kodi: { username: 'kodi', password: 'right-password' },
    player: { username: 'kodi', password: 'wrong-password' },
  });
  await p.download();
  await settled(p.stack, [...METADATA_CHAIN, 'notify-group'], 45_000);
  const [group] = await groupJobs(p.stack);
  t.equal(group?.state, 'failed');
  t.equal(group?.retry_count, 0, 'no retry for bad credentials');
  t.match(group?.output, { code: 'NOTIFY_GROUP_FAILED', retryable: false });
  t.match(group?.output.error, /check the credentials of player Living room Kodi/);
  t.notMatch(JSON.stringify(group?.output), /wrong-password/, 'the password is never in the error');
  t.equal(p.kodi.calls.length, 1, 'Kodi was asked once, never again');
  t.equal(scans(p.kodi).length, 0);
  const dead = await waitFor('the dead letter', async () => {
    const rows = await p.stack.jobs.rows({ types: ['dead-letter'] });
    return rows.length ? rows.map((r) => ({ source_name: r.source_name, source_id: r.source_id })) : null;
  });
  t.same(dead, [{ source_name: 'notify-group', source_id: group?.id }], 'only the notification is dead');
  t.same(
    (await jobsOf(p.stack, 'publish')).map((j) => j.state),
    ['completed'],
    'the files were still published',
  );
});

// ---- artwork -------------------------------------------------------------------------------------

/** Puts a poster at the top of TMDB's list for the Matrix: better voted than any other. */
function topPoster(tmdb: FakeTmdb, filePath: string): string {
  const m = tmdb.movies.get(603) as { images: { posters: Record<string, unknown>[] } };
  const poster = {
    aspect_ratio: 0.667,
    file_path: filePath,
    height: 1500,
    width: 1000,
    iso_639_1: 'en',
    vote_average: 9.9,
    vote_count: 5000,
  };
  tmdb.movies.set(603, { ...m, images: { ...m.images, posters: [poster, ...m.images.posters] } });
  return `${tmdb.imageUrl}/original${filePath}`;
}

/**
 * The refused poster: skipped with `reason`, never written (no file holds its bytes), not in the
 * NFO; the next candidate stands in; the publish completed first time; Kodi told once.
 */
async function refusedPoster(t: Checks, p: Pipeline, badUrl: string, reason: RegExp, badBytes?: Buffer) {
  await chainCompletedOnce(t, p);
  const [publish] = await jobsOf(p.stack, 'publish');
  t.equal(publish?.retry_count, 0, 'the publish completed on its first attempt');
  const skipped = (publish?.output.skipped ?? []) as { url: string; reason: string }[];
  const mine = skipped.find((s) => s.url === badUrl);
  t.ok(mine, 'the bad poster is reported as skipped');
  t.match(mine?.reason, reason);
  const poster = await fs.readFile(path.join(p.folder, POSTER));
  t.ok(poster.equals(imageForPath(NEXT_POSTER) as Buffer), 'the next-best poster was written instead');
  const nfo = await fs.readFile(path.join(p.folder, NFO), 'utf8');
  t.notMatch(nfo, badUrl, 'the NFO does not name the bad image');
  t.match(nfo, `<thumb aspect="poster">${p.tmdb.imageUrl}/original${NEXT_POSTER}</thumb>`);
  const files = await fs.readdir(p.folder, { recursive: true });
  t.notOk(
    files.some((f) => f.includes('metarr-tmp')),
    'no temp file left',
  );
  if (badBytes) {
    const head = badBytes.subarray(0, 4096);
    for (const f of files) {
      const full = path.join(p.folder, f);
      if (!(await fs.stat(full)).isFile()) continue;
      t.notOk((await fs.readFile(full)).subarray(0, 4096).equals(head), `${f} is not the bad image`);
    }
  }
  const published = await p.stack.db
    .selectFrom('movie_published_files')
    .select('source_url')
    .where('source_url', '=', badUrl)
    .execute();
  t.equal(published.length, 0, 'nothing published from the bad URL');
}

t.test('an oversized image (over 20 MB, no Content-Length) → skipped, the next poster used', async (t) => {
  const p = await pipeline(t);
  const filePath = '/603-poster-huge-en-1000x1500.jpg';
  const url = topPoster(p.tmdb, filePath);
  // A real JPEG header padded past the 20 MB cap, sent chunked so only the bytes tell the size.
  const bytes = Buffer.alloc(21 * 1024 * 1024, 0x20);
  makeJpeg(1000, 1500, 'huge').copy(bytes);
  p.tmdb.serveImage(filePath, bytes, { chunked: true });
  await p.download();
  await refusedPoster(t, p, url, /larger than 20971520 bytes/, bytes);
  t.equal(p.tmdb.imageCalls.filter((c) => c.endsWith(filePath)).length, 1, 'downloaded once, not retried');
});

t.test('an image over the pixel cap (8000×7000 JPEG) → skipped, the next poster used', async (t) => {
  const p = await pipeline(t);
  const filePath = '/603-poster-bomb-en-1000x1500.jpg';
  const url = topPoster(p.tmdb, filePath);
  const bytes = makeJpeg(8000, 7000, 'pixel bomb');
  t.ok(bytes.length < 20 * 1024 * 1024, 'small in bytes: only the pixel cap can refuse it');
  p.tmdb.serveImage(filePath, bytes);
  await p.download();
  await refusedPoster(t, p, url, /8000×7000, over the pixel cap/, bytes);
});

t.test('a fake image (HTML served as image/jpeg) → skipped, the next poster used', async (t) => {
  const p = await pipeline(t);
  const filePath = '/603-poster-fake-en-1000x1500.jpg';
  const url = topPoster(p.tmdb, filePath);
  const html = Buffer.from(
    '<!DOCTYPE html><html><head><title>502</title></head><body>Bad gateway</body></html>',
  );
  p.tmdb.serveImage(filePath, html, { contentType: 'image/jpeg' });
  await p.download();
  await refusedPoster(t, p, url, /is not a PNG or JPEG image/, html);
});

t.test(
  'an image on a host that is not a provider image host → never fetched, next poster used',
  async (t) => {
    const p = await pipeline(t, { fanart: true });
    const fanart = p.fanart as FakeFanart;
    // Another server on 127.0.0.1 (a different host:port), serving real images if it were asked.
    const evil = await startFakeFanart();
    t.teardown(() => evil.close());
    const rec = fanartMovie(fanart.url, 603);
    const badUrl = `${evil.url}/fanart/movies/603/movieposter/evil-1000x1500.jpg`;
    rec.movieposter = [{ id: '1', url: badUrl, lang: 'en', likes: '99' }, ...(rec.movieposter as [])];
    fanart.movies.set(603, rec);
    await p.download();
    await refusedPoster(t, p, badUrl, /is not a configured provider image host/);
    t.equal(evil.imageCalls.length + evil.calls.length, 0, 'the foreign host was never contacted');
    t.ok(fanart.imageCalls.length > 0, 'the real fanart.tv images were downloaded');
  },
);

t.test('a fake main fanart → the next backdrop becomes the fanart, not an empty slot', async (t) => {
  const p = await pipeline(t);
  const filePath = '/603-backdrop-fake-1920x1080.jpg';
  const m = p.tmdb.movies.get(603) as { images: { backdrops: Record<string, unknown>[] } };
  const fake = {
    aspect_ratio: 1.778,
    file_path: filePath,
    height: 1080,
    width: 1920,
    iso_639_1: null,
    vote_average: 9.9,
    vote_count: 5000,
  };
  p.tmdb.movies.set(603, { ...m, images: { ...m.images, backdrops: [fake, ...m.images.backdrops] } });
  const html = Buffer.from('<html><body>Service Unavailable</body></html>');
  p.tmdb.serveImage(filePath, html, { contentType: 'image/jpeg' });
  await p.download();
  await chainCompletedOnce(t, p);
  const [publish] = await jobsOf(p.stack, 'publish');
  t.match(JSON.stringify(publish?.output.skipped), /is not a PNG or JPEG image/);
  const next = '/603-backdrop-0-1920x1080.jpg';
  const fanart = await fs.readFile(path.join(p.folder, `${STEM}-fanart.jpg`)).catch(() => null);
  t.ok(fanart?.equals(imageForPath(next) as Buffer), 'the best remaining backdrop is the fanart');
  const extras = await fs.readdir(path.join(p.folder, 'extrafanart'));
  t.same(extras.sort(), ['fanart1.jpg', 'fanart2.jpg'], 'the other two backdrops are extrafanart');
  const nfo = await fs.readFile(path.join(p.folder, NFO), 'utf8');
  t.notMatch(nfo, filePath, 'the NFO does not name the fake image');
  t.match(nfo, `<thumb>${p.tmdb.imageUrl}/original${next}</thumb>`);
});
