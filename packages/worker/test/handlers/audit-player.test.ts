import path from 'node:path';
import { type Db, lastPlayerAudit, type PlayerType, playerAuditFindings } from '@metarr/core';
import { mappedRoot, startFakeJellyfin, startFakeKodi, startFakePlex } from '@metarr/testkit';
import t from 'tap';
import { handleAuditPlayer } from '../../src/handlers/auditPlayer.ts';
import { handleNotifyGroup } from '../../src/handlers/notifyGroup.ts';
import { childJobs, insertGroup, insertLibrary } from '../support/handlerFixtures-a.ts';
import { startHandlerHarness } from '../support/runtime.ts';

// audit-player against stateful fake players on 127.0.0.1 that see the test's files (`toLocal`):
// each kind of drift is found, `repair` queues notify-group jobs (run here by hand) and removes
// duplicate entries, and a second audit finds nothing left to repair.
const { db, deps, ctxFor } = await startHandlerHarness(t);

/** Where each player type sees the library (Plex: its default movie section's location). */
const PLAYER_ROOT: Record<Exclude<PlayerType, 'emby'>, string> = {
  kodi: 'smb://nas/movies/',
  jellyfin: '/media/movies',
  plex: '/data/movies',
};

interface Fixture {
  libraryId: number;
  root: string;
  movieIds: Record<'heat' | 'alien' | 'up', number>;
}

