import { Writable } from 'node:stream';
import { buildApp } from '@metarr/api';
import { createJobInspector, createJobQueue, createLogger, silentLogger, startRuntime } from '@metarr/core';
import { startTcpProxy } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import { sql } from 'kysely';
import t from 'tap';
import { API_KEY, request } from './support/stack.ts';
import { fixture } from './support/webhook-fixtures.ts';

/** An API whose only way to the database is through a TCP proxy the test can cut. */
async function proxiedApi(t: { teardown(fn: () => unknown): void }) {
  const database = await createTestDatabase();
  const proxy = await startTcpProxy({ port: Number(new URL(database.url).port) });
  const rt = await startRuntime({
    url: proxy.rewrite(database.url),
    log: silentLogger,
    instanceName: 'api',
    poolMax: 6,
    supervise: false,
    queryTimeoutMillis: 4000,
  });
  const lines: string[] = [];
  const log = createLogger({
    name: 'api',
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  });
  const queue = createJobQueue({ boss: rt.boss, db: rt.dbh.db, log });
  const app = await buildApp({
    db: rt.dbh.db,
    boss: rt.boss,
    queue,
    log,
    auth: { apiKey: API_KEY },
    config: { basePath: '', trustProxy: undefined },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  t.teardown(async () => {
    await app.close();
    await proxy.restore();
    await rt.close();
    await proxy.close();
    await database.drop().catch(() => {});
  });
  let n = 0;
  // Every body unique, so no answer is a duplicate of an earlier one.
  const post = () => {
    const body = fixture('radarr-download');
    (body.movieFile as { id: number }).id = 10_000 + ++n;
    // The key in the query: the 503 path logs the URL, and must not log the key with it.
    return request(url, 'POST', `/api/webhooks/radarr?apikey=${API_KEY}`, body);
  };
  return { url, proxy, post, db: rt.dbh.db, logged: () => lines.join('') };
}

for (const mode of ['refuse', 'blackhole'] as const) {
  t.test(
    `database ${mode === 'refuse' ? 'refusing connections' : 'blackholed'}: 503 with Retry-After within 5 s, then 200 again without a restart`,
    async (t) => {
      const api = await proxiedApi(t);
      const before = await api.post();
      t.equal(before.status, 200, before.text);

      await api.proxy.cut(mode);
      const started = Date.now();
      const down = await api.post();
      const elapsed = Date.now() - started;
      t.equal(down.status, 503, down.text);
      t.ok(elapsed < 5000, `answered in ${elapsed} ms`);
      t.ok(Number(down.headers.get('retry-after')) > 0, 'Retry-After is set');
      t.match(down.json, { statusCode: 503, error: 'Service Unavailable', message: /database/i });
      t.notMatch(down.text, /ECONN|stack|\.ts:/, 'no internals in the body');
      t.match(api.logged(), /Database unavailable/, 'the outage is logged');
      t.notOk(api.logged().includes(API_KEY), 'without the API key from the query string');

      // A burst during the outage: every delivery answered 503 in time, none queued behind the others.
      const burstStart = Date.now();
      const burst = await Promise.all(Array.from({ length: 20 }, () => api.post()));
      const burstMs = Date.now() - burstStart;
      t.same(
        burst.map((r) => r.status),
        Array(20).fill(503),
        'twenty at once: all 503',
      );
      t.ok(burstMs < 5000, `the last of them answered after ${burstMs} ms`);

      await api.proxy.restore();
      const after = await api.post();
      t.equal(after.status, 200, after.text);
      t.match(after.json, { status: 'success', jobId: /^[0-9a-f-]{36}$/ });

      const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries`.execute(
        api.db,
      );
      t.equal(rows[0]?.n, 2, 'only the two acknowledged deliveries are stored');
      const jobs = await createJobInspector(api.db).count({ types: ['webhook'] });
      t.equal(jobs, 2, 'and exactly their two jobs');
    },
  );
}
