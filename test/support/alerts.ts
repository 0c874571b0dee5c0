/** Shared set-up for the alert tests: channels on a fake receiver, real dead letters, settling. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { startFakeAlertReceiver } from '@metarr/testkit';
import { startFakeFanart, startFakeTmdb } from '@metarr/testkit';
import { type Stack, startStack, waitFor } from './stack.ts';

export type Rx = Awaited<ReturnType<typeof startFakeAlertReceiver>>;

export async function channels(
  t: { equal(...a: unknown[]): unknown },
  stack: Stack,
  rx: Rx,
  extra: Record<string, unknown> = {},
) {
  const discord = await stack.api('POST', '/api/alerts', {
    name: 'Discord',
    type: 'discord',
    url: `${rx.url}/api/webhooks/1/token`,
    digestSeconds: 1,
    ...extra,
  });
  t.equal(discord.status, 201, discord.text);
  const ntfy = await stack.api('POST', '/api/alerts', {
    name: 'ntfy',
    type: 'ntfy',
    url: rx.url,
    topic: 'metarr',
    digestSeconds: 1,
    ...extra,
  });
  t.equal(ntfy.status, 201, ntfy.text);
  return { discord: discord.json.id as number, ntfy: ntfy.json.id as number };
}

/** Every alert delivery has run: none waiting, none running, none retrying. */
export async function deliveriesSettled(stack: Stack, minCompleted = 1) {
  await waitFor(
    'alert deliveries settled',
    async () => {
      const tally = await stack.jobs.tally({ types: ['send-alerts'] });
      const open = tally
        .filter((r) => r.state !== 'completed' && r.state !== 'failed')
        .reduce((a, r) => a + r.n, 0);
      const done = tally.filter((r) => r.state === 'completed').reduce((a, r) => a + r.n, 0);
      return open === 0 && done >= minCompleted;
    },
    20_000,
  );
}

/**
 * `n` jobs that really dead-letter: `fetch-provider-assets` with no TMDB key configured is a permanent
 * failure. Resolves with the first job's id once all `n` have failed.
 */
export async function deadLetters(stack: Stack, n: number) {
  const first = await stack.queue.enqueue('fetch-provider-assets', { movieId: 1 });
  if (n > 1)
    await stack.queue.enqueueMany(
      'fetch-provider-assets',
      Array.from({ length: n - 1 }, (_, i) => ({ movieId: i + 2 })),
    );
  await waitFor(
    `${n} dead letters`,
    async () => (await stack.jobs.count({ types: ['fetch-provider-assets'], states: ['failed'] })) === n,
    40_000,
  );
  return first?.id as string;
}

export { mountTmpfs } from './tmpfs.ts';

/** Stack + fake TMDB and fanart.tv with `tmdbKey` as the worker's key; the Matrix folder under `root`. */
export async function pipeline(t: { teardown(fn: () => unknown): void }, root: string, tmdbKey: string) {
  const tmdb = await startFakeTmdb();
  const fanart = await startFakeFanart();
  t.teardown(() => Promise.all([tmdb.close(), fanart.close()]));
  const stack = await startStack(t, {
    env: {
      TMDB_API_KEY: tmdbKey,
      FANART_API_KEY: 'fanart-test-key',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_FANART_BASE_URL: fanart.apiUrl,
    },
  });
  const folder = path.join(root, 'The Matrix (1999)');
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, 'The Matrix (1999).mkv'), 'v');
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  const scan = () =>
    stack.queue.enqueue('scan-movie', {
      libraryId: lib.json.id,
      path: folder,
      trigger: 'manual',
      tmdbId: 603,
    });
  return { stack, folder, scan };
}

/** A webhook channel at `url` (digest window 1 s). */
export const webhook = async (
  stack: Stack,
  url: string,
  name: string,
  extra: Record<string, unknown> = {},
) => {
  const r = await stack.api('POST', '/api/alerts', {
    name,
    type: 'webhook',
    url,
    digestSeconds: 1,
    ...extra,
  });
  if (r.status !== 201) throw new Error(r.text);
  return r.json.id as number;
};
