/**
 * Group notifications have their own job type (`notify-group`); a `notify-players` job queued with
 * one group's payload before that (an upgrade with a full queue) is forwarded, not lost.
 */
import { toBossPriority } from '@metarr/core';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { jobsOf, MOVIE, movieLibrary, playerGroup, settled } from './support/notify.ts';
import { startStack, waitFor } from './support/stack.ts';

const scans = (k: { calls: { method: string; params: unknown }[] }) =>
  k.calls.filter((c) => c.method === 'VideoLibrary.Scan');

t.test('a group-shaped notify-players job already queued still notifies its group, once', async (t) => {
  const stack = await startStack(t);
  const kodi = await startFakeKodi();
  t.teardown(() => kodi.close());
  const lib = await movieLibrary(t, stack);
  const group = await playerGroup(
    t,
    stack,
    {
      name: 'Living room',
      type: 'kodi',
      libraryIds: [lib.id],
      pathMappings: [{ from: lib.root, to: 'smb://nas/movies' }],
    },
    [{ name: 'Living room', port: kodi.port }],
  );
  // As such a job sits in the queue: pg-boss's envelope, sent past today's typed enqueue.
  const payload = {
    libraryId: lib.id,
    path: lib.folder,
    change: 'modified',
    groupId: group.id,
    windowSeconds: 0,
  };
  const id = await stack.boss.send(
    'notify-players',
    { payload, parentId: null },
    { priority: toBossPriority(3) },
  );
  await waitFor('the scan', async () => scans(kodi).length === 1);
  t.same(scans(kodi)[0]?.params, { directory: `smb://nas/movies/${MOVIE}/`, showdialogs: false });
  await settled(stack, ['notify-players', 'notify-group']);

  const [old] = await stack.jobs.rows({ ids: [id as string] });
  const [forwarded] = await jobsOf(stack, 'notify-group');
  t.equal(old?.state, 'completed');
  t.same(old?.output, { forwardedTo: forwarded?.id }, 'the old job forwarded itself');
  t.same(forwarded?.data, { payload, parentId: id }, 'to a notify-group job with its payload');
  t.match(forwarded?.output, { groupId: group.id, folder: `smb://nas/movies/${MOVIE}` });
  t.equal(scans(kodi).length, 1, 'the group was told once');
});
