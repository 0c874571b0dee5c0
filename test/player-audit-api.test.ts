/**
 * The player audit through the API (issue 16): `POST /api/players/:id/audit` queues an
 * `audit-player` job that a worker runs like any other (visible in the jobs API), `GET` answers the
 * last report with its findings in pages, and `?repair=true` fixes what it found, so that the next
 * audit reports no drift. Kodi is a stateful fake that sees the test's files.
 */
import path from 'node:path';
import { mappedRoot, startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { playerGroup } from './support/notify.ts';
import { startStack, waitFor } from './support/stack.ts';

t.test('an audit is a job; its report is read in pages; a repair leaves no drift', async (t) => {
  const media = t.testdir({
    movies: {
      'Heat (1995)': { 'Heat (1995).mkv': 'v' },
      'Up (2009)': { 'Up (2009).mkv': 'v' },
    },
  });
  const root = path.join(media, 'movies');
  const kodi = await startFakeKodi({ toLocal: mappedRoot('smb://nas/movies/', root) });
  t.teardown(() => kodi.close());
  const stack = await startStack(t);
  const lib = await stack.api('POST', '/api/libraries', { name: 'Movies', type: 'movie', path: root });
  t.equal(lib.status, 201, lib.text);
  for (const folder of ['Heat (1995)', 'Up (2009)'])
    await stack.db
      .insertInto('movies')
      .values({
        library_id: lib.json.id,
        path: path.join(root, folder),
        title: folder,
        video_file: `${folder}.mkv`,
      })
      .execute();
  kodi.addMovie('smb://nas/movies/Heat (1995)/Heat (1995).mkv', 'Heat');
  kodi.addMovie('smb://nas/movies/Heat (1995)/Heat (1995).mkv', 'Heat');
  kodi.addMovie('smb://nas/movies/Gone (2001)/Gone (2001).mkv', 'Gone');
  const { playerIds } = await playerGroup(
    t,
    stack,
    {
      name: 'Kodi',
      type: 'kodi',
      cleanAfterDelete: true,
      libraryIds: [lib.json.id],
      pathMappings: [{ from: root, to: 'smb://nas/movies/' }],
    },
    [{ name: 'Kodi', port: kodi.port }],
  );
  const id = playerIds[0] as number;

  t.match((await stack.api('GET', `/api/players/${id}/audit`)).json, {
    statusCode: 404,
    message: `player ${id} has not been audited yet; POST /api/players/${id}/audit`,
  });
  for (const [query, field] of [
    ['?repair=perhaps', 'querystring/repair'],
    ['?kind=lost', 'querystring/kind'],
    ['?limit=0', 'querystring/limit'],
  ]) {
    const method = field === 'querystring/repair' ? 'POST' : 'GET';
    const r = await stack.api(method, `/api/players/${id}/audit${query}`);
    t.equal(r.status, 400, `${method} ${query}`);
    t.match(r.json.message, field, 'the 400 names the field');
  }
  t.equal((await stack.api('POST', '/api/players/99999/audit')).status, 404);

  const done = async (jobId: string) =>
    waitFor(`audit job ${jobId} completed`, async () => {
      const r = await stack.api('GET', `/api/jobs/${jobId}`);
      return r.json?.state === 'completed' ? r.json : null;
    });
  const queued = await stack.api('POST', `/api/players/${id}/audit`);
  t.equal(queued.status, 202, queued.text);
  const job = await done(queued.json.jobId);
  t.match(job, { type: 'audit-player', output: { missing: 1, gone: 1, duplicate: 1, stale: 0 } });

  const report = await stack.api('GET', `/api/players/${id}/audit?limit=2`);
  t.equal(report.status, 200, report.text);
  t.match(report.json, {
    playerId: id,
    jobId: queued.json.jobId,
    status: 'done',
    repair: false,
    playerItems: 3,
    counts: { missing: 1, gone: 1, duplicate: 1, stale: 0 },
    staleChecked: false,
    notes: [/Kodi does not say when a movie was last refreshed/],
    findings: { total: 3, limit: 2, offset: 0 },
  });
  t.equal(report.json.findings.items.length, 2, 'one page of findings');
  const rest = await stack.api('GET', `/api/players/${id}/audit?limit=2&offset=2`);
  t.equal(rest.json.findings.items.length, 1);
  const kinds = [...report.json.findings.items, ...rest.json.findings.items].map(
    (f: { kind: string }) => f.kind,
  );
  t.same(kinds.sort(), ['duplicate', 'gone', 'missing']);
  const missing = await stack.api('GET', `/api/players/${id}/audit?kind=missing`);
  t.match(missing.json.findings, {
    total: 1,
    items: [{ kind: 'missing', metarrPath: path.join(root, 'Up (2009)'), itemId: null }],
  });

  const repair = await stack.api('POST', `/api/players/${id}/audit?repair=true`);
  t.equal(repair.status, 202, repair.text);
  t.equal(
    (await stack.api('POST', `/api/players/${id}/audit`)).status,
    409,
    'one audit of a player at a time',
  );
  const repaired = await done(repair.json.jobId);
  t.match(repaired.output, { repair: { queued: 2, removed: 1 } });
  await waitFor('the repairs ran', async () => {
    const r = await stack.api('GET', `/api/jobs?type=notify-group&state=completed`);
    return r.json?.length >= 2;
  });

  const again = await stack.api('POST', `/api/players/${id}/audit`);
  await done(again.json.jobId);
  const clean = await stack.api('GET', `/api/players/${id}/audit`);
  t.match(clean.json, { counts: { missing: 0, gone: 0, duplicate: 0, stale: 0 }, findings: { total: 0 } });

  // A worker killed mid-audit leaves its row running; once the job is gone the report says failed.
  await stack.db
    .insertInto('player_audits')
    .values({ player_id: id, job_id: '00000000-0000-4000-8000-000000000000', status: 'running' })
    .execute();
  t.match((await stack.api('GET', `/api/players/${id}/audit`)).json, {
    status: 'failed',
    error: 'the audit-player job ended (deleted) before the audit finished',
  });
});
