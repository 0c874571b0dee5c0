import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { theMatrix } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import pg from 'pg';
import t from 'tap';
import { createTmdbClient } from '../../src/clients/tmdb.ts';
import { isRetryable } from '../../src/errors.ts';
import { metadataFromTmdb } from '../../src/services/enrich.ts';

/** A fake TMDB answering every request with `body`, verbatim. */
async function rawServer(t: Pick<typeof tap, 'teardown'>, body: string): Promise<string> {
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}
const tap = t;

async function pgError(url: string, text: string, params: unknown[] = []): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text, params);
    return null;
  } catch (err) {
    return err;
  } finally {
    await c.end();
  }
}

t.test('provider text with NUL and other control characters is stored as jsonb without them', async (t) => {
  // Escaped in the JSON, as TMDB sends them: \u0000 a NUL, \u0007 a bell, \ud800 a lone surrogate.
  const base = await rawServer(
    t,
    '{"id":603,"title":"The\\u0000 Matrix","overview":"Line\\u0007 one\\nLine\\ttwo\\u001b","tagline":"x\\ud800y"}',
  );
  const client = createTmdbClient({ baseUrl: base, apiKey: 'k'.repeat(32) });
  const movie = (await client.movie(603, { language: 'en' })) as Record<string, string>;
  t.equal(movie.title, 'The Matrix');
  t.equal(movie.overview, 'Line one\nLine\ttwo', 'tabs and newlines stay');
  t.equal(movie.tagline, 'x\uFFFDy');
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  t.equal(
    await pgError(database.url, 'select $1::jsonb', [JSON.stringify(movie)]),
    null,
    'PostgreSQL takes it',
  );
});

t.test(
  'NUL in text, invalid UTF-8 and ENAMETOOLONG are permanent; connection failures are not',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop());
    const nul = await pgError(database.url, 'select $1::jsonb', [JSON.stringify({ a: '\u0000' })]);
    t.match(nul, { code: '22P05' });
    t.equal(isRetryable(nul), false, '22P05 is permanent');
    const badBytes = await pgError(database.url, "select convert_from('\\xff'::bytea, 'UTF8')");
    t.match(badBytes, { code: '22021' });
    t.equal(isRetryable(badBytes), false, '22021 is permanent');
    const long = await fs
      .writeFile(path.join(t.testdir({}), 'x'.repeat(300)), 'y')
      .then(() => null)
      .catch((e: unknown) => e);
    t.match(long, { code: 'ENAMETOOLONG' });
    t.equal(isRetryable(long), false, 'ENAMETOOLONG is permanent');
    t.equal(isRetryable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), true);
    t.equal(isRetryable(new Error('anything else')), true);
  },
);

t.test('a trailer key outside YouTube’s id alphabet is dropped, a valid one kept', async (t) => {
  const withTrailer = (key: string) =>
    metadataFromTmdb(
      {
        ...(theMatrix() as object),
        videos: { results: [{ key, site: 'YouTube', type: 'Trailer' }] },
      } as never,
      { country: 'US', imageBaseUrl: 'http://img' },
    ).trailer;
  t.equal(withTrailer('vKQi3bBA1y8'), 'plugin://plugin.video.youtube/play/?video_id=vKQi3bBA1y8');
  t.equal(withTrailer('a-b_C9'), 'plugin://plugin.video.youtube/play/?video_id=a-b_C9');
  for (const bad of ['abc&foo=bar', 'abc def', '../x', 'a'.repeat(65), 'ab%26c', ''])
    t.equal(withTrailer(bad), null, `refused: ${JSON.stringify(bad)}`);
});
