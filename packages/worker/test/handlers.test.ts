import fs from 'node:fs/promises';
import path from 'node:path';
import {
  createJobInspector,
  DEAD_LETTER_QUEUE,
  type JobPayload,
  silentLogger,
  startRuntime,
} from '@metarr/core';
import t from 'tap';
import { handlers } from '../src/handlers/index.ts';
import { startWorkerRuntime } from '../src/runtime.ts';
import { startHandlerHarness } from './support/runtime.ts';

// Each handler alone, against a real queue and database,
// asserting which follow-up jobs it creates — without running those jobs.
const { rt, db, url, deps, ctxFor, jobsOf } = await startHandlerHarness(t);

const fixtureDir = path.resolve(import.meta.dirname, '..', '..', 'core', 'test', 'fixtures', 'webhooks');
const fixture = async (name: string) => JSON.parse(await fs.readFile(path.join(fixtureDir, name), 'utf8'));

t.test('the webhook handler maps the path and creates exactly one scan-movie job', async (t) => {
  const root = t.testdir({ 'The Matrix (1999)': { 'm.mkv': 'v' } });
  const lib = await db
    .insertInto('libraries')
    .values({ name: 'M', type: 'movie', path: root })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('path_mappings')
    .values({ manager: 'radarr', from_path: '/movies', to_path: root })
    .execute();
  const body = await fixture('radarr-download.json');
  const delivery = await db
    .insertInto('webhook_deliveries')
    .values({
      source: 'radarr',
      event_type: 'Download',
      idempotency_key: 'k1',
      body: JSON.stringify(body),
      status: 'queued',
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  const ctx = ctxFor(
    'webhook',
    { deliveryId: String(delivery.id), source: 'radarr', eventType: 'Download' },
    1,
  );
  const out = await handlers.webhook(ctx, deps);
  t.match(out, {
    actions: [{ action: 'scan-movie', libraryId: lib.id, path: path.join(root, 'The Matrix (1999)') }],
  });

  const scans = await jobsOf('scan-movie');
  t.equal(scans.length, 1, 'exactly one scan-movie');
  t.equal(scans[0]?.data.parentId, ctx.id, 'it records the webhook job as its parent');
  t.match(scans[0]?.data.payload, {
    libraryId: lib.id,
    tmdbId: 603,
    imdbId: 'tt0133093',
    title: 'The Matrix',
    year: 1999,
    trigger: 'webhook',
  });
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('outcome')
    .where('id', '=', delivery.id)
    .executeTakeFirstOrThrow();
  t.equal(row.outcome, 'queued 1 job(s)');

  // The scan handler, given that payload, records the movie and creates exactly one notify-players.
  const scanCtx = ctxFor('scan-movie', scans[0]?.data.payload as JobPayload<'scan-movie'>, 2);
  const scanOut = await handlers['scan-movie'](scanCtx, deps);
  t.match(scanOut, { status: 'created', videoFile: 'm.mkv' });
  const notifies = await jobsOf('notify-players');
  t.equal(notifies.length, 1, 'exactly one notify-players');
  t.equal(notifies[0]?.data.parentId, scanCtx.id);
  t.match(notifies[0]?.data.payload, {
    libraryId: lib.id,
    path: path.join(root, 'The Matrix (1999)'),
    change: 'created',
  });

  // With no player group linked, the notify handler completes as skipped with the reason.
  const notifyCtx = ctxFor('notify-players', notifies[0]?.data.payload as JobPayload<'notify-players'>, 3);
  t.match(await handlers['notify-players'](notifyCtx, deps), { skipped: /no player group/ });
});

t.test(
  'a Test-shaped Radarr path that matches nothing is skipped with the reason, creating no job',
  async (t) => {
    const before = (await jobsOf('scan-movie')).length;
    const body = await fixture('radarr-download.json');
    body.movie.folderPath = '/nowhere/X (2000)';
    const delivery = await db
      .insertInto('webhook_deliveries')
      .values({
        source: 'radarr',
        event_type: 'Download',
        idempotency_key: 'k2',
        body: JSON.stringify(body),
        status: 'queued',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const out = await handlers.webhook(
      ctxFor('webhook', { deliveryId: String(delivery.id), source: 'radarr', eventType: 'Download' }),
      deps,
    );
    t.match(out, { skipped: /\/nowhere\/X \(2000\) is in no library/ });
    t.equal((await jobsOf('scan-movie')).length, before, 'no scan-movie job');
  },
);

t.test('an invalid payload fails permanently: dead-lettered without spending retries', async (t) => {
  const worker = await startRuntime({
    url,
    log: silentLogger,
    instanceName: 'w',
    poolMax: 4,
    supervise: true,
  });
  t.teardown(() => worker.close());
  await startWorkerRuntime({
    boss: worker.boss,
    db: worker.dbh.db,
    log: silentLogger,
    handlers,
    deps,
    concurrency: 2,
    queues: ['scan-movie'],
  });
  // Bypass enqueue's own validation, as an old-shaped job left in the queue would.
  const id = await rt.boss.send('scan-movie', { payload: { libraryId: 'one', path: 7 }, parentId: null });
  const failed = await (async () => {
    for (let i = 0; i < 400; i++) {
      const [row] = await createJobInspector(db).rows({ ids: [id as string] });
      if (row?.state === 'failed') return row as typeof row & { output: { code?: string } };
      await new Promise((r) => setTimeout(r, 25));
    }
    return null;
  })();
  t.ok(failed, 'the job failed');
  t.equal(failed?.retry_count, 0, 'no retries were spent');
  t.equal(failed?.output.code, 'INVALID_JOB_PAYLOAD');
  const dead = await createJobInspector(db).count({ types: [DEAD_LETTER_QUEUE] });
  t.equal(dead, 1, 'it was copied to the dead-letter queue');
});
