import fs from 'node:fs/promises';
import path from 'node:path';
import { theMatrix } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { createDb } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/log.ts';
import { discoverMovieAssets } from '../../src/services/discover.ts';
import { metadataFromTmdb } from '../../src/services/enrich.ts';
import { libraryGuardedFs, type PublishFs, publishMovie } from '../../src/services/publish.ts';

/** A library with one scanned and discovered movie folder, and a folder outside the library. */
async function setup(t: Pick<typeof tap, 'teardown' | 'testdir'>) {
  const database = await createTestDatabase();
  const { db, close } = createDb(database.url);
  t.teardown(async () => {
    await close();
    await database.drop();
  });
  await migrateToLatest(db, silentLogger);
  const dir = t.testdir({ library: { Victim: { 'Victim (2000).mkv': 'video' } }, outside: {} });
  const root = path.join(dir, 'library');
  const folder = path.join(root, 'Victim');
  const outside = path.join(dir, 'outside');
  const lib = await db
    .insertInto('libraries')
    .values({ name: 'm', type: 'movie', path: root })
    .returning('id')
    .executeTakeFirstOrThrow();
  const { id } = await db
    .insertInto('movies')
    .values({ library_id: lib.id, path: folder, tmdb_id: 603 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const meta = metadataFromTmdb(theMatrix() as never, { country: 'US', imageBaseUrl: 'http://127.0.0.1:1' });
  await db
    .insertInto('movie_metadata')
    .values({ movie_id: id, data: JSON.stringify(meta) })
    .execute();
  await discoverMovieAssets({ db, log: silentLogger }, id);
  const download = async () => {
    throw new Error('no downloads in this test');
  };
  /** The movie folder becomes a symlink to the folder outside the library. */
  const swap = async () => {
    await fs.rename(folder, path.join(root, '.moved'));
    await fs.symlink(outside, folder);
  };
  return { db, id, root, folder, outside, download, swap };
}
const tap = t;

t.test(
  'a movie folder replaced by a symlink after the scan: UNSAFE_PATH, nothing written outside',
  async (t) => {
    const s = await setup(t);
    await s.swap();
    await t.rejects(publishMovie({ db: s.db, log: silentLogger, download: s.download }, s.id), {
      code: 'UNSAFE_PATH',
      retryable: false,
    });
    t.same(await fs.readdir(s.outside), [], 'the symlink target is untouched');
    const rows = await s.db
      .selectFrom('movie_published_files')
      .selectAll()
      .where('movie_id', '=', s.id)
      .execute();
    t.same(rows, [], 'nothing recorded as published');
  },
);

t.test('a symlink swapped in during the publish: the next write is refused', async (t) => {
  const s = await setup(t);
  await fs.writeFile(path.join(s.outside, 'keep.txt'), 'x');
  let swapped = false;
  // The folder is swapped for the link right after the first temp file is created, before its rename.
  const racing: PublishFs = {
    ...fs,
    open: (async (file: string, flags: string, mode?: number) => {
      const fh = await fs.open(file, flags, mode);
      if (flags === 'wx' && !swapped) {
        swapped = true;
        await s.swap();
      }
      return fh;
    }) as PublishFs['open'],
  };
  await t.rejects(publishMovie({ db: s.db, log: silentLogger, download: s.download, fs: racing }, s.id), {
    code: 'UNSAFE_PATH',
  });
  t.ok(swapped);
  t.same(await fs.readdir(s.outside), ['keep.txt'], 'no file renamed into or removed from the target');
});

t.test('a library whose root is itself a symlink still publishes inside it', async (t) => {
  const s = await setup(t);
  const linkRoot = `${s.root}-link`;
  await fs.symlink(s.root, linkRoot);
  await s.db.updateTable('libraries').set({ path: linkRoot }).execute();
  await s.db
    .updateTable('movies')
    .set({ path: path.join(linkRoot, 'Victim') })
    .execute();
  const r = await publishMovie({ db: s.db, log: silentLogger, download: s.download }, s.id);
  t.same(r.written, ['Victim (2000).nfo']);
});

t.test('the guarded file system refuses every mutation whose folder leads outside the library', async (t) => {
  const dir = t.testdir({ library: { In: { 'a.nfo': 'in' } }, outside: { 'b.nfo': 'out', sub: {} } });
  const root = path.join(dir, 'library');
  await fs.symlink(path.join(dir, 'outside'), path.join(root, 'Link'));
  const g = libraryGuardedFs(fs, root);
  const link = (f: string) => path.join(root, 'Link', f);
  const unsafe = { code: 'UNSAFE_PATH', retryable: false };
  await t.rejects(g.unlink(link('b.nfo')), unsafe, 'delete');
  await t.rejects(g.open(link('.b.nfo.metarr-tmp-00'), 'wx'), unsafe, 'create');
  await t.rejects(g.mkdir(link('sub/new')), unsafe, 'mkdir');
  await t.rejects(g.rename(path.join(root, 'In', 'a.nfo'), link('a.nfo')), unsafe, 'rename into');
  await t.rejects(g.rename(link('b.nfo'), path.join(root, 'In', 'b.nfo')), unsafe, 'rename out of');
  t.same((await fs.readdir(path.join(dir, 'outside'))).sort(), ['b.nfo', 'sub'], 'outside untouched');
  t.same(await fs.readdir(path.join(dir, 'outside', 'sub')), []);
  t.equal(String(await g.readFile(path.join(root, 'In', 'a.nfo'))), 'in', 'reads and writes inside work');
  await g.unlink(path.join(root, 'In', 'a.nfo'));
  t.same(await fs.readdir(path.join(root, 'In')), []);
});
