import { JOB_EVENTS_CHANNEL, toBossPriority } from '@metarr/core';
import { sql } from 'kysely';
import t from 'tap';
import { openFeed, upgradeStatus } from './support/feed-client.ts';
import { API_KEY, startStack, waitFor } from './support/stack.ts';

t.test('the jobs REST API and the feed on one in-process stack', async (t) => {
  const stack = await startStack(t);
  const wsBase = stack.url.replace(/^http/, 'ws');
  const host = new URL(stack.url).host;

  await t.test('the upgrade needs the API key and a same-host Origin', async (t) => {
    t.equal(await upgradeStatus(`${wsBase}/api/ws`), 401, 'no key → 401');
    t.equal(await upgradeStatus(`${wsBase}/api/ws?apikey=wrong-key-0123456789`), 401, 'wrong key → 401');
    t.equal(
      await upgradeStatus(`${wsBase}/api/ws?apikey=${API_KEY}`, { origin: 'http://evil.example' }),
      403,
      'a foreign Origin → 403',
    );
    t.equal(
      await upgradeStatus(`${wsBase}/api/ws?apikey=${API_KEY}`, { origin: `http://${host}` }),
      101,
      'the same host → upgraded',
    );
    t.equal(await upgradeStatus(`${wsBase}/api/ws?apikey=${API_KEY}&type=nope`), 400, 'unknown type → 400');
    const bad = await stack.api('GET', '/api/ws?type=nope');
    t.match(bad.json?.message ?? '', 'querystring/type', 'the 400 names the field');
  });

  await t.test('clients filter by job type or follow a job id and its descendants', async (t) => {
    const all = await openFeed(stack.url);
    const scans = await openFeed(stack.url, '&type=library-scan');
    const parent = '11111111-1111-4111-8111-111111111111';
    const child = '22222222-2222-4222-8222-222222222222';
    const other = '33333333-3333-4333-8333-333333333333';
    const followed = await openFeed(stack.url, `&jobId=${parent}`);
    t.teardown(() => {
      all.close();
      scans.close();
      followed.close();
    });
    const notify = (event: string, data: Record<string, unknown>) =>
      sql`select pg_notify(${JOB_EVENTS_CHANNEL}, ${JSON.stringify({ event, data })})`.execute(stack.db);
    await notify('job:created', { jobId: parent, type: 'webhook', priority: 1, parentId: null });
    await notify('job:created', { jobId: child, type: 'scan-movie', priority: 2, parentId: parent });
    await notify('job:progress', {
      jobId: child,
      type: 'scan-movie',
      priority: 2,
      progress: 50,
      detail: 'x',
    });
    await notify('job:created', { jobId: other, type: 'library-scan', priority: 8, parentId: null });
    await all.next((m) => m.data.jobId === other, 5000);
    await scans.next((m) => m.data.jobId === other, 5000);
    await followed.next((m) => m.event === 'job:progress', 5000);
    await new Promise((r) => setTimeout(r, 200));
    const ids = (c: typeof all) =>
      c.messages.filter((m) => m.event.startsWith('job:')).map((m) => m.data.jobId);
    t.same(ids(all), [parent, child, child, other], 'no filter: everything');
    t.same(ids(scans), [other], 'type filter');
    t.same(ids(followed), [parent, child, child], 'the followed job and its child, not the others');

    // A subscribe message replaces the filter.
    scans.ws.send(JSON.stringify({ action: 'subscribe', types: ['webhook'] }));
    await scans.next((m) => m.event === 'feed:subscribed', 5000);
    await notify('job:started', { jobId: parent, type: 'webhook', priority: 1, waitMs: 1 });
    const got = await scans.next((m) => m.event === 'job:started', 5000);
    t.equal(got.data.jobId, parent, 'the new filter applies');
    scans.ws.send(JSON.stringify({ action: 'subscribe', types: ['bogus'] }));
    const err = await scans.next((m) => m.event === 'feed:error', 5000);
    t.match(err.data.message, 'types', 'a bad subscribe names the field');
  });

  await t.test('a client message over the size limit closes the socket (1009)', async (t) => {
    const c = await openFeed(stack.url);
    const code = await new Promise<number>((resolve) => {
      c.ws.once('close', (code) => resolve(code));
      c.ws.send('x'.repeat(10_000));
    });
    t.equal(code, 1009, 'message too big');
  });

  await t.test('list filters and paging are validated, naming the field', async (t) => {
    for (const [q, field] of [
      ['state=bogus', 'querystring/state'],
      ['type=bogus', 'querystring/type'],
      ['limit=0', 'querystring/limit'],
      ['limit=abc', 'querystring/limit'],
      ['offset=-1', 'querystring/offset'],
      ['parentId=nope', 'querystring/parentId'],
      ['deadLetter=maybe', 'querystring/deadLetter'],
    ] as const) {
      const res = await stack.api('GET', `/api/jobs?${q}`);
      t.equal(res.status, 400, q);
      t.match(res.json?.message ?? '', field, `${q} names ${field}`);
    }
    const ok = await stack.api('GET', '/api/jobs?limit=1&offset=0');
    t.equal(ok.status, 200);
    t.ok(ok.headers.get('x-total-count'), 'the total count is in a header');
  });

  await t.test('lineage, retry, cancel, stats and the dead-letter queue', async (t) => {
    // A scan of a library that does not exist fails permanently → failed + dead-letter.
    const media = t.testdir({ 'Heat (1995)': { 'Heat (1995).mkv': 'v' } });
    const parent = await stack.queue.enqueue('library-scan', { libraryId: 424242 });
    const failing = await stack.queue.enqueue(
      'scan-movie',
      { libraryId: 424242, path: `${media}/Heat (1995)`, trigger: 'manual', title: 'Heat' },
      { parentId: parent?.id ?? null },
    );
    t.ok(failing && parent);
    const id = failing?.id as string;
    await waitFor(
      'the scan to fail',
      async () => (await stack.api('GET', `/api/jobs/${id}`)).json?.state === 'failed',
    );
    const job = await stack.api('GET', `/api/jobs/${id}`);
    t.equal(job.json.parentId, parent?.id, 'parentId');
    t.equal(job.json.parent?.id, parent?.id, 'the parent is included');
    t.match(job.json.error, 'no longer exists', 'the error is shown');
    t.equal(job.json.priority, 2, "priority on Metarr's scale");

    const tree = await stack.api('GET', `/api/jobs/${id}/tree`);
    t.equal(tree.status, 200);
    t.equal(tree.json.rootId, parent?.id, 'the tree starts at the root');
    t.same(
      tree.json.root.children.map((c: { id: string }) => c.id),
      [id],
      'the root lists its child',
    );

    const dlq = await stack.api('GET', '/api/jobs/dead-letter');
    t.equal(dlq.status, 200);
    const entry = dlq.json.find((d: { jobId: string }) => d.jobId === id);
    t.ok(entry, 'the permanent failure is in the dead-letter queue');
    t.equal(entry?.type, 'scan-movie');
    t.match(entry?.error, 'no longer exists');
    const alias = await stack.api('GET', '/api/jobs?state=failed&deadLetter=true');
    t.ok(
      alias.json.some((d: { jobId: string }) => d.jobId === id),
      '?deadLetter=true is the same list',
    );

    const stats = await stack.api('GET', '/api/jobs/stats');
    t.ok(stats.json['scan-movie']?.failed >= 1, 'stats count the failure');

    // Make the retry succeed: the library now exists with that id.
    await sql`insert into libraries (id, name, type, path) values (424242, 'Movies', 'movie', ${media})`.execute(
      stack.db,
    );
    const feed = await openFeed(stack.url, `&jobId=${id}`);
    t.teardown(() => feed.close());
    const retry = await stack.api('POST', `/api/jobs/${id}/retry`);
    t.equal(retry.status, 202, retry.text);
    await feed.next(
      (m) => m.event === 'job:completed' && m.data.jobId === id,
      15_000,
      'the retried job completes',
    );
    const again = await stack.api('POST', `/api/jobs/${id}/retry`);
    t.equal(again.status, 409, 'a completed job cannot be retried');

    // Cancel a job that waits, then retry it from cancelled.
    const later = await stack.queue.enqueue(
      'library-scan',
      { libraryId: 424242 },
      { startAfter: new Date(Date.now() + 3_600_000) },
    );
    const tooEarly = await stack.api('POST', `/api/jobs/${later?.id}/retry`);
    t.equal(tooEarly.status, 409, 'a queued job cannot be retried');
    const cancel = await stack.api('POST', `/api/jobs/${later?.id}/cancel`);
    t.equal(cancel.status, 202);
    t.equal((await stack.api('GET', `/api/jobs/${later?.id}`)).json.state, 'cancelled');
    t.equal((await stack.api('POST', `/api/jobs/${later?.id}/cancel`)).status, 409, 'cancel twice → 409');
    const laterFeed = await openFeed(stack.url, `&jobId=${later?.id}`);
    t.teardown(() => laterFeed.close());
    const resumed = await stack.api('POST', `/api/jobs/${later?.id}/retry`);
    t.equal(resumed.status, 202, 'cancelled → retried');
    await laterFeed.next((m) => m.event === 'job:started', 10_000, 'the resumed job starts at once');
    t.equal(
      (await stack.api('POST', '/api/jobs/00000000-0000-4000-8000-000000000000/retry')).status,
      404,
      'unknown job → 404',
    );
    t.equal(toBossPriority(2), 9, 'sanity: boss priority mapping unchanged');
  });
});
