/**
 * bench/web — the web app's movies view with N movies (default 5,000), each with a published poster,
 * in Debian's Chromium against the API as its own process:
 *  - first meaningful paint: navigation start → the first row of cards has its poster thumbnails
 *    (target ≤ 1 s), cold (thumbnails made on this request) and warm (cached in PostgreSQL);
 *  - cards in the DOM (virtualization: only the rows in view);
 *  - the thumbnail the grid loads (154 px wide; target ≤ 40 KB);
 *  - JS shipped, gzip (target ≤ 150 KB).
 *
 *   pnpm bench:web                                  # N = 5,000, embedded PostgreSQL
 *   BENCH_N=1000 pnpm bench:web
 *   BENCH_DATABASE_URL=postgres://… pnpm bench:web
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createDb } from '@metarr/core';
import { chromium } from 'playwright-core';
import { ensureWebBuild, WEB_DIST } from '../scripts/web-build.ts';
import { BENCH_API_KEY, benchPostgres, pct, ROOT, startMetarr } from './support.ts';

// sharp is core's dependency (thumbnails), not the root's: loaded from there.
const sharp: any = createRequire(path.join(ROOT, 'packages', 'core', 'package.json'))('sharp');

const N = Number(process.env.BENCH_N ?? 5000);
const RUNS = 5;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

ensureWebBuild((line) => console.log(line));
const jsFiles = (await fs.readdir(path.join(WEB_DIST, 'assets'))).filter((f) => /\.(js|css)$/.test(f));
let jsGzip = 0;
let cssGzip = 0;
for (const f of jsFiles) {
  const n = gzipSync(await fs.readFile(path.join(WEB_DIST, 'assets', f)), { level: 9 }).length;
  if (f.endsWith('.js')) jsGzip += n;
  else cssGzip += n;
}

// A poster-like 1000×1500 JPEG: gradients, shapes and text, as a real poster has, not flat colour.
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1500">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#1b2a49"/><stop offset="0.5" stop-color="#a8323e"/><stop offset="1" stop-color="#f5a524"/>
  </linearGradient></defs>
  <rect width="1000" height="1500" fill="url(#g)"/>
  ${Array.from({ length: 40 }, (_, i) => `<circle cx="${(i * 137) % 1000}" cy="${(i * 211) % 1500}" r="${20 + (i % 7) * 15}" fill="rgba(255,255,255,${0.05 + (i % 5) * 0.05})"/>`).join('')}
  <text x="500" y="1300" font-size="110" text-anchor="middle" fill="#fff" font-family="sans-serif">THE BENCH</text>
</svg>`;
const poster = await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
const posterHash = createHash('sha256').update(poster).digest('hex');

const pgs = await benchPostgres({ tuning: 'fast' });
const url = await pgs.newDatabase('metarr_bench_web');
const media = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-bench-web-'));
const metarr = await startMetarr(url, { workers: 0 });
try {
  const lib = await metarr.call('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: media });
  if (lib.status !== 201) throw new Error(`library: ${lib.status} ${JSON.stringify(lib.json)}`);
  const { db, close } = createDb(url, { max: 4 });
  const t0 = Date.now();
  const source = path.join(media, 'poster-source.jpg');
  await fs.writeFile(source, poster);
  for (let from = 0; from < N; from += 1000) {
    const rows = [];
    for (let i = from; i < Math.min(N, from + 1000); i++) {
      const folder = path.join(media, `Movie ${String(i).padStart(5, '0')}`);
      await fs.mkdir(folder);
      await fs.link(source, path.join(folder, 'poster.jpg'));
      rows.push({
        library_id: lib.json.id,
        path: folder,
        title: `Movie ${String(i).padStart(5, '0')}`,
        year: 1950 + (i % 75),
        tmdb_id: 100_000 + i,
        imdb_id: null,
        radarr_id: null,
        video_file: null,
      });
    }
    const ids = await db.insertInto('movies').values(rows).returning('id').execute();
    await db
      .insertInto('movie_published_files')
      .values(
        ids.map(({ id }) => ({
          movie_id: id,
          file: 'poster.jpg',
          kind: 'poster',
          content_hash: posterHash,
          source_url: null,
          pending_hash: null,
          pending_source_url: null,
        })),
      )
      .execute();
  }
  await close();
  console.log(`seeded ${N} movies with posters in ${Date.now() - t0} ms`);

  const thumb = await fetch(`${metarr.base}/api/movies/1/artwork/poster/image?width=154`, {
    headers: { 'x-api-key': BENCH_API_KEY },
  });
  const thumbBytes = (await thumb.arrayBuffer()).byteLength;
  // Make it cold again for the first run: the grid's first row must generate its thumbnails.
  await (async () => {
    const { db: d, close: c } = createDb(url, { max: 1 });
    await d.deleteFrom('artwork_thumbnails').execute();
    await c();
  })();

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  const results: { paint: number; cards: number; firstCard: number }[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript((key) => sessionStorage.setItem('metarr.apikey', key), BENCH_API_KEY);
      const page = await context.newPage();
      await page.goto(`${metarr.base}/movies`);
      const firstCard = Number(
        await (
          await page.waitForFunction(() => (document.querySelector('.card') ? performance.now() : 0), null, {
            timeout: 30_000,
            polling: 'raf',
          })
        ).jsonValue(),
      );
      // Meaningful: the first row's cards are drawn with their poster thumbnails.
      const paint = await page.waitForFunction(
        () => {
          const cards = [...document.querySelectorAll('.card')].filter(
            (c) => c.getBoundingClientRect().top < 500,
          );
          const ready =
            cards.length > 0 &&
            cards.every((c) => {
              const img = c.querySelector('img');
              return img?.complete && img.naturalWidth > 0;
            });
          return ready ? performance.now() : 0;
        },
        null,
        { timeout: 30_000, polling: 'raf' },
      );
      const ms = Number(await paint.jsonValue());
      const cards = await page.locator('.card').count();
      const total = await page.getByRole('status').textContent();
      results.push({ paint: ms, cards, firstCard });
      console.log(
        `run ${run + 1}: first card ${firstCard.toFixed(0)} ms, first row with posters at ${ms.toFixed(0)} ms, ${cards} cards in the DOM (${total})`,
      );
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const warm = results.slice(1).map((r) => r.paint);
  const cards = results.map((r) => r.firstCard);
  console.log(`first card drawn p50 ${pct(cards, 50).toFixed(0)} ms`);
  console.log(
    '\n| N | first paint cold | warm p50 / max | cards in DOM | thumbnail (154 px) | JS gzip | CSS gzip |',
  );
  console.log('| - | - | - | - | - | - | - |');
  console.log(
    `| ${N} | ${results[0]?.paint.toFixed(0)} ms | ${pct(warm, 50).toFixed(0)} / ${Math.max(...warm).toFixed(0)} ms | ${results[0]?.cards} | ${(thumbBytes / 1024).toFixed(1)} KB | ${(jsGzip / 1024).toFixed(1)} KB | ${(cssGzip / 1024).toFixed(1)} KB |`,
  );
} finally {
  await metarr.stop();
  await pgs.close();
  await fs.rm(media, { recursive: true, force: true });
}
