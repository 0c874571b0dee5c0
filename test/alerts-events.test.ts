/**
 * The publish handler's alerts: `publish-done` (off by default) when a publish completes, `disk-full`
 * when a publish meets ENOSPC (a real one, on a tiny tmpfs, when this machine lets the test mount one).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { deliveriesSettled, mountTmpfs, pipeline, webhook } from './support/alerts.ts';
import { waitFor } from './support/stack.ts';

t.test(
  'publish-done reaches only the channel that asked for it; a full disk alerts the defaults',
  async (t) => {
    const mnt = await mountTmpfs(t, 2048);
    const root = mnt ?? path.join(t.testdir({}), 'movies');
    await fs.mkdir(root, { recursive: true });
    const { stack, folder, scan } = await pipeline(t, root, 'tmdb-test-key');
    const rx = await startFakeAlertReceiver();
    t.teardown(() => rx.close());
    await webhook(stack, `${rx.url}/defaults`, 'Defaults');
    await webhook(stack, `${rx.url}/publishes`, 'Publishes', { events: ['publish-done'] });

    await scan();
    await waitFor('publish-done delivered', async () => rx.at('/publishes').length === 1, 30_000);
    await deliveriesSettled(stack);
    const [done] = rx.at('/publishes');
    t.match(done?.json, {
      title: 'Metarr: movie published',
      level: 'success',
      counts: { 'publish-done': 1 },
      message: /^• Published The Matrix \(1999\): \d+ files? written, 0 unchanged$/,
    });
    t.equal(rx.at('/defaults').length, 0, 'publish-done is off by default');

    if (!mnt) {
      t.comment('cannot mount a tmpfs here (needs root on Linux): the disk-full part is skipped');
      return;
    }
    // Fill the disk, change what the NFO says, publish again: ENOSPC in the write.
    const id = (await stack.api('GET', '/api/movies')).json[0].id as number;
    const meta = await stack.db
      .selectFrom('movie_metadata')
      .select('data')
      .where('movie_id', '=', id)
      .executeTakeFirstOrThrow();
    await stack.db
      .updateTable('movie_metadata')
      .set({ data: JSON.stringify({ ...(meta.data as object), tagline: 'x'.repeat(4096) }) })
      .where('movie_id', '=', id)
      .execute();
    const filler = path.join(mnt, 'filler');
    const st = await fs.statfs(mnt);
    await fs.writeFile(filler, Buffer.alloc(Number(st.bavail * st.bsize))).catch(() => {});
    await fs.appendFile(filler, Buffer.alloc(64 * 1024)).catch(() => {});
    const job = await stack.queue.enqueue('publish', { movieId: id });
    await waitFor('disk-full delivered', async () => rx.at('/defaults').length === 1, 30_000);
    const [full] = rx.at('/defaults');
    t.match(full?.json, { title: 'Metarr: disk full', level: 'failure', counts: { 'disk-full': 1 } });
    t.match(full?.json.message, `The Matrix (1999): No space left on the disk of ${folder} (ENOSPC)`);
    const [row] = await stack.jobs.rows({ types: ['publish'], ids: [job?.id as string] });
    t.equal(row?.state, 'retry', 'the publish itself waits for space (retried later)');
    t.equal(rx.at('/publishes').length, 1, 'nothing more for the publish-done channel');
  },
);
