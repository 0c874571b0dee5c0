import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { browserSkip, launchChromium } from './support/browser.ts';
import { API_KEY, ROOT, request, startStack } from './support/stack.ts';

const XSS = '<img src=x onerror=alert(1)>';

t.test(
  'the jobs page in a real headless browser, under METARR_BASE_PATH',
  { skip: browserSkip() },
  async (t) => {
    // First, so a missing browser fails before anything starts.
    const browser = await launchChromium(t);
    const stack = await startStack(t, { basePath: '/metarr' });
    const media = t.testdir({
      'The Matrix (1999)': { 'The Matrix (1999).mkv': 'v' },
      'Evil (2001)': { 'Evil (2001).mkv': 'v' },
      again: { 'Heat (1995)': { 'Heat (1995).mkv': 'v' } },
    });
    const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: media });
    t.equal(lib.status, 201, lib.text);
    await stack.api('POST', '/api/path-mappings', { manager: 'radarr', from: '/movies', to: media });

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    await t.test('the page is served with a strict CSP and asks for a key without one', async (t) => {
      const res = await request(stack.url, 'GET', '/');
      t.equal(res.status, 200);
      t.match(res.headers.get('content-security-policy') ?? '', "script-src 'self'");
      t.match(res.text, 'src="/metarr/ui/app.js"', 'assets are under the base path');
      await page.goto(`${stack.url}/`);
      await page.locator('#key-form').waitFor({ state: 'visible' });
    });

    await t.test(
      'a Radarr webhook chain shows up and progresses to completed without a reload',
      async (t) => {
        await page.goto(`${stack.url}/?apikey=${API_KEY}`);
        await page.locator('#status[data-state="live"]').waitFor({ timeout: 10_000 });
        t.notMatch(page.url(), 'apikey', 'the key is stripped from the address bar');
        await page.evaluate(() => {
          (window as unknown as { marker: number }).marker = 42;
        });

        const body = JSON.parse(
          await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
        );
        const ack = await stack.api('POST', '/api/webhooks/radarr', body);
        t.equal(ack.status, 200, ack.text);
        const chain = page.locator(`.chain[data-root-id="${ack.json.jobId}"]`);
        await chain.waitFor({ timeout: 10_000 });
        // webhook → scan-movie → notify-players, every chip completed.
        await page.waitForFunction(
          (id) => {
            const chips = [...document.querySelectorAll(`.chain[data-root-id="${id}"] .chip`)];
            return chips.length >= 3 && chips.every((c) => c.getAttribute('data-state') === 'completed');
          },
          ack.json.jobId,
          { timeout: 20_000 },
        );
        const types = await chain.locator('.chip').allTextContents();
        t.same(
          types.map((s) => s.trim()),
          ['webhook', 'scan-movie', 'notify-players'],
          'the whole chain at a glance',
        );
        t.match(await chain.locator('.chain-title').textContent(), 'The Matrix');
        t.equal(
          await page.evaluate(() => (window as unknown as { marker?: number }).marker),
          42,
          'no reload happened',
        );
        const row = page.locator(`#jobs tr[data-job-id="${ack.json.jobId}"]`);
        t.equal((await row.locator('td.state').textContent())?.trim(), 'completed');
        t.match((await row.locator('td.duration').textContent()) ?? '', /\d/, 'duration shown');
      },
    );

    await t.test('an attacker-controlled title shows as text and runs nothing', async (t) => {
      const body = JSON.parse(
        await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'webhooks', 'radarr-download.json'), 'utf8'),
      );
      body.movie.title = XSS;
      body.movie.id = 666;
      body.movie.folderPath = '/movies/Evil (2001)';
      body.remoteMovie.title = XSS;
      body.movieFile.id = 667;
      body.movieFile.path = '/movies/Evil (2001)/Evil (2001).mkv';
      body.movieFile.relativePath = 'Evil (2001).mkv';
      const ack = await stack.api('POST', '/api/webhooks/radarr', body);
      t.equal(ack.status, 200, ack.text);
      const title = page.locator(`.chain[data-root-id="${ack.json.jobId}"] .chain-title`);
      await page.waitForFunction(
        ([id, text]) =>
          document
            .querySelector(`.chain[data-root-id="${id}"] .chain-title`)
            ?.textContent?.includes(text as string),
        [ack.json.jobId, XSS],
        { timeout: 10_000 },
      );
      t.match(await title.textContent(), XSS, 'the title is shown literally');
      t.equal(await page.locator('img').count(), 0, 'no img element was created');
      t.same(dialogs, [], 'no dialog fired');
    });

    await t.test('retry of a failed job from the page works', async (t) => {
      // A scan of a library that does not exist (yet) fails permanently.
      const job = await stack.queue.enqueue('scan-movie', {
        libraryId: 424242,
        path: path.join(media, 'again', 'Heat (1995)'),
        trigger: 'manual',
        title: 'Retry Me',
      });
      const row = page.locator(`#jobs tr[data-job-id="${job?.id}"]`);
      await page
        .locator(`#jobs tr[data-job-id="${job?.id}"][data-state="failed"]`)
        .waitFor({ timeout: 15_000 });
      t.match(await row.locator('td.error').textContent(), 'no longer exists', 'the error is shown');
      t.ok(await row.locator('button.retry').isVisible(), 'a failed job offers Retry');
      t.notOk(await row.locator('button.cancel').isVisible(), 'but not Cancel');

      await sql`insert into libraries (id, name, type, path) values (424242, 'Again', 'movie', ${path.join(media, 'again')})`.execute(
        stack.db,
      );
      await row.locator('button.retry').click();
      await page
        .locator(`#jobs tr[data-job-id="${job?.id}"][data-state="completed"]`)
        .waitFor({ timeout: 15_000 });
      const fresh = await stack.api('GET', `/api/jobs/${job?.id}`);
      t.equal(fresh.json.state, 'completed', 'the retried job completed');
      t.same(pageErrors, [], 'no script errors on the page');
    });
  },
);
