/**
 * The first-run wizard and Settings (issue 17) in Debian's Chromium, by role and accessible name:
 * from an empty database the wizard adds a library with the folder picker, Radarr's mapping (with
 * explain), a Kodi group and player tested against the fake Kodi, and shows the webhook URL; a Radarr
 * Download posted to that URL puts the movie in the grid. Settings: a mapping added by keyboard alone,
 * explained and removed, the API's refusal shown next to the form, a player Test failing on a wrong
 * port, a hostile library name shown as text, the API key revealed (its rotation refused while it is
 * fixed by METARR_API_KEY). Screenshots go to $METARR_SCREENSHOTS or a temp dir.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { ensureWebBuild } from '../scripts/web-build.ts';
import { browserSkip, launchChromium } from './support/browser.ts';
import { MOVIE, radarrFixture } from './support/notify.ts';
import { API_KEY, request, startStack, waitFor } from './support/stack.ts';

const XSS = '<img src=x onerror=alert(1)>';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

t.test(
  'the wizard and Settings in a real browser, under METARR_BASE_PATH',
  { skip: browserSkip() },
  async (t) => {
    const browser = await launchChromium(t);
    ensureWebBuild();
    const shots = process.env.METARR_SCREENSHOTS || (await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-web-')));
    t.comment(`screenshots in ${shots}`);
    const media = t.testdir({
      movies: { [MOVIE]: { [`${MOVIE} [Bluray-1080p].mkv`]: 'video-bytes' } },
      other: {},
    });
    const root = path.join(media, 'movies');
    const stack = await startStack(t, { basePath: '/metarr', mediaRoots: [media] });
    const kodi = await startFakeKodi();
    t.teardown(() => kodi.close());

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      // The app's own confirmations are accepted; an alert would be an injected script.
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    const button = (name: string | RegExp) =>
      page.getByRole('button', { name, exact: typeof name === 'string' });

    await t.test('/settings and /setup serve the app with the strict CSP', async (t) => {
      for (const route of ['/settings', '/setup']) {
        const res = await request(stack.url, 'GET', route);
        t.equal(res.status, 200, route);
        t.match(res.headers.get('content-security-policy') ?? '', "script-src 'self'");
        t.notMatch(res.text, /<script>/, 'no inline script');
      }
    });

    let webhook = '';
    await t.test('the wizard from an empty database to a working Radarr → Kodi flow', async (t) => {
      await page.goto(`${stack.url}/movies?apikey=${API_KEY}`);
      await page.getByRole('link', { name: 'Set up Metarr' }).click();
      await page.getByRole('heading', { level: 1, name: 'Set up Metarr' }).waitFor();
      t.match(page.url(), /\/metarr\/setup$/);

      // 1: the library, its folder chosen in the picker (starting points: METARR_MEDIA_ROOTS).
      t.equal(await page.getByLabel('Library name').inputValue(), 'Movies');
      t.ok(await button('Next').isDisabled(), 'no way on without a library');
      await button('Browse…').click();
      const picker = page.getByRole('dialog', { name: 'Choose a folder' });
      // A typed folder and Go (the picker's form does not submit the library form); Escape closes.
      await picker.getByRole('button', { name: `Open ${media}` }).waitFor();
      await picker.getByLabel('Folder path').fill(media);
      await picker.getByRole('button', { name: 'Go' }).click();
      await picker.getByRole('button', { name: 'Open other' }).waitFor();
      t.equal((await stack.api('GET', '/api/libraries')).json.length, 0, 'no library added by Go');
      await page.keyboard.press('Escape');
      await picker.waitFor({ state: 'detached' });
      await button('Browse…').click();
      await picker.getByRole('button', { name: `Open ${media}` }).click();
      await picker.getByRole('button', { name: 'Open movies' }).click();
      await picker.getByText(`In ${root}`).waitFor();
      await shot('setup-1-picker');
      await picker.getByRole('button', { name: 'Use this folder' }).click();
      t.equal(await page.getByLabel('Library folder').inputValue(), root);
      await button('Add library').click();
      await page.getByText(`Movie library “Movies” at ${root} is ready.`).waitFor();
      await button('Next').click();

      // 2: Radarr's /movies is this host's library folder; explain a movie path.
      await page.getByRole('heading', { name: /Step 2 of 5/ }).waitFor();
      t.equal(await page.getByLabel('Path on this host').inputValue(), root, 'the library folder is offered');
      await page.getByLabel('Path in the *arr').fill('/movies');
      await button('Add mapping').click();
      await page.getByText(`Radarr /movies → ${root}`).waitFor();
      await page.getByLabel('Path as the *arr sends it').fill(`/movies/${MOVIE}`);
      await button('Explain').click();
      await page.getByText(`Maps to ${path.join(root, MOVIE)} in library “Movies”`).waitFor();
      await shot('setup-2-mapping');
      await button('Next').click();

      // 3: a Kodi group and player, tested against the fake Kodi.
      await page.getByRole('heading', { name: /Step 3 of 5/ }).waitFor();
      await page.getByLabel("Players' path for Movies").fill('smb://nas/movies/');
      await button('Add group').click();
      await page.getByText('Group “Living room” added.').waitFor();
      await page.getByLabel('Host').fill('127.0.0.1');
      await page.getByLabel('Port').fill(String(kodi.port));
      await button('Add player').click();
      await button('Test Kodi').click();
      const verdict = page.getByRole('status').filter({ hasText: 'Version:' });
      await verdict.waitFor();
      t.match(
        await verdict.textContent(),
        /^✔ .*Version: \S+\. Auth: accepted\.$/,
        'the Test shows version and auth',
      );
      await shot('setup-3-kodi');
      await button('Next').click();

      // 4: the TMDB key is optional (left empty here: no provider in this test).
      await page.getByLabel('TMDB API key').waitFor();
      await button('Next').click();

      // 5: the webhook URLs; with the key for an *arr without Basic credentials.
      const url = page.getByLabel('Radarr webhook URL');
      t.equal(await url.inputValue(), `${stack.url}/api/webhooks/radarr`);
      t.equal(await page.getByLabel('Sonarr webhook URL').inputValue(), `${stack.url}/api/webhooks/sonarr`);
      await button('Show the URLs with the API key').click();
      webhook = await url.inputValue();
      t.equal(webhook, `${stack.url}/api/webhooks/radarr?apikey=${API_KEY}`);
      await shot('setup-5-webhook');
      await button('Finish').click();
      await page.getByRole('heading', { level: 1, name: 'Movies' }).waitFor();
      t.match(page.url(), /\/metarr\/movies$/);

      const groups = (await stack.api('GET', '/api/player-groups')).json;
      t.same(
        groups.map((g: any) => [g.name, g.type, g.libraryIds.length, g.pathMappings]),
        [['Living room', 'kodi', 1, [{ from: root, to: 'smb://nas/movies/' }]]],
        'the group is linked to the library',
      );
    });

    await t.test(
      'a Radarr Download to the URL the wizard showed: the movie in the grid, Kodi told',
      async (t) => {
        const res = await fetch(webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(await radarrFixture('radarr-download.json')),
        });
        t.equal(res.status, 200, await res.text());
        await waitFor(
          'the movie scanned',
          async () => (await stack.api('GET', '/api/movies')).json.length === 1,
        );
        const scan = await waitFor('Kodi told to scan', async () =>
          kodi.calls.find((c) => c.method === 'VideoLibrary.Scan'),
        );
        t.match(scan.params, { directory: `smb://nas/movies/${MOVIE}/` }, "in the players' form of the path");
        // The empty grid reads the list again on its own: no reload.
        await page.getByRole('link', { name: MOVIE }).waitFor({ timeout: 10_000 });
        t.equal(
          await page.getByRole('link', { name: 'Set up Metarr' }).count(),
          0,
          'no wizard offer any more',
        );
        await shot('setup-movies');
      },
    );

    await t.test('Settings: a mapping by keyboard alone, explained, refused, removed', async (t) => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
      t.match(page.url(), /\/metarr\/settings$/);
      await page.getByRole('button', { name: `Remove mapping /movies` }).waitFor();
      // Keyboard only: from the Manager select, Tab through the form and Enter on Add mapping.
      const form = page.getByRole('form', { name: 'Add a path mapping' });
      await form.getByLabel('Manager').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.type('/data/films');
      await page.keyboard.press('Tab');
      await page.keyboard.type(root);
      await page.keyboard.press('Tab');
      t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Add mapping');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Remove mapping /data/films' }).waitFor();
      t.equal((await stack.api('GET', '/api/path-mappings')).json.length, 2);

      const explain = page.getByRole('form', { name: 'Explain a path' });
      await explain.getByLabel('Path as the *arr sends it').fill(`/data/films/${MOVIE}`);
      await explain.getByRole('button', { name: 'Explain' }).click();
      await explain.getByText(`Maps to ${path.join(root, MOVIE)}`).waitFor();
      await explain.getByLabel('Path as the *arr sends it').fill('/nowhere/Heat (1995)');
      await explain.getByRole('button', { name: 'Explain' }).click();
      await explain.getByText(/^Does not reach a library/).waitFor();

      // The API's 400 names the field, next to the form.
      await form.getByLabel('Path in the *arr').fill('/x');
      await form.getByLabel('Path on this host').fill('relative/path');
      await form.getByRole('button', { name: 'Add mapping' }).click();
      t.match(await form.getByRole('alert').textContent(), /body\/to/);
      await shot('settings-mappings');

      await page.getByRole('button', { name: 'Remove mapping /data/films' }).click();
      await page.getByRole('button', { name: 'Remove mapping /data/films' }).waitFor({ state: 'detached' });
      t.equal((await stack.api('GET', '/api/path-mappings')).json.length, 1);
    });

    await t.test('Settings: a player on a wrong port fails its Test', async (t) => {
      await button('Add a player to Living room').click();
      const form = page.getByRole('form', { name: 'Add a player to Living room' });
      await form.getByLabel('Player name').fill('Bedroom');
      await form.getByLabel('Host').fill('127.0.0.1');
      await form.getByLabel('Port').fill(String(await closedPort()));
      await form.getByRole('button', { name: 'Add player' }).click();
      await button('Test Bedroom').click();
      const row = page.getByRole('listitem').filter({ has: button('Test Bedroom') });
      const verdict = row.getByRole('status').filter({ hasText: 'Version:' });
      await verdict.waitFor({ timeout: 20_000 });
      t.match(await verdict.textContent(), /^✘ .*Version: unknown\. Auth: not accepted\.$/);
      // The good one still passes.
      await button('Test Kodi').click();
      await page
        .getByRole('listitem')
        .filter({ has: button('Test Kodi') })
        .getByRole('status')
        .filter({ hasText: /^✔/ })
        .waitFor();
      await shot('settings-players');
      await button('Remove player Bedroom').click();
      await button('Test Bedroom').waitFor({ state: 'detached' });
      // Edit a player and rename its group.
      await button('Edit Kodi').click();
      const edit = page.getByRole('form', { name: 'Edit player Kodi' });
      await edit.getByLabel('Player name').fill('Kodi TV');
      await edit.getByRole('button', { name: 'Save player' }).click();
      await button('Test Kodi TV').waitFor();
      await button('Rename group Living room').click();
      await page.getByLabel('New group name').fill('Lounge');
      await button('Save name').click();
      await page.getByRole('heading', { level: 3, name: /^Lounge/ }).waitFor();
      t.same(
        (await stack.api('GET', '/api/players')).json.map((p: any) => p.name),
        ['Kodi TV'],
        'the edit is saved',
      );
    });

    await t.test('Settings: a hostile library name renders as text; the API key', async (t) => {
      const form = page.getByRole('form', { name: 'Add a library' });
      await form.getByLabel('Library name').fill(XSS);
      await form.getByLabel('Library folder').fill(path.join(media, 'other'));
      await form.getByRole('button', { name: 'Add library' }).click();
      await page.getByRole('button', { name: `Scan ${XSS} now` }).waitFor();
      t.equal(await page.locator('main img').count(), 0, 'no element from the name');
      // An overlapping folder: the 409 shown next to the form.
      await form.getByLabel('Library folder').fill(path.join(root, MOVIE));
      await form.getByRole('button', { name: 'Add library' }).click();
      t.match(await form.getByRole('alert').textContent(), /overlaps library/);
      await page.getByRole('button', { name: `Scan ${XSS} now` }).click();
      await page.getByText(`Scan of ${XSS} queued.`).waitFor();

      // Provider keys: a malformed one refused naming the field, a good one shown masked.
      const keys = page.getByRole('form', { name: 'Provider keys' });
      await keys.getByLabel('fanart.tv API key').fill('no!');
      await keys.getByRole('button', { name: 'Save keys' }).click();
      t.match(await keys.getByRole('alert').textContent(), /fanartApiKey/);
      await keys.getByLabel('fanart.tv API key').fill('fanart-key-1234');
      await keys.getByRole('button', { name: 'Save keys' }).click();
      await keys.getByText('fanart.tv key: set (••••1234)').waitFor();
      t.equal(await keys.getByLabel('fanart.tv API key').inputValue(), '', 'the key is not kept in the form');

      await button('Reveal API key').click();
      t.equal(await page.getByRole('textbox', { name: 'API key', exact: true }).inputValue(), API_KEY);
      await button('Regenerate API key').click();
      t.match(
        await page.getByRole('region', { name: 'API key' }).getByRole('alert').textContent(),
        /fixed by METARR_API_KEY/,
      );
      await page.getByRole('rowheader', { name: `File scan: ${XSS}` }).waitFor();
      // Run now, then its last run shows (the Schedules table re-reads after Run now).
      const row = page
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: `File scan: ${XSS}` }) });
      await row.getByRole('button', { name: `Run file scan of ${XSS} now` }).click();
      await row
        .getByRole('cell')
        .nth(1)
        .filter({ hasText: /^(created|active|completed) / })
        .waitFor();
      await shot('settings');
      await button(`Remove library ${XSS}`).click();
      await button(`Scan ${XSS} now`).waitFor({ state: 'detached' });
      t.same(pageErrors, []);
      t.ok(
        dialogs.every((d) => d.startsWith('Remove') || d.startsWith('Issue')),
        'only the app’s confirmations',
      );
    });
  },
);
