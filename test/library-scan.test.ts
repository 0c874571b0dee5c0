import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { type Stack, startStack, waitFor } from './support/stack.ts';

async function scanAndWait(stack: Stack, libraryId: number) {
  const started = await stack.api('POST', `/api/libraries/${libraryId}/scan`);
  if (started.status !== 202) throw new Error(started.text);
  const jobId = started.json.jobId as string;
  const job = await waitFor(
    'the library-scan job',
    async () => {
      const r = await stack.api('GET', `/api/jobs/${jobId}`);
      return r.json?.state === 'completed' || r.json?.state === 'failed' ? r.json : null;
    },
    60_000,
  );
  // Every scan-movie it fanned out, done.
  await waitFor(
    'the scan-movie jobs',
    async () => {
      const n = await stack.jobs.count({ types: ['scan-movie'], states: ['created', 'retry', 'active'] });
      return n === 0;
    },
    60_000,
  );
  return job;
}

t.test('a 200-folder library scanned twice: new, changed, removed and moved folders', async (t) => {
  const stack = await startStack(t);
  const tree: Record<string, Record<string, string>> = {};
  for (let i = 0; i < 200; i++) {
    // Every fourth folder carries the *arr's TMDB token; the others have only an NFO.
    const name = i % 4 === 0 ? `Movie ${i} (2000) {tmdb-${1000 + i}}` : `Movie ${i} (2000)`;
    tree[name] = {
      [`Movie ${i}.mkv`]: `video-${i}`,
      'movie.nfo': `<movie><uniqueid type="tmdb">${1000 + i}</uniqueid><uniqueid type="imdb">tt${9000000 + i}</uniqueid></movie>`,
    };
  }
  const root = t.testdir({ ...tree, '@eaDir': { x: 'y' }, '.DS_Store': 'x' });
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  t.equal(lib.status, 201, lib.text);

  const first = await scanAndWait(stack, lib.json.id);
  t.equal(first.state, 'completed', JSON.stringify(first.output));
  t.match(first.output, { folders: 200, scanJobs: 200, new: 200, missing: 0, moved: 0, unchanged: 0 });
  const afterFirst = await stack.db.selectFrom('movies').selectAll().orderBy('id').execute();
  t.equal(afterFirst.length, 200, 'one movie per folder');
  t.ok(
    afterFirst.every((m) => m.status === 'present' && m.video_file !== null),
    'every movie present with its video',
  );
  const kids = await stack.jobs.rows({ types: ['scan-movie'] });
  t.ok(
    kids.every((k) => k.priority === 3 && k.data?.parentId === first.id),
    'scan-movie jobs are low priority (8 → pg-boss 3) and record the library-scan as parent',
  );
  t.equal(
    afterFirst.find((m) => m.path.endsWith('Movie 8 (2000) {tmdb-1008}'))?.tmdb_id,
    1008,
    'id from the folder tag',
  );
  t.equal(afterFirst.find((m) => m.path.endsWith('Movie 8 (2000) {tmdb-1008}'))?.title, 'Movie 8');

  const idOf = (p: string) => afterFirst.find((m) => m.path === path.join(root, p))?.id;
  // 10 changed, 10 removed, 10 moved (5 by folder tag, 5 found by NFO), 20 new.
  for (let i = 1; i <= 10; i++)
    await fs.writeFile(path.join(root, `Movie ${i * 4 + 1} (2000)`, `Movie ${i * 4 + 1}.mkv`), 'a new cut');
  const removed = Array.from({ length: 10 }, (_, i) => `Movie ${i * 4 + 2} (2000)`);
  for (const r of removed) await fs.rm(path.join(root, r), { recursive: true });
  const moves: [string, string][] = [];
  for (let i = 0; i < 5; i++)
    moves.push([
      `Movie ${i * 4 + 100} (2000) {tmdb-${1100 + i * 4}}`,
      `Renamed ${i} (2000) {tmdb-${1100 + i * 4}}`,
    ]);
  for (let i = 0; i < 5; i++) moves.push([`Movie ${i * 4 + 103} (2000)`, `Moved By NFO ${i} (2000)`]);
  const movedIds = moves.map(([from]) => idOf(from));
  t.ok(
    movedIds.every((id) => id !== undefined),
    'moved folders were known',
  );
  for (const [from, to] of moves) await fs.rename(path.join(root, from), path.join(root, to));
  for (let i = 0; i < 20; i++) {
    await fs.mkdir(path.join(root, `Fresh ${i} (2024)`));
    await fs.writeFile(path.join(root, `Fresh ${i} (2024)`, 'f.mkv'), 'v');
  }

  const second = await scanAndWait(stack, lib.json.id);
  t.equal(second.state, 'completed', JSON.stringify(second.output));
  t.match(second.output, {
    folders: 210,
    new: 20,
    changed: 10,
    moved: 10,
    missing: 10,
    unchanged: 170,
    scanJobs: 40,
  });
  const rows = await stack.db.selectFrom('movies').selectAll().execute();
  t.equal(rows.length, 220, '200 known + 20 new; removed ones are kept as missing, moves are not duplicated');
  const missing = rows
    .filter((r) => r.status === 'missing')
    .map((r) => path.basename(r.path))
    .sort();
  t.same(missing, removed.sort(), 'exactly the removed folders are missing');
  for (const [i, [, to]] of moves.entries()) {
    const row = rows.find((r) => r.id === movedIds[i]);
    t.equal(row?.path, path.join(root, to), `movie ${movedIds[i]} moved to ${to}, same row`);
    t.equal(row?.status, 'present');
  }
  const changedRow = rows.find((r) => r.path === path.join(root, 'Movie 5 (2000)'));
  t.ok(
    changedRow?.last_scanned_at &&
      changedRow.last_scanned_at >
        (afterFirst.find((m) => m.id === changedRow.id)?.last_scanned_at ?? new Date(0)),
    'a changed folder was scanned again',
  );

  // A third scan of an unchanged tree does nothing.
  const third = await scanAndWait(stack, lib.json.id);
  t.match(third.output, { folders: 210, scanJobs: 0, unchanged: 210, missing: 0 });

  // An emptied root (an unmounted share) marks nothing missing.
  for (const e of await fs.readdir(root)) await fs.rm(path.join(root, e), { recursive: true });
  const unmounted = await scanAndWait(stack, lib.json.id);
  t.match(unmounted.output, { skipped: /empty/ });
  const stillPresent = await stack.db
    .selectFrom('movies')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'present')
    .executeTakeFirstOrThrow();
  t.equal(Number(stillPresent.n), 210);
});

