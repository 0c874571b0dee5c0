/**
 * Poison jobs: one that fails retryably every time (its player answers 500) is retried with growing,
 * jittered delays up to its limit, then dead-lettered with its error while other work flows; a retry
 * from the API after the cause is fixed completes it. An old-shaped payload is dead-lettered at once.
 */
import { randomUUID } from 'node:crypto';
import { createBoss, ensureQueues } from '@metarr/core';
import { startFakeKodi } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import {
  type Call,
  inspectJobs,
  movieFolder,
  movieTree,
  radarrDownload,
  seedLibrary,
  Traffic,
} from './support/chaos.ts';
import { Ledger } from './support/ledger.ts';
import { API_KEY, request, waitFor } from './support/stack.ts';
import { Supervisor } from './support/supervisor.ts';

t.test(
  'a poison job is retried with growing delays, dead-lettered with its error, other jobs unaffected, and completes when retried after the fix; an old-shaped payload dead-letters at once',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const good = await startFakeKodi();
    const bad = await startFakeKodi();
    t.teardown(() => Promise.all([good.close(), bad.close()]));
    bad.setMode('500');
    const sup = new Supervisor(t, {
      DATABASE_URL: database.url,
      METARR_API_KEY: API_KEY,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      METARR_WORKER_CONCURRENCY: '2',
      METARR_DB_POOL_MAX: '4',
    });
    const api = await sup.start('api', { name: 'api' });
    const worker = await sup.start('worker', { name: 'w1' });
    const call: Call = (method, route, body) =>
      request(String(api.address), method, route, body, { 'x-api-key': API_KEY });
    const root = t.testdir({ movies: movieTree(3), other: { 'Old (1950)': { 'Old (1950).mkv': 'v' } } });
    const media = `${root}/movies`;
    const other = `${root}/other`;
    await seedLibrary(call, { media, kodiPorts: [good.port], debounceSeconds: 0 });
    // A second library whose only player is the broken one.
    const lib2 = (await call('POST', '/api/libraries', { name: 'Other', type: 'movie', path: other })).json;
    t.ok(lib2.id, 'second library');
    const group2 = (
      await call('POST', '/api/player-groups', {
        name: 'Broken',
        type: 'kodi',
        libraryIds: [lib2.id],
        debounceSeconds: 0,
        pathMappings: [{ from: other, to: 'nfs://nas/other/' }],
      })
    ).json;
    const badPlayer = (
      await call('POST', '/api/players', {
        groupId: group2.id,
        name: 'broken',
        type: 'kodi',
        host: '127.0.0.1',
        port: bad.port,
      })
    ).json;

    // Sent the way a handler would, with a short policy so the whole ladder fits in the test.
    const boss = createBoss({
      connectionString: database.url,
      instanceName: 'test',
      supervise: false,
      schedule: false,
      max: 2,
    });
    boss.on('error', () => {});
    await boss.start();
    t.teardown(() => boss.stop({ graceful: false }));
    await ensureQueues(boss);
    const poisonId = randomUUID();
    await boss.send(
      'notify-group',
      {
        payload: {
          libraryId: lib2.id,
          path: `${other}/Old (1950)`,
          change: 'modified',
          groupId: group2.id,
          windowSeconds: 0,
          playerIds: [badPlayer.id],
        },
        parentId: null,
      },
      { id: poisonId, retryLimit: 3, retryDelay: 1, retryBackoff: true },
    );
    const oldShapeId = randomUUID();
    await boss.send(
      'notify-players',
      { payload: { folder: '/movies/Old', player: 'kodi' }, parentId: null },
      { id: oldShapeId },
    );

    // Meanwhile, ordinary work.
    const traffic = new Traffic(String(api.address), API_KEY);
    for (let i = 1; i <= 3; i++)
      await traffic.post('radarr', radarrDownload(i, 100 + i), `nfs://nas/movies/${movieFolder(i)}/`);
    const ledger = new Ledger({ good });
    await waitFor(
      'the ordinary deliveries to reach their player',
      async () => ledger.scans().length === 3,
      20_000,
    );
    const job = (id: string) =>
      inspectJobs(database.url, async (jobs) => (await jobs.rows({ ids: [id] }))[0]);
    const poisonState = [await job(poisonId)];
    t.not(poisonState[0]?.state, 'completed', 'ordinary work went on while the poison job was failing');

    // pg-boss keeps only the latest start_after: sample it right after each failure.
    const scheduled = new Map<number, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = await job(poisonId);
        if (r?.state === 'retry' && !scheduled.has(r.retry_count))
          scheduled.set(r.retry_count, new Date(r.start_after).getTime() - Date.now());
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const dead = await waitFor(
      'the poison job in the dead-letter queue',
      async () => {
        const r = await call('GET', '/api/jobs/dead-letter');
        return (r.json as { jobId: string; error: string | null; retryCount: number }[]).find(
          (d) => d.jobId === poisonId,
        );
      },
      40_000,
    );
    t.equal(dead.retryCount, 3, 'it used every retry');
    t.match(dead.error, /500|failed/i, 'the dead letter carries its error');
    // In 500 mode each attempt stops at its first call, whichever it is.
    const attempts = bad.calls.map((c) => c.at);
    t.equal(attempts.length, 4, 'one first attempt and three retries reached the player');
    sampling = false;
    await sampler;
    // Seen within 100 ms of each failure: how far ahead pg-boss scheduled the retry.
    const delays = [1, 2, 3].flatMap((n) => scheduled.get(n) ?? []);
    t.ok(
      delays.length >= 2 && delays.every((d, i) => d > 0 && (i === 0 || d > (delays[i - 1] as number))),
      `delays grow: ${delays.map((d) => `${(d / 1000).toFixed(2)}s`).join(', ')}`,
    );
    t.ok((delays[0] as number) >= 900, 'the first retry waited at least its delay');

    const old = await job(oldShapeId);
    t.same(
      { state: old?.state, retries: old?.retry_count, code: (old?.output as { code?: string } | null)?.code },
      { state: 'failed', retries: 0, code: 'INVALID_JOB_PAYLOAD' },
      'the old-shaped payload failed at once, without retries',
    );
    const deadOld = (await call('GET', '/api/jobs/dead-letter')).json.find(
      (d: { jobId: string }) => d.jobId === oldShapeId,
    );
    t.ok(deadOld, 'and is in the dead-letter queue');

    // The cause is fixed: retrying from the API completes the job.
    bad.setMode('ok');
    const retry = await call('POST', `/api/jobs/${poisonId}/retry`);
    t.equal(retry.status, 202, retry.text);
    await waitFor(
      'the retried job to complete',
      async () => (await job(poisonId))?.state === 'completed',
      20_000,
    );
    t.ok(
      bad.calls.slice(4).some((c) => c.method === 'VideoLibrary.Scan'),
      'the player was told after the fix',
    );
    t.ok(sup.alive('w1') && sup.get('w1').pid === worker.pid, 'one worker throughout');
  },
);
