/**
 * The web app's series views (issue 17) in Debian's Chromium, driven by role and accessible name: a
 * Sonarr delivery enriched from the fake TMDB (a special, an aired episode and a "TBA" placeholder),
 * the grid and its search, seasons and the Placeholder badge, a lock that survives a reload, Refresh
 * from providers queueing its job, a hostile title, and keyboard-only use. Screenshots go to
 * $METARR_SCREENSHOTS or the test's directory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { tmdbSeason, tmdbTvShow } from '@metarr/testkit';
import t from 'tap';
import { ensureWebBuild } from '../scripts/web-build.ts';
import { browserSkip, launchChromium } from './support/browser.ts';
import { settled } from './support/notify.ts';
import { providerFakes } from './support/providers.ts';
import { API_KEY, request, startStack, waitFor } from './support/stack.ts';
import { fixture } from './support/webhook-fixtures.ts';

const XSS = '<img src=x onerror=alert(1)>';
const TMDB_ID = 95396;

t.test('the series views in a real browser, under METARR_BASE_PATH', { skip: browserSkip() }, async (t) => {
  const browser = await launchChromium(t);
  ensureWebBuild();
  const media = t.testdir({
    tv: { Severance: { 'Season 02': {}, Specials: {} }, Evil: { 'Season 01': { 'Evil - S01E01.mkv': 'v' } } },
    shots: {},
  });
  const shots = process.env.METARR_SCREENSHOTS || path.join(media, 'shots');
  t.comment(`screenshots in ${shots}`);
  const { tmdb, env } = await providerFakes(t);
  const show = tmdbTvShow(TMDB_ID, { name: 'Severance', year: 2022, tvdbId: 371980, seasons: 2 });
  show.seasons.set(
    2,
    tmdbSeason(TMDB_ID, 2, [
      { episode: 1, name: 'Hello, Ms. Cobel', overview: 'Mark returns to Lumon.', airDate: '2025-01-17' },
      { episode: 2, name: 'TBA', overview: '', airDate: '2099-01-24', still: false },
    ]),
  );
  show.seasons.set(
    0,
    tmdbSeason(TMDB_ID, 0, [
      { episode: 1, name: 'Main Title Sequence', overview: 'The opening titles.', airDate: '2022-02-18' },
    ]),
  );
  tmdb.tvShows.set(TMDB_ID, show);
  const stack = await startStack(t, { env, basePath: '/metarr' });

  const tvRoot = path.join(media, 'tv');
  const folder = path.join(tvRoot, 'Severance');
  for (const file of [
    'Season 02/Severance - S02E01 - Hello, Ms. Cobel [WEBDL-2160p].mkv',
    'Season 02/Severance - S02E02.mkv',
    'Specials/Severance - S00E01.mkv',
  ])
    await fs.writeFile(path.join(folder, file), 'video');
  const lib = await stack.api('POST', '/api/libraries', { name: 'TV', type: 'tv', path: tvRoot });
  t.equal(lib.status, 201, lib.text);
  t.equal(
    (await stack.api('POST', '/api/path-mappings', { manager: 'sonarr', from: '/tv', to: tvRoot })).status,
    201,
  );
  t.equal((await stack.api('POST', '/api/webhooks/sonarr', fixture('sonarr-download'))).status, 200);
  const severance = await waitFor(
    'Severance enriched, with its placeholder',
    async () => {
      const list = (await stack.api('GET', '/api/series')).json;
      const s = list.find((x: { title: string }) => x.title === 'Severance');
      return s?.counts.placeholders === 1 ? s : null;
    },
    30_000,
  );
  // An episode with placeholders has a recheck queued for later (a waiting job): wait for the publish.
  await waitFor('tvshow.nfo', () => fs.readFile(path.join(folder, 'tvshow.nfo'), 'utf8').catch(() => null));
  await settled(stack, ['webhook', 'scan-series', 'publish']);
  // A second series, its title hostile (no ids: enrichment leaves it alone).
  t.equal((await stack.api('POST', `/api/libraries/${lib.json.id}/scan`)).status, 202);
  const evil = await waitFor('the second series scanned', async () =>
    (await stack.api('GET', '/api/series')).json.find((x: { path: string }) => x.path.endsWith('/Evil')),
  );
  await settled(stack, ['scan-library', 'scan-series', 'publish']);
  await stack.db.updateTable('series').set({ title: XSS, year: null }).where('id', '=', evil.id).execute();

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  await t.test('served with the strict CSP and the history fallback under the base path', async (t) => {
    for (const route of ['/series', `/series/${severance.id}`]) {
      const res = await request(stack.url, 'GET', route);
      t.equal(res.status, 200, route);
      const csp = res.headers.get('content-security-policy') ?? '';
      t.match(csp, "script-src 'self'");
      t.notMatch(csp, 'unsafe-inline');
      t.match(res.text, /src="\/metarr\/app\/assets\/index-[\w-]+\.js"/);
    }
  });

  await t.test(
    'the grid shows the series; search finds it; keyboard reaches a card and opens it',
    async (t) => {
      await page.goto(`${stack.url}/movies?apikey=${API_KEY}`);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Series' }).click();
      const card = page.getByRole('link', { name: 'Severance (2022)' });
      await card.waitFor({ timeout: 10_000 });
      t.match(page.url(), /\/metarr\/series$/);
      t.ok(
        await page.getByText('1 placeholder', { exact: true }).isVisible(),
        'the placeholder count in words',
      );
      await shot('series-grid');

      await page.getByLabel('Search').fill('seve');
      await page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
      t.equal(await card.count(), 1, 'search by title');
      t.match(page.url(), 'q=seve', 'the search is in the address');
      await page.getByLabel('Search').fill('');
      await page.waitForFunction(() => document.querySelectorAll('.card').length === 2);
      await page.getByLabel('Show').selectOption({ label: 'With placeholder episodes' });
      await page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
      t.equal(await card.count(), 1, 'the placeholder filter keeps Severance');
      await page.getByLabel('Show').selectOption({ label: 'All series' });
      await page.waitForFunction(() => document.querySelectorAll('.card').length === 2);

      // Keyboard only from the search box: Tab to the sort, the filter, then the first card (by title).
      await page.getByLabel('Search').focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
      const focused = () => page.evaluate(() => document.activeElement?.querySelector('.name')?.textContent);
      t.equal(await focused(), XSS, 'the first card, its hostile title as text');
      await page.keyboard.press('ArrowRight');
      t.equal(await focused(), 'Severance (2022)');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Severance (2022)' }).waitFor();
      t.match(page.url(), `/metarr/series/${severance.id}`);
    },
  );

  await t.test('a series shows its seasons, episodes and the Placeholder badge', async (t) => {
    await page.goto(`${stack.url}/series/${severance.id}`);
    await page.getByRole('heading', { level: 1, name: 'Severance (2022)' }).waitFor();
    const headings = await page.getByRole('heading', { level: 2 }).allTextContents();
    t.same(headings, ['Series', 'Specials', 'Season 2', 'Files'], 'seasons in order, specials first');
    const season2 = page.getByRole('region', { name: 'Season 2' });
    const rows = season2.getByRole('row');
    t.equal(await rows.count(), 3, 'a header and two episodes');
    t.match(await rows.nth(1).textContent(), /S02E01.*Hello, Ms\. Cobel.*2025-01-17/);
    t.notMatch(await rows.nth(1).textContent(), 'Placeholder');
    t.match(await rows.nth(2).textContent(), /S02E02.*TBA/);
    t.ok(await rows.nth(2).getByText('Placeholder', { exact: true }).isVisible(), 'a visible text badge');
    t.match(
      await page.getByRole('region', { name: 'Specials' }).getByRole('row').nth(1).textContent(),
      /S00E01.*Main Title Sequence/,
    );
    t.match(await page.getByRole('term').allTextContents(), ['Title', 'Year', 'Plot', 'Status', 'Network']);
    await shot('series');
  });

  await t.test('locking a series field and an episode field persists across a reload', async (t) => {
    await page.getByRole('checkbox', { name: 'Lock Title', exact: true }).check();
    await page.getByRole('status').filter({ hasText: 'Title locked.' }).waitFor();
    await page.getByRole('checkbox', { name: 'Lock title of S02E02' }).check();
    await page.getByRole('status').filter({ hasText: 'The title of S02E02 locked.' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Severance (2022)' }).waitFor();
    t.ok(
      await page.getByRole('checkbox', { name: 'Lock Title', exact: true }).isChecked(),
      'the title shows locked',
    );
    t.notOk(await page.getByRole('checkbox', { name: 'Lock Year', exact: true }).isChecked());
    t.ok(await page.getByRole('checkbox', { name: 'Lock title of S02E02' }).isChecked());
    t.notOk(await page.getByRole('checkbox', { name: 'Lock plot of S02E02' }).isChecked());
    const detail = (await stack.api('GET', `/api/series/${severance.id}`)).json;
    t.same(detail.locks, ['title'], 'locked in the API');
    t.same(detail.seasons[1].episodes[1].locks, ['title']);
    await page.getByRole('checkbox', { name: 'Lock title of S02E02' }).uncheck();
    await page.getByRole('status').filter({ hasText: 'The title of S02E02 unlocked.' }).waitFor();
  });

  await t.test('Refresh from providers queues enrich-metadata for the series', async (t) => {
    const before = await stack.jobs.count({ types: ['enrich-metadata'] });
    await page.getByRole('button', { name: 'Refresh from providers' }).click();
    await page.getByRole('status').filter({ hasText: 'Refresh queued (job ' }).waitFor();
    const jobs = await stack.jobs.rows({ types: ['enrich-metadata'] });
    t.equal(jobs.length, before + 1, 'one more enrich-metadata job');
    t.ok(
      jobs.some((j) => {
        const p = j.data?.payload as { kind?: string; id?: number; refresh?: boolean } | undefined;
        return p?.kind === 'series' && p.id === severance.id && p.refresh === true;
      }),
      'for this series, past the cache',
    );
    await shot('series-refreshed');
  });

  await t.test('a hostile title renders as text and runs nothing', async (t) => {
    await page.goto(`${stack.url}/series`);
    await page.getByRole('link', { name: XSS }).click();
    await page.getByRole('heading', { level: 1, name: XSS }).waitFor();
    t.equal(await page.locator('img[src="x"]').count(), 0, 'no img element from the title');
    t.same(dialogs, [], 'no dialog fired');
    // Refresh needs a TMDB or TVDB id: the refusal is shown, not swallowed.
    await page.getByRole('button', { name: 'Refresh from providers' }).click();
    await page.getByRole('status').filter({ hasText: 'Refresh failed' }).waitFor();
    await shot('series-hostile');
  });

  t.same(pageErrors, [], 'no script errors');
});
