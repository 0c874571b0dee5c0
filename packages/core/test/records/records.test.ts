import t from 'tap';
import Type from 'typebox';
import { listDeliveries, recordUnqueuedDelivery } from '../../src/records/deliveries.ts';
import {
  createLibrary,
  deleteLibrary,
  listLibraries,
  missingLibraries,
  updateLibrary,
} from '../../src/records/libraries.ts';
import { listMovieLocks, setMovieLock } from '../../src/records/movies.ts';
import {
  getPlayerGroup,
  groupSettings,
  insertPlayerGroup,
  PLAYER_GROUP_DEFAULTS,
  replaceGroupLinks,
  updatePlayerGroup,
} from '../../src/records/playerGroups.ts';
import { createPlayer, PLAYER_DEFAULTS, updatePlayer } from '../../src/records/players.ts';
import { compileSchema } from '../../src/schema.ts';
import { loadGroupsForLibrary } from '../../src/services/resolve.ts';
import { readProviderSettings, writeProviderKeys } from '../../src/services/settings.ts';
import { migratedTestDb } from '../support/db.ts';

const db = await migratedTestDb(t);

t.test(
  'libraries: created, changed, listed in id order, deleted; unknown ids reported in order',
  async (t) => {
    const a = await createLibrary(db, { name: 'Movies', type: 'movie', path: '/m' });
    const b = await createLibrary(db, { name: 'TV', type: 'tv', path: '/tv' });
    t.match(a, { name: 'Movies', type: 'movie', path: '/m' });
    t.type(a.createdAt, Date);
    t.same((await updateLibrary(db, b.id, { name: 'Series' }))?.name, 'Series');
    t.equal(await updateLibrary(db, 9999, { name: 'x' }), undefined, 'no such library');
    t.same(
      (await listLibraries(db)).map((l) => l.id),
      [a.id, b.id],
    );
    t.same(await missingLibraries(db, [9998, a.id, 9997]), [9998, 9997]);
    t.same(await missingLibraries(db, []), []);
    t.equal(await deleteLibrary(db, b.id), true);
    t.equal(await deleteLibrary(db, b.id), false, 'already gone');
  },
);

t.test(
  'a player group left without settings gets PLAYER_GROUP_DEFAULTS, the same as the database defaults',
  async (t) => {
    const id = await insertPlayerGroup(db, { name: 'Defaults', type: 'kodi' });
    const g = await getPlayerGroup(db, id);
    t.match(g, { ...PLAYER_GROUP_DEFAULTS, libraryIds: [], pathMappings: [] });

    // A row written with only what the table requires: its column defaults must agree with the code's.
    const raw = await db
      .insertInto('player_groups')
      .values({ name: 'Raw', type: 'kodi', shared_library: PLAYER_GROUP_DEFAULTS.sharedLibrary })
      .returningAll()
      .executeTakeFirstOrThrow();
    t.same(groupSettings(raw), PLAYER_GROUP_DEFAULTS);
  },
);

t.test('group links: each list is replaced only when given', async (t) => {
  const lib = await createLibrary(db, { name: 'Links', type: 'movie', path: '/links' });
  const id = await insertPlayerGroup(db, { name: 'Links', type: 'jellyfin', debounceSeconds: 0 });
  await replaceGroupLinks(db, id, {
    libraryIds: [lib.id, lib.id],
    pathMappings: [{ from: '/links', to: 'smb://nas/links/' }],
  });
  t.match(await getPlayerGroup(db, id), {
    debounceSeconds: 0,
    libraryIds: [lib.id],
    pathMappings: [{ from: '/links', to: 'smb://nas/links/' }],
  });
  await replaceGroupLinks(db, id, { pathMappings: [] });
  t.match(await getPlayerGroup(db, id), { libraryIds: [lib.id], pathMappings: [] }, 'libraries kept');
  t.equal(await updatePlayerGroup(db, id, { cleanAfterDelete: true }), true);
  t.equal((await getPlayerGroup(db, id))?.cleanAfterDelete, true);
  t.equal(await updatePlayerGroup(db, 9999, { name: 'x' }), false, 'no such group');
  t.equal(await updatePlayerGroup(db, id, {}), true, 'nothing to change, but the group exists');
});