/** A library on disk with three movies, all present in Metarr; Heat was published an hour ago. */
async function library(test: { testdir: typeof t.testdir }): Promise<Fixture> {
  const media = test.testdir({
    movies: {
      'Heat (1995)': { 'Heat (1995).mkv': 'v', 'Heat (1995).nfo': '<movie/>' },
      'Alien (1979)': { 'Alien (1979).mkv': 'v' },
      'Up (2009)': { 'Up (2009).mkv': 'v' },
    },
  });
  const root = path.join(media, 'movies');
  const libraryId = await insertLibrary(db, { path: root });
  const movie = async (title: string, folder: string) =>
    (
      await db
        .insertInto('movies')
        .values({
          library_id: libraryId,
          path: path.join(root, folder),
          title,
          video_file: `${folder}.mkv`,
          status: 'present',
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  const movieIds = {
    heat: await movie('Heat', 'Heat (1995)'),
    alien: await movie('Alien', 'Alien (1979)'),
    up: await movie('Up', 'Up (2009)'),
  };
  await db
    .insertInto('movie_published_files')
    .values({
      movie_id: movieIds.heat,
      file: 'Heat (1995).nfo',
      kind: 'nfo',
      content_hash: 'h',
      published_at: new Date(Date.now() - 3600_000),
    })
    .execute();
  return { libraryId, root, movieIds };
}

/** Runs every notify-group job the audit queued, as a worker would. */
async function runRepairs(db: Db, auditJobId: string): Promise<number> {
  const jobs = await childJobs(db, auditJobId, 'notify-group');
  for (const j of jobs) await handleNotifyGroup(ctxFor('notify-group', j.payload as never, 7), deps);
  return jobs.length;
}

const file = (type: keyof typeof PLAYER_ROOT, folder: string) =>
  `${PLAYER_ROOT[type].replace(/\/$/, '')}/${folder}/${folder}.mkv`;

t.test('Kodi: missing, gone and duplicate are found and repaired; stale cannot be judged', async (t) => {
  const fx = await library(t);
  const kodi = await startFakeKodi({ toLocal: mappedRoot(PLAYER_ROOT.kodi, fx.root) });
  t.teardown(() => kodi.close());
  kodi.addMovie(file('kodi', 'Heat (1995)'), 'Heat');
  const alien = kodi.addMovie(file('kodi', 'Alien (1979)'), 'Alien');
  const alienAgain = kodi.addMovie(file('kodi', 'Alien (1979)'), 'Alien');
  const old = kodi.addMovie(file('kodi', 'Old (2000)'), 'Old');
  kodi.addMovie('smb://nas/tv/Show/Show S01E01.mkv', 'Show');
  const { groupId, playerIds } = await insertGroup(db, {
    type: 'kodi',
    cleanAfterDelete: true,
    libraryIds: [fx.libraryId],
    mappings: [{ from: fx.root, to: PLAYER_ROOT.kodi }],
    players: [{ url: kodi.url }],
  });
  const playerId = playerIds[0] as number;

  const out = await handleAuditPlayer(ctxFor('audit-player', { playerId }), deps);
  t.match(out, {
    playerItems: 5,
    matched: 3,
    outside: 1,
    missing: 1,
    gone: 1,
    duplicate: 1,
    stale: 0,
    staleChecked: false,
    notes: [/stale not checked: Kodi does not say when a movie was last refreshed/],
  });
  const audit = await lastPlayerAudit(db, playerId);
  t.match(audit, { status: 'done', counts: { missing: 1, gone: 1, duplicate: 1, stale: 0 } });
  const { findings } = await playerAuditFindings(db, audit!.id, { limit: 10, offset: 0 });
  t.match(findings.map((f) => [f.kind, f.movieId, f.itemId, f.playerPath]).sort(), [
    ['duplicate', fx.movieIds.alien, String(alienAgain.movieid), alienAgain.file],
    ['gone', null, String(old.movieid), old.file],
    ['missing', fx.movieIds.up, null, null],
  ]);
  t.equal(findings.find((f) => f.kind === 'duplicate')?.keepItemId, String(alien.movieid));

  const repairCtx = ctxFor('audit-player', { playerId, repair: true });
  const repaired = await handleAuditPlayer(repairCtx, deps);
  t.match(repaired, { repair: { queued: 2, removed: 1, notRepaired: {} } });
  t.same(
    (await childJobs(db, repairCtx.id, 'notify-group')).map((j) => [j.payload['change'], j.priority]).sort(),
    [
      ['created', 7],
      ['deleted', 7],
    ],
  );
  t.equal(await runRepairs(db, repairCtx.id), 2);
  t.notOk(kodi.movies.has(alienAgain.movieid), 'the duplicate entry is removed (VideoLibrary.RemoveMovie)');
  t.notOk(kodi.movies.has(old.movieid), 'the gone item was cleaned');
  t.ok(
    [...kodi.movies.values()].some((m) => m.file === file('kodi', 'Up (2009)')),
    'the missing movie was scanned in',
  );

  const again = await handleAuditPlayer(ctxFor('audit-player', { playerId }), deps);
  t.match(again, { missing: 0, gone: 0, duplicate: 0, stale: 0, matched: 3 }, 'no drift is left');
  t.same(
    (await db.selectFrom('player_audits').select('id').where('player_id', '=', playerId).execute()).length,
    2,
    'the latest audit and the one before are kept',
  );
  void groupId;
});

t.test('Kodi: with cleanAfterDelete off a gone item is reported, not cleaned', async (t) => {
  const fx = await library(t);
  const kodi = await startFakeKodi({ toLocal: mappedRoot(PLAYER_ROOT.kodi, fx.root) });
  t.teardown(() => kodi.close());
  for (const f of ['Heat (1995)', 'Alien (1979)', 'Up (2009)', 'Old (2000)']) kodi.addMovie(file('kodi', f));
  const { playerIds } = await insertGroup(db, {
    type: 'kodi',
    libraryIds: [fx.libraryId],
    mappings: [{ from: fx.root, to: PLAYER_ROOT.kodi }],
    players: [{ url: kodi.url }],
  });
  const ctx = ctxFor('audit-player', { playerId: playerIds[0] as number, repair: true });
  t.match(await handleAuditPlayer(ctx, deps), {
    gone: 1,
    repair: { queued: 0, notRepaired: { gone: { count: 1, reason: /cleanAfterDelete is off/ } } },
  });
  t.same(await childJobs(db, ctx.id, 'notify-group'), []);
});

t.test('Jellyfin: missing and gone are repaired; a duplicate is reported as not removable', async (t) => {
  const fx = await library(t);
  const jf = await startFakeJellyfin({ toLocal: mappedRoot(PLAYER_ROOT.jellyfin, fx.root) });
  t.teardown(() => jf.close());
  jf.addItem({ name: 'Heat', path: file('jellyfin', 'Heat (1995)') });
  jf.addItem({ name: 'Alien', path: file('jellyfin', 'Alien (1979)') });
  const extra = jf.addItem({ name: 'Alien', path: file('jellyfin', 'Alien (1979)') });
  const old = jf.addItem({ name: 'Old', path: file('jellyfin', 'Old (2000)') });
  const { playerIds } = await insertGroup(db, {
    type: 'jellyfin',
    libraryIds: [fx.libraryId],
    mappings: [{ from: fx.root, to: PLAYER_ROOT.jellyfin }],
    players: [{ url: jf.url, apiKey: jf.apiKey }],
  });
  const playerId = playerIds[0] as number;

  t.match(await handleAuditPlayer(ctxFor('audit-player', { playerId }), deps), {
    playerItems: 4,
    missing: 1,
    gone: 1,
    duplicate: 1,
    stale: 0,
    staleChecked: false,
    notes: [/stale not checked: Jellyfin\/Emby items carry no date/],
  });
  const repairCtx = ctxFor('audit-player', { playerId, repair: true });
  t.match(await handleAuditPlayer(repairCtx, deps), {
    repair: {
      queued: 2,
      removed: 0,
      notRepaired: { duplicate: { count: 1, reason: /can only delete an item together with its files/ } },
    },
  });
  await runRepairs(db, repairCtx.id);
  t.notOk(jf.items.has(old.Id), 'the gone item was dropped (a Deleted media update)');
  t.ok(jf.items.has(extra.Id), 'the duplicate stays: Metarr never deletes files');

  const again = await handleAuditPlayer(ctxFor('audit-player', { playerId }), deps);
  t.match(again, { missing: 0, gone: 0, duplicate: 1, stale: 0 }, 'only the duplicate is left');
});

t.test('Emby is read as Jellyfin is, under /emby', async (t) => {
  const fx = await library(t);
  const emby = await startFakeJellyfin({ toLocal: mappedRoot(PLAYER_ROOT.jellyfin, fx.root) });
  t.teardown(() => emby.close());
  for (const f of ['Heat (1995)', 'Alien (1979)', 'Old (2000)'])
    emby.addItem({ name: f, path: file('jellyfin', f) });
  const { playerIds } = await insertGroup(db, {
    type: 'emby',
    libraryIds: [fx.libraryId],
    mappings: [{ from: fx.root, to: PLAYER_ROOT.jellyfin }],
    players: [{ url: emby.url, apiKey: emby.apiKey }],
  });
  t.match(await handleAuditPlayer(ctxFor('audit-player', { playerId: playerIds[0] as number }), deps), {
    playerItems: 3,
    matched: 2,
    missing: 1,
    gone: 1,
    duplicate: 0,
  });
  t.same(
    emby.calls.filter((c) => c.path === '/Items').map((c) => c.flavor),
    ['emby'],
  );
});

t.test('Plex: missing, gone, duplicate and stale are found and repaired', async (t) => {
  const fx = await library(t);
  const plex = await startFakePlex({ toLocal: mappedRoot(PLAYER_ROOT.plex, fx.root) });
  t.teardown(() => plex.close());
  const dayAgo = Math.floor(Date.now() / 1000) - 86_400;
  const heat = plex.addMovie({ title: 'Heat', file: file('plex', 'Heat (1995)'), updatedAt: dayAgo });
  plex.addMovie({ title: 'Alien', file: file('plex', 'Alien (1979)') });
  const extra = plex.addMovie({ title: 'Alien', file: file('plex', 'Alien (1979)') });
  plex.addMovie({ title: 'Old', file: file('plex', 'Old (2000)') });
  const { playerIds } = await insertGroup(db, {
    type: 'plex',
    libraryIds: [fx.libraryId],
    mappings: [{ from: fx.root, to: PLAYER_ROOT.plex }],
    players: [{ url: plex.url, apiKey: plex.token }],
  });
  const playerId = playerIds[0] as number;

  const out = await handleAuditPlayer(ctxFor('audit-player', { playerId }), deps);
  t.match(out, { playerItems: 4, missing: 1, gone: 1, duplicate: 1, stale: 1, staleChecked: true });
  t.notOk((out as { notes?: unknown }).notes, 'nothing to note');
  const audit = await lastPlayerAudit(db, playerId);
  const { findings } = await playerAuditFindings(db, audit!.id, { kind: 'stale', limit: 10, offset: 0 });
  t.match(findings, [{ kind: 'stale', movieId: fx.movieIds.heat, itemId: heat.ratingKey }]);

  const repairCtx = ctxFor('audit-player', { playerId, repair: true });
  t.match(await handleAuditPlayer(repairCtx, deps), { repair: { queued: 3, removed: 1, notRepaired: {} } });
  t.same(plex.merges, [{ key: String(Number(extra.ratingKey) - 1), ids: [extra.ratingKey] }], 'merged');
  await runRepairs(db, repairCtx.id);
  t.same(plex.itemRefreshes, [heat.ratingKey], 'the stale item was refreshed');

  const again = await handleAuditPlayer(ctxFor('audit-player', { playerId }), deps);
  t.match(again, { missing: 0, gone: 0, duplicate: 0, stale: 0, matched: 3 }, 'no drift is left');
});

t.test('a library bigger than one page is read in pages of at most 500 items', async (t) => {
  const fx = await library(t);
  const kodi = await startFakeKodi();
  const jf = await startFakeJellyfin();
  const plex = await startFakePlex();
  t.teardown(() => Promise.all([kodi.close(), jf.close(), plex.close()]));
  for (let i = 0; i < 1100; i++) {
    const folder = `Gone ${i} (2000)`;
    kodi.addMovie(file('kodi', folder));
    jf.addItem({ name: folder, path: file('jellyfin', folder) });
    plex.addMovie({ title: folder, file: file('plex', folder) });
  }
  const audit = async (type: keyof typeof PLAYER_ROOT, player: { url: string; apiKey?: string }) => {
    const { playerIds } = await insertGroup(db, {
      type,
      libraryIds: [fx.libraryId],
      mappings: [{ from: fx.root, to: PLAYER_ROOT[type] }],
      players: [player],
    });
    return handleAuditPlayer(ctxFor('audit-player', { playerId: playerIds[0] as number }), deps);
  };

  t.match(await audit('kodi', { url: kodi.url }), { playerItems: 1100, gone: 1100, missing: 3 });
  const limits = kodi.calls
    .filter((c) => c.method === 'VideoLibrary.GetMovies')
    .map((c) => (c.params as { limits: { start: number; end: number } }).limits);
  t.same(limits, [
    { start: 0, end: 500 },
    { start: 500, end: 1000 },
    { start: 1000, end: 1500 },
  ]);

  t.match(await audit('jellyfin', { url: jf.url, apiKey: jf.apiKey }), { playerItems: 1100, gone: 1100 });
  t.same(
    jf.calls.filter((c) => c.path === '/Items').map((c) => [c.query['StartIndex'], c.query['Limit']]),
    [
      ['0', '500'],
      ['500', '500'],
      ['1000', '500'],
    ],
  );

  t.match(await audit('plex', { url: plex.url, apiKey: plex.token }), { playerItems: 1100, gone: 1100 });
  t.same(
    plex.calls
      .filter((c) => c.path === '/library/sections/1/all')
      .map((c) => [c.headers['x-plex-container-start'], c.headers['x-plex-container-size']]),
    [
      ['0', '500'],
      ['500', '500'],
      ['1000', '500'],
    ],
  );
  const count = await db
    .selectFrom('player_audit_items')
    .select((eb) => eb.fn.countAll().as('n'))
    .execute();
  t.same(count, [{ n: '0' }], 'the scratch rows are gone once an audit ends');
});

t.test('a player that no longer exists is skipped; a group without movie libraries too', async (t) => {
  t.same(await handleAuditPlayer(ctxFor('audit-player', { playerId: 99999 }), deps), {
    skipped: 'player 99999 no longer exists',
  });
  const { playerIds } = await insertGroup(db, {
    type: 'kodi',
    libraryIds: [],
    players: [{ url: 'http://127.0.0.1:9' }],
  });
  t.match(await handleAuditPlayer(ctxFor('audit-player', { playerId: playerIds[0] as number }), deps), {
    skipped: /is linked to no movie library/,
  });
});

t.test('an unreachable player fails the job retryably and the audit is marked failed', async (t) => {
  const fx = await library(t);
  const { playerIds } = await insertGroup(db, {
    type: 'kodi',
    libraryIds: [fx.libraryId],
    players: [{ url: 'http://127.0.0.1:9' }],
  });
  const playerId = playerIds[0] as number;
  await t.rejects(handleAuditPlayer(ctxFor('audit-player', { playerId }), deps), {
    code: /^PLAYER_/,
    retryable: true,
  });
  t.match(await lastPlayerAudit(db, playerId), { status: 'failed', error: /./ });
});
