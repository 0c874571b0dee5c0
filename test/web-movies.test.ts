/**
 * The web app's movie views (issue 17) in Debian's Chromium, driven by role and accessible name:
 * the grid, a movie, choosing a poster, editing and locking a title, identifying a folder without
 * ids, a hostile title, and keyboard-only use. Screenshots go to $METARR_SCREENSHOTS or a temp dir.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ensureWebBuild } from '../scripts/web-build.ts';
import { browserSkip, launchChromium } from './support/browser.ts';
import { MOVIE, radarrFixture, settled, statefulPlayers } from './support/notify.ts';
import { providerFakes } from './support/providers.ts';
import { API_KEY, METADATA_CHAIN, request, startStack, waitFor } from './support/stack.ts';

const XSS = '<img src=x onerror=alert(1)>';
const PIPELINE = [...METADATA_CHAIN, 'notify-group'];

t.test('the movie views in a real browser, under METARR_BASE_PATH', { skip: browserSkip() }, async (t) => {
  const browser = await launchChromium(t);
  ensureWebBuild();
  const shots = process.env.METARR_SCREENSHOTS || (await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-web-')));
  t.comment(`screenshots in ${shots}`);
  const { env } = await providerFakes(t);
  const stack = await startStack(t, { env, basePath: '/metarr' });

  // The Matrix via Radarr (with players), a folder without ids, and one with a hostile title.
  const media = t.testdir({
    movies: {
      [MOVIE]: { [`${MOVIE} [Bluray-1080p].mkv`]: 'video-bytes' },
      'Some Rip': { 'rip.mkv': 'video' },
      Evil: { 'evil.mkv': 'video' },
    },
  });
  const root = path.join(media, 'movies');
  const folder = path.join(root, MOVIE);
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  t.equal(lib.status, 201, lib.text);
  t.equal(
    (await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: root })).status,
    201,
  );
  const { kodi } = await statefulPlayers(t, stack, { id: lib.json.id, root });
  t.equal(
    (await stack.api('POST', '/api/webhooks/radarr', await radarrFixture('radarr-download.json'))).status,
    200,
  );
  await settled(stack, PIPELINE);
  t.equal((await stack.api('POST', `/api/libraries/${lib.json.id}/scan`)).status, 202);
  const movies = await waitFor('three movies scanned', async () => {
    const list = (await stack.api('GET', '/api/movies')).json;
    return list.length === 3 && list.every((m: any) => m.lastScannedAt) ? list : null;
  });
  await settled(stack, PIPELINE);
  const byFolder = (name: string) => movies.find((m: any) => m.path.endsWith(`/${name}`));
  const matrix = byFolder(MOVIE);
  const rip = byFolder('Some Rip');
  const evil = byFolder('Evil');
  await stack.db.updateTable('movies').set({ title: XSS, year: null }).where('id', '=', evil.id).execute();

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  await t.test('served with the strict CSP, history fallback, assets under the base path', async (t) => {
    for (const route of ['/movies', `/movies/${matrix.id}`]) {
      const res = await request(stack.url, 'GET', route);
      t.equal(res.status, 200, route);
      const csp = res.headers.get('content-security-policy') ?? '';
      t.match(csp, "script-src 'self'");
      t.notMatch(csp, 'unsafe-inline');
      t.match(res.text, /src="\/metarr\/app\/assets\/index-[\w-]+\.js"/);
      t.notMatch(res.text, /<script>/, 'no inline script');
    }
    const jobs = await request(stack.url, 'GET', '/');
    t.match(jobs.text, 'href="/metarr/movies"', 'the jobs page links to the movies');
    // Without a key the app asks for one; a wrong one is refused and asked for again.
    const fresh = await browser.newPage();
    await fresh.goto(`${stack.url}/movies`);
    await fresh.getByLabel('API key').fill('not-the-key');
    await fresh.getByRole('button', { name: 'Open' }).click();
    await fresh.getByText('That API key was refused').waitFor();
    await fresh.getByLabel('API key').fill(API_KEY);
    await fresh.getByRole('button', { name: 'Open' }).click();
    await fresh.getByRole('link', { name: 'The Matrix (1999)' }).waitFor();
    await fresh.close();
  });

  await t.test('the grid shows a card per movie; keyboard reaches one and opens it', async (t) => {
    await page.goto(`${stack.url}/movies?apikey=${API_KEY}`);
    const card = page.getByRole('link', { name: 'The Matrix (1999)' });
    await card.waitFor({ timeout: 10_000 });
    t.notMatch(page.url(), 'apikey', 'the key is stripped from the address bar');
    await page.waitForFunction(() => document.querySelectorAll('.card img').length >= 1, null, {
      timeout: 10_000,
    });
    await shot('movies-grid');
    // Keyboard only from the search box: Tab to the sort, the filter, then the first card; arrows
    // between cards.
    await page.getByLabel('Search').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '');
    t.equal(await focused(), XSS, 'the first card by title');
    await page.keyboard.press('ArrowRight');
    t.equal(await focused(), 'Some Rip', 'a folder without a title shows its folder name');
    await page.keyboard.press('ArrowRight');
    t.equal(await focused(), 'The Matrix (1999)');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'The Matrix (1999)' }).waitFor();
    t.match(page.url(), `/metarr/movies/${matrix.id}`);
    await page.getByRole('img', { name: 'Poster of The Matrix (1999)' }).waitFor();
    await page.getByRole('img', { name: 'Fanart of The Matrix (1999)' }).waitFor();
    await shot('movie');

    await page.getByLabel('Search').waitFor({ state: 'detached' });
    await page.goBack();
    await page.getByLabel('Search').fill('matr');
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
    t.equal(await page.getByRole('link', { name: 'The Matrix (1999)' }).count(), 1, 'search by title');
  });

  await t.test('Use this poster changes the poster file and Kodi is told', async (t) => {
    const sha = async () =>
      createHash('sha256')
        .update(await fs.readFile(path.join(folder, `${MOVIE} [Bluray-1080p]-poster.jpg`)))
        .digest('hex');
    const before = await sha();
    const refreshes = kodi.refreshes.length;
    await page.goto(`${stack.url}/movies/${matrix.id}`);
    const buttons = page.getByRole('button', { name: 'Use this poster' });
    await buttons.first().waitFor();
    t.ok((await buttons.count()) >= 2, 'several posters offered');
    await buttons.nth(1).click();
    await waitFor('the poster file changed', async () => (await sha()) !== before);
    await waitFor('Kodi refreshed the movie', async () => kodi.refreshes.length > refreshes);
    await page.getByRole('status').filter({ hasText: 'Published.' }).waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { name: 'poster (locked)' }).waitFor();
  });

  await t.test('editing the title with the keyboard saves, rewrites the NFO and locks it', async (t) => {
    const title = page.getByLabel('Title', { exact: true });
    await title.focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('Matrix: Web Cut');
    await page.keyboard.press('Enter'); // submits the form
    const nfo = path.join(folder, `${MOVIE} [Bluray-1080p].nfo`);
    await waitFor('the NFO has the new title', async () =>
      (await fs.readFile(nfo, 'utf8')).includes('<title>Matrix: Web Cut</title>'),
    );
    await page
      .getByRole('heading', { level: 1, name: 'Matrix: Web Cut (1999)' })
      .waitFor({ timeout: 20_000 });
    t.ok(await page.getByRole('checkbox', { name: 'Lock Title' }).isChecked(), 'the title shows locked');
    t.ok(
      (await stack.api('GET', `/api/movies/${matrix.id}`)).json.locks.includes('title'),
      'locked in the API',
    );
    await shot('movie-edited');
  });

  await t.test('a folder without ids is identified from the browser', async (t) => {
    await page.goto(`${stack.url}/movies/${rip.id}`);
    await page.getByRole('heading', { level: 1, name: 'Some Rip' }).waitFor();
    await page.getByRole('button', { name: 'Identify' }).click();
    await page.getByLabel('Title, TMDB id or IMDb id').fill('matrix');
    await page.getByLabel('Release year').fill('1999');
    await page.getByRole('button', { name: 'Search TMDB' }).click();
    await page.getByRole('button', { name: 'Pick The Matrix (1999)' }).click();
    await page.getByRole('heading', { level: 1, name: 'The Matrix (1999)' }).waitFor({ timeout: 30_000 });
    const after = (await stack.api('GET', `/api/movies/${rip.id}`)).json;
    t.match(after, { tmdbId: 603, title: 'The Matrix' });
    await shot('movie-identified');
    // The movie's jobs link into the jobs page, which opens the job.
    const link = page.locator('article.movie table a[href*="#job-"]').first();
    const jobId = (await link.getAttribute('href'))?.split('#job-')[1] ?? '';
    await link.click();
    await page.locator('#detail:not([hidden])').waitFor({ timeout: 10_000 });
    t.match(await page.locator('#detail').textContent(), jobId, 'the jobs page shows that job');
  });

  await t.test('a hostile title renders as text and runs nothing', async (t) => {
    await page.goto(`${stack.url}/movies`);
    const card = page.getByRole('link', { name: XSS });
    await card.waitFor();
    await page.getByLabel('Show').selectOption({ label: 'Missing metadata' });
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
    t.equal(await card.count(), 1, 'the only movie without metadata');
    t.equal(await page.locator('img[src="x"]').count(), 0, 'no img element from the title');
    await card.click();
    await page.getByRole('heading', { level: 1, name: XSS }).waitFor();
    t.equal(await page.locator('img[src="x"]').count(), 0);
    t.same(dialogs, [], 'no dialog fired');
    await shot('movie-hostile');
    // Refresh from providers needs a TMDB id: the refusal is shown, not swallowed.
    await page.getByRole('button', { name: 'Refresh from providers' }).click();
    await page.getByRole('status').filter({ hasText: 'identify it first' }).waitFor();
  });

  t.same(pageErrors, [], 'no script errors');
});

t.test(
  'the grid is virtualized: 2,000 movies, a few dozen cards in the DOM, End reaches the last',
  { skip: browserSkip() },
  async (t) => {
    const browser = await launchChromium(t);
    ensureWebBuild();
    const stack = await startStack(t, { worker: false });
    const dir = t.testdir({});
    const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: dir });
    t.equal(lib.status, 201, lib.text);
    const N = 2000;
    const name = (i: number) => `Movie ${String(i).padStart(5, '0')}`;
    await stack.db
      .insertInto('movies')
      .values(
        Array.from({ length: N }, (_, i) => ({
          library_id: lib.json.id,
          path: path.join(dir, name(i)),
          title: name(i),
          year: 2000,
          tmdb_id: null,
          imdb_id: null,
          radarr_id: null,
          video_file: null,
        })),
      )
      .execute();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${stack.url}/movies?apikey=${API_KEY}`);
    await page
      .getByRole('status')
      .filter({ hasText: `${N} movies` })
      .waitFor({ timeout: 15_000 });
    const cards = await page.locator('.card').count();
    t.ok(cards > 0 && cards < 100, `${cards} cards in the DOM for ${N} movies`);
    await page.getByRole('link', { name: `${name(0)} (2000)` }).focus();
    await page.keyboard.press('End');
    await page.waitForFunction(
      (text) => document.activeElement?.textContent === text,
      `${name(N - 1)} (2000)`,
    );
    t.ok(
      await page.getByRole('link', { name: `${name(N - 1)} (2000)` }).isVisible(),
      'the last card, in view',
    );
    t.ok((await page.locator('.card').count()) < 100, 'still only the rows in view');
    await page.keyboard.press('ArrowUp');
    t.equal(
      await page.evaluate(() => document.activeElement?.textContent),
      `${name(N - 1 - 7)} (2000)`,
      'ArrowUp: the card a row above (7 per row at 1280 px)',
    );
  },
);