t.test('players: defaults on create; the notifier sees the same record, enabled players only', async (t) => {
  const lib = await createLibrary(db, { name: 'Players', type: 'movie', path: '/players' });
  const groupId = await insertPlayerGroup(db, { name: 'Players', type: 'kodi' });
  await replaceGroupLinks(db, groupId, { libraryIds: [lib.id] });
  const p = await createPlayer(db, {
    groupId,
    name: 'Kodi',
    type: 'kodi',
    host: 'k',
    port: 8080,
    password: 's',
  });
  t.match(p, { ...PLAYER_DEFAULTS, username: null, password: 's', apiKey: null });
  const off = await createPlayer(db, {
    groupId,
    name: 'Off',
    type: 'kodi',
    host: 'o',
    port: 1,
    enabled: false,
  });
  t.equal((await updatePlayer(db, off.id, { port: 2 }))?.port, 2);
  const [group] = await loadGroupsForLibrary(db, lib.id);
  t.same(group?.players, [p], 'the one record shape, secrets included for the client');
});

t.test('movie locks: locking twice keeps one, unlocking removes it, listed sorted', async (t) => {
  const lib = await createLibrary(db, { name: 'Locks', type: 'movie', path: '/locks' });
  const m = await db
    .insertInto('movies')
    .values({ library_id: lib.id, path: '/locks/A' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await setMovieLock(db, m.id, 'title', true);
  await setMovieLock(db, m.id, 'title', true);
  await setMovieLock(db, m.id, 'plot', true);
  t.same(await listMovieLocks(db, m.id), ['plot', 'title']);
  await setMovieLock(db, m.id, 'plot', false);
  t.same(await listMovieLocks(db, m.id), ['title']);
});

t.test('deliveries without a job are stored and listed newest first, filtered', async (t) => {
  const base = { instanceName: null, body: '{}' } as const;
  await recordUnqueuedDelivery(db, {
    ...base,
    source: 'radarr',
    eventType: 'Test',
    status: 'test',
    outcome: 'test received',
  });
  await recordUnqueuedDelivery(db, {
    ...base,
    source: 'sonarr',
    eventType: 'Grab',
    status: 'ignored',
    outcome: 'why',
  });
  const all = await listDeliveries(db, { limit: 10, offset: 0 });
  t.same(
    all.map((d) => [d.source, d.eventType, d.status, d.jobId]),
    [
      ['sonarr', 'Grab', 'ignored', null],
      ['radarr', 'Test', 'test', null],
    ],
  );
  t.same(
    (await listDeliveries(db, { status: 'test', limit: 10, offset: 0 })).map((d) => d.eventType),
    ['Test'],
  );
});

t.test('provider keys: a string stores, null removes, a missing field is untouched', async (t) => {
  await writeProviderKeys(db, { tmdbApiKey: 'tmdb-key-1', fanartApiKey: 'fanart-key-1' });
  await writeProviderKeys(db, { tmdbApiKey: 'tmdb-key-2' });
  t.match(await readProviderSettings(db, {}), { tmdbApiKey: 'tmdb-key-2', fanartApiKey: 'fanart-key-1' });
  await writeProviderKeys(db, { fanartApiKey: null });
  t.match(await readProviderSettings(db, {}), { tmdbApiKey: 'tmdb-key-2', fanartApiKey: undefined });
});

t.test('an enum names its allowed values, like a union of literals does', async (t) => {
  const check = compileSchema(
    Type.Object({ e: Type.Enum(['a', 'b']), u: Type.Union([Type.Literal('a'), Type.Literal('b')]) }),
  );
  t.same(check.errors({ e: 'c', u: 'a' }), [{ path: '/e', message: 'must be one of "a", "b"' }]);
  t.same(check.errors({ e: 'a', u: 'c' }), [{ path: '/u', message: 'must be one of "a", "b"' }]);
});
