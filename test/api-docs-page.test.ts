import t from 'tap';
import { browserSkip, launchChromium } from './support/browser.ts';
import { API_KEY, request, startStack } from './support/stack.ts';

t.test('the browsable API docs page under METARR_BASE_PATH', async (t) => {
  const stack = await startStack(t, { worker: false, basePath: '/metarr' });
  const pageUrl = `${stack.url}/api/docs`;

  await t.test('GET {BASE}/api/docs is an HTML page with local assets and a strict CSP', async (t) => {
    for (const route of ['/api/docs', '/api/docs/', '/api/docs/static/index.html']) {
      const res = await request(stack.url, 'GET', route); // fetch follows the redirect
      t.equal(res.status, 200, `${route}: no key needed for the page`);
      t.match(res.headers.get('content-type'), /^text\/html/, `${route} is HTML`);
      t.match(res.text, '<div id="swagger-ui">');
    }
    const page = await request(stack.url, 'GET', '/api/docs');
    const csp = page.headers.get('content-security-policy') ?? '';
    t.match(csp, "script-src 'self'", 'scripts only from this server');
    t.match(csp, "connect-src 'self'");
    t.match(csp, "frame-ancestors 'none'");
    t.equal(page.headers.get('x-content-type-options'), 'nosniff');
    t.equal(page.headers.get('referrer-policy'), 'no-referrer', 'a ?apikey= in the address never leaks');

    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] as string);
    const styles = [...page.text.matchAll(/<link rel="stylesheet"[^>]* href="([^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    t.ok(scripts.includes('/metarr/api/docs/static/swagger-ui-bundle.js'), 'the bundle, under the base path');
    t.ok(styles.length >= 1);
    for (const src of [...scripts, ...styles]) {
      t.match(src, /^\/metarr\/api\/docs\//, `${src} is served here (no CDN)`);
      const asset = await request(`http://127.0.0.1:${new URL(stack.url).port}`, 'GET', src);
      t.equal(asset.status, 200, `${src} loads without a key`);
      t.match(
        asset.headers.get('content-type'),
        src.endsWith('.css') ? /^text\/css/ : /^(application|text)\/javascript/,
        `${src} content type`,
      );
    }
    const bundle = await request(stack.url, 'GET', '/api/docs/static/swagger-ui-bundle.js');
    t.ok(bundle.text.length > 100_000, 'the real Swagger UI bundle');
  });

  await t.test("the page's spec URL is the OpenAPI document, which keeps the API key", async (t) => {
    const init = await request(stack.url, 'GET', '/api/docs/static/swagger-initializer.js');
    t.equal(init.status, 200);
    const configured = /\burl: resolveUrl\('([^']+)'\)/.exec(init.text)?.[1];
    t.equal(configured, './json', 'Swagger UI is pointed at ./json');
    // resolveUrl() resolves against the page address with a trailing slash.
    const specUrl = new URL(String(configured), `${pageUrl}/`).href;
    t.equal(specUrl, `${stack.url}/api/docs/json`);
    t.equal((await fetch(specUrl)).status, 401, 'the document needs the API key');
    const doc = await (await fetch(specUrl, { headers: { 'x-api-key': API_KEY } })).json();
    t.equal(doc.openapi, '3.0.3');
    t.ok(doc.paths['/metarr/api/libraries'], 'it is the Metarr document');
    t.ok(doc.paths['/metarr/api/docs/json'], 'the document lists itself');
    t.notOk(
      Object.keys(doc.paths).some((p) => p.includes('/api/docs/static') || p === '/metarr/api/docs'),
      'the page and its assets are hidden from the document',
    );
    t.match(init.text, /requestInterceptor/, 'the page sends the key with its requests');
  });

  await t.test(
    'in a real browser: the operations render with the key, none without',
    { skip: browserSkip() },
    async (t) => {
      const browser = await launchChromium(t);

      const watch = (page: import('playwright-core').Page) => {
        const seen = { hosts: new Set<string>(), errors: [] as string[], dialogs: [] as string[] };
        page.on('request', (r) => seen.hosts.add(new URL(r.url()).host));
        page.on('pageerror', (e) => seen.errors.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error' && !/401/.test(m.text())) seen.errors.push(m.text());
        });
        return seen;
      };

      const page = await browser.newPage();
      const seen = watch(page);
      page.on('dialog', (d) => {
        seen.dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`${pageUrl}?apikey=${API_KEY}`);
      await page.locator('.opblock-summary-path[data-path="/metarr/api/libraries"]').first().waitFor({
        timeout: 20_000,
      });
      const ops = await page.locator('.opblock').count();
      t.ok(ops > 30, `${ops} operations rendered`);
      t.notMatch(page.url(), 'apikey', 'the key is stripped from the address bar');
      t.same(seen.dialogs, [], 'no prompt when the key came in the URL');
      t.same(seen.errors, [], 'no script error, no CSP violation');
      t.same([...seen.hosts], [new URL(stack.url).host], 'every request stays on this server');

      // "Try it out" goes through the same interceptor: the key is sent, so the API answers 200.
      await page.locator('.opblock-summary-path[data-path="/metarr/api/settings/providers"]').first().click();
      // Operations are grouped by tag: Swagger UI's id is `operations-<tag>-<operationId>`.
      const get = page.locator('#operations-Settings-get_metarr_api_settings_providers');
      await get.locator('button.try-out__btn').click();
      const [tried] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/metarr/api/settings/providers'), { timeout: 10_000 }),
        get.locator('button.execute').click(),
      ]);
      t.equal(tried.status(), 200, 'Try it out is authorised with the key');
      t.equal(tried.request().headers()['x-api-key'], API_KEY, 'sent as X-Api-Key');
      const shown = get.locator('.live-responses-table tbody .response-col_status').first();
      await shown.waitFor({ timeout: 10_000 });
      t.equal((await shown.textContent())?.trim(), '200', 'the page shows the answer');

      // The example body Swagger UI builds from the schema carries the real defaults.
      const createGroup = page.locator('#operations-Player_groups-post_metarr_api_player_groups');
      await createGroup.locator('.opblock-summary').click();
      const example = createGroup.locator('.body-param__example, .model-example .microlight').first();
      await example.waitFor({ timeout: 10_000 });
      const sample = JSON.parse((await example.textContent()) ?? '{}');
      t.match(
        sample,
        { debounceSeconds: 10, cleanAfterDelete: false, scanWhilePlaying: 'defer', sharedLibrary: false },
        'the generated example shows the defaults',
      );

      // A fresh tab without a key: the page asks; a refused key asks again; the right one shows the API.
      const ctx = await browser.newContext();
      const fresh = await ctx.newPage();
      const freshSeen = watch(fresh);
      const answers = ['wrong-key-123456', API_KEY];
      fresh.on('dialog', (d) => {
        freshSeen.dialogs.push(d.message());
        void d.accept(answers.shift() ?? '');
      });
      await fresh.goto(pageUrl);
      await fresh.locator('.opblock').first().waitFor({ timeout: 20_000 });
      t.equal(freshSeen.dialogs.length, 2, 'asked, refused, asked again');
      t.match(freshSeen.dialogs[1], /refused/);
      await ctx.close();
    },
  );
});
