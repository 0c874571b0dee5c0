/**
 * Ack means durable: the API process is kill -9ed while webhooks are being acknowledged. Every
 * delivery that got its 200 must be in the database with its `webhook` job, and a worker started
 * afterwards must finish every one of those jobs. (Database-down 503s on the API are covered by
 * test/intake-db-down.test.ts; the worker side of a cut-off database is in reliability-database.)
 */
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { inspectJobs, pendingJobs, query, radarrDownload, Traffic } from './support/chaos.ts';
import { API_KEY, waitFor } from './support/stack.ts';
import { Supervisor } from './support/supervisor.ts';

t.test(
  'kill -9 of the API right after acks: every acked delivery and its webhook job are in the database, and get processed',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop().catch(() => {}));
    const sup = new Supervisor(t, {
      DATABASE_URL: database.url,
      METARR_API_KEY: API_KEY,
      METARR_PORT: '0',
      METARR_HOST: '127.0.0.1',
      METARR_DB_POOL_MAX: '6',
      LOG_LEVEL: 'warn',
    });
    const api = await sup.start('api', { name: 'api' });
    const traffic = new Traffic(String(api.address), API_KEY);

    // Open loop, 8 streams: requests are in every phase (parsing, committing, answering) at the kill.
    let fileId = 10_000;
    let stop = false;
    const streams = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const id = ++fileId;
        await traffic.post('radarr', radarrDownload(1 + (id % 50), id), null);
      }
    });
    await waitFor('100 acks', async () => traffic.acked().length >= 100, 30_000);
    await sup.kill9('api');
    stop = true;
    await Promise.all(streams);
    await traffic.settle();

    const acked = traffic.acked();
    const failed = traffic.all.filter((d) => d.status !== 200);
    t.ok(
      failed.length > 0,
      `requests in flight at the kill failed (${failed.length}); the *arr sees an error for those`,
    );
    const ids = acked.map((d) => d.json.jobId as string);
    const deliveries = await query<{ job_id: string; delivery_id: string }>(
      database.url,
      'select job_id, id::text as delivery_id from webhook_deliveries where job_id = any($1::uuid[])',
      [ids],
    );
    const webhookJobs = await inspectJobs(database.url, (jobs) => jobs.rows({ types: ['webhook'] }));
    const jobById = new Map(webhookJobs.map((j) => [j.id, j]));
    const rows = deliveries
      .filter((d) => jobById.has(d.job_id))
      .map((d) => ({
        ...d,
        payload_delivery: (jobById.get(d.job_id)?.data?.payload as { deliveryId?: string } | undefined)
          ?.deliveryId,
      }));
    t.equal(rows.length, acked.length, `all ${acked.length} acked deliveries are stored with their job`);
    t.ok(
      rows.every((r) => r.payload_delivery === r.delivery_id),
      'each job points at its own delivery',
    );
    const withDelivery = new Set(
      (await query<{ job_id: string }>(database.url, 'select job_id from webhook_deliveries')).map(
        (d) => d.job_id,
      ),
    );
    const orphans = webhookJobs.filter((j) => !withDelivery.has(j.id)).length;
    t.equal(orphans, 0, 'no webhook job without its delivery (one transaction)');

    // After the crash: a worker alone finishes every acked job.
    await sup.start('worker', { name: 'w1' });
    await waitFor('every webhook job to finish', async () => (await pendingJobs(database.url)) === 0, 45_000);
    const done = await inspectJobs(database.url, (jobs) =>
      jobs.count({ types: ['webhook'], states: ['completed'], ids }),
    );
    t.equal(done, acked.length, 'every acked delivery was processed after the crash');
  },
);