t.test('library-scan reports progress as N/M folders', async (t) => {
  const stack = await startStack(t);
  const tree: Record<string, Record<string, string>> = {};
  for (let i = 0; i < 40; i++) tree[`M ${i} (2001)`] = { 'm.mkv': 'v' };
  const root = t.testdir(tree);
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  const events: string[] = [];
  const client = await (await import('pg')).default.Client;
  const listener = new client({ connectionString: stack.database.url });
  await listener.connect();
  t.teardown(() => listener.end());
  listener.on('notification', (n) => {
    const e = JSON.parse(n.payload ?? '{}');
    if (e.event === 'job:progress' && e.data.type === 'library-scan') events.push(e.data.detail);
  });
  await listener.query('listen metarr_job_events');
  await scanAndWait(stack, lib.json.id);
  await waitFor('the last progress event', async () => events.includes('40/40 folders'));
  t.ok(events.length >= 2, `several progress events: ${events.join(', ')}`);
  t.ok(
    events.every((d) => /^\d+\/40 folders$/.test(d)),
    'every detail reads N/M folders',
  );
});

t.test('a library scan tells the players once about the library root, not once per folder', async (t) => {
  const { startFakeKodi } = await import('@metarr/testkit');
  const stack = await startStack(t);
  const kodi = await startFakeKodi({});
  t.teardown(() => kodi.close());
  const root = t.testdir(
    Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`Film ${i} (2010)`, { [`Film ${i}.mkv`]: 'v' }]),
    ),
  );
  const lib = await stack.api('POST', '/api/libraries', { name: 'Bulk', type: 'movie', path: root });
  const group = await stack.api('POST', '/api/player-groups', {
    name: 'Kodi',
    type: 'kodi',
    libraryIds: [lib.json.id],
    pathMappings: [{ from: root, to: 'smb://nas/bulk/' }],
  });
  await stack.api('POST', '/api/players', {
    groupId: group.json.id,
    name: 'k',
    type: 'kodi',
    host: '127.0.0.1',
    port: kodi.port,
  });

  await scanAndWait(stack, lib.json.id);
  const scans = () => kodi.calls.filter((c) => c.method === 'VideoLibrary.Scan');
  await waitFor('the root notification', async () => scans().length > 0, 30_000);
  await new Promise((r) => setTimeout(r, 1500));
  t.ok(scans().length <= 2, `${scans().length} Kodi scan(s) for 40 new folders`);
  for (const c of scans())
    t.same(c.params, { directory: 'smb://nas/bulk/', showdialogs: false }, 'the library root');
  const movies = await stack.api('GET', `/api/movies?libraryId=${lib.json.id}&limit=100`);
  t.equal(movies.json.length, 40, 'every folder was scanned');
});
