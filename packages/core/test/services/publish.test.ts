import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { snapshotFiles, startFakeTmdb, theMatrix } from '@metarr/testkit';
import { createTestDatabase } from '@metarr/testkit/db';
import t from 'tap';
import { DEFAULT_IMAGE_POLICY, downloadImage } from '../../src/clients/images.ts';
import { createDb } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { AppError } from '../../src/errors.ts';
import { parseMovieNfo } from '../../src/files/nfo.ts';
import { silentLogger } from '../../src/log.ts';
import { classifyMovieFolder, discoverMovieAssets } from '../../src/services/discover.ts';
import { metadataFromTmdb } from '../../src/services/enrich.ts';
import { DISK_FULL_RETRY_SECONDS, type PublishFs, publishMovie } from '../../src/services/publish.ts';
import { selectMovieAssets } from '../../src/services/select.ts';

type TestT = Pick<typeof t, 'teardown' | 'testdir'>;

/**
 * A real database and the fake TMDB image host; each movie gets its own folder with `M.mkv`, the
 * Matrix metadata and a fixed set of artwork candidates. `pipeline` runs what the worker chain runs
 * from discover-assets on: discover → select → publish (with an optional file system).
 */
async function setup(t: TestT) {
  const database = await createTestDatabase();
  const { db, close } = createDb(database.url);
  const tmdb = await startFakeTmdb();
  t.teardown(async () => {
    await close();
    await database.drop();
    await tmdb.close();
  });
  await migrateToLatest(db, silentLogger);
  const root = t.testdir({});
  const lib = await db
    .insertInto('libraries')
    .values({ name: 'm', type: 'movie', path: root })
    .returning('id')
    .executeTakeFirstOrThrow();
  const policy = { ...DEFAULT_IMAGE_POLICY, allowedHosts: [new URL(tmdb.imageUrl).host] };
  const download = (url: string) => downloadImage(url, policy);
  const img = (name: string) => `${tmdb.imageUrl}/original/${name}`;
  let n = 0;
  const movie = async (files: Record<string, string> = {}) => {
    const folder = path.join(root, `Movie ${++n}`);
    await fs.mkdir(folder);
    await fs.writeFile(path.join(folder, 'M.mkv'), 'video');
    for (const [f, body] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(folder, f)), { recursive: true });
      await fs.writeFile(path.join(folder, f), body);
    }
    const { id } = await db
      .insertInto('movies')
      .values({ library_id: lib.id, path: folder, tmdb_id: 603 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const meta = metadataFromTmdb(theMatrix() as never, { country: 'US', imageBaseUrl: tmdb.imageUrl });
    await db
      .insertInto('movie_metadata')
      .values({ movie_id: id, data: JSON.stringify(meta) })
      .execute();
    await candidates(id, [
      ['poster', img('603-poster-a-en-1000x1500.jpg'), 50],
      ['poster', img('603-poster-b-en-1000x1500.jpg'), 10],
      ['fanart', img('603-backdrop-a-1920x1080.jpg'), 50],
      ['fanart', img('603-backdrop-b-1920x1080.jpg'), 40],
      ['fanart', img('603-backdrop-c-1920x1080.jpg'), 30],
      ['clearlogo', img('603-logo-en-800x310.png'), 5],
    ]);
    return { id, folder };
  };
  const candidates = async (movieId: number, list: [string, string, number][]) => {
    for (const [type, url, votes] of list) {
      const m = /(\d+)x(\d+)\.\w+$/.exec(url);
      await db
        .insertInto('movie_asset_candidates')
        .values({
          movie_id: movieId,
          type,
          provider: 'tmdb',
          url,
          language: type === 'fanart' ? null : 'en',
          width: Number(m?.[1]),
          height: Number(m?.[2]),
          votes,
        })
        .execute();
    }
  };
  const pipeline = async (movieId: number, publishFs?: PublishFs, dl = download) => {
    await discoverMovieAssets({ db, log: silentLogger }, movieId);
    await selectMovieAssets({ db, log: silentLogger }, movieId, {
      language: 'en',
      limits: { extrafanart: 2 },
    });
    return publishMovie(
      { db, log: silentLogger, download: dl, ...(publishFs && { fs: publishFs }) },
      movieId,
    );
  };
  /** Changes the stored metadata, so the next publish has a new NFO to write. */
  const setTagline = async (movieId: number, tagline: string) => {
    const meta = await db
      .selectFrom('movie_metadata')
      .select('data')
      .where('movie_id', '=', movieId)
      .executeTakeFirstOrThrow();
    await db
      .updateTable('movie_metadata')
      .set({ data: JSON.stringify({ ...(meta.data as object), tagline }) })
      .where('movie_id', '=', movieId)
      .execute();
  };
  return { db, tmdb, root, movie, candidates, pipeline, img, setTagline, download };
}

const tempFiles = (snap: Record<string, string>) =>
  Object.keys(snap).filter((f) => f.includes('.metarr-tmp-'));

const killed = { message: /^killed/ };
class Crash extends Error {}

/**
 * A file system that "dies" (like kill -9) right before its `at`-th mutating call (open for
 * writing, rename, unlink, mkdir): that call and every later one throw, so nothing cleans up.
 */
function crashingFs(at: number): PublishFs & { calls: () => number; crashed: () => boolean } {
  let calls = 0;
  let dead = false;
  const step = () => {
    if (dead || calls++ === at) {
      dead = true;
      throw new Crash('killed');
    }
  };
  const guard = () => {
    if (dead) throw new Crash('killed');
  };
  return {
    calls: () => calls,
    crashed: () => dead,
    readFile: (async (...a: Parameters<typeof fs.readFile>) => {
      guard();
      return fs.readFile(...a);
    }) as typeof fs.readFile,
    readdir: (async (...a: Parameters<typeof fs.readdir>) => {
      guard();
      return fs.readdir(...a);
    }) as typeof fs.readdir,
    lstat: (async (...a: Parameters<typeof fs.lstat>) => {
      guard();
      return fs.lstat(...a);
    }) as typeof fs.lstat,
    open: async (file, flags, mode) => {
      if (flags === 'r') guard();
      else step();
      const fh = await fs.open(file, flags, mode);
      return new Proxy(fh, {
        get(target, prop, recv) {
          const v = Reflect.get(target, prop, recv);
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            guard();
            return v.apply(target, args);
          };
        },
      });
    },
    rename: async (a, b) => {
      step();
      return fs.rename(a, b);
    },
    unlink: async (a) => {
      step();
      return fs.unlink(a);
    },
    mkdir: (async (...a: Parameters<typeof fs.mkdir>) => {
      step();
      return fs.mkdir(...a);
    }) as typeof fs.mkdir,
  };
}

/** The real file system with one kind of call failing with an errno `code`. */
/** Dies (like kill -9) at its first temp-file open: after the write-ahead record, before any write. */
function diesAtFirstTempFile(): PublishFs & { rearm(): void } {
  let opens = 0;
  return {
    ...crashingFs(Number.POSITIVE_INFINITY),
    open: async (file, flags, mode) => {
      if (flags === 'wx' && opens++ === 0) throw new Crash('killed before the first temp file');
      return fs.open(file, flags, mode);
    },
    rearm: () => {
      opens = 0;
    },
  };
}

function failingFs(code: string, where: 'open' | 'write' | 'rename'): PublishFs & { hits: () => number } {
  let hits = 0;
  const errno = () => Object.assign(new Error(`${code}: simulated`), { code });
  return {
    hits: () => hits,
    readFile: fs.readFile,
    readdir: fs.readdir,
    lstat: fs.lstat,
    unlink: fs.unlink,
    mkdir: fs.mkdir,
    open: async (file, flags, mode) => {
      const tmp = String(file).includes('.metarr-tmp-');
      if (tmp && where === 'open') {
        hits++;
        throw errno();
      }
      const fh = await fs.open(file, flags, mode);
      if (!tmp || where !== 'write') return fh;
      // The disk fills up halfway through the temp file.
      return new Proxy(fh, {
        get(target, prop, recv) {
          if (prop === 'writeFile')
            return async (b: Buffer) => {
              await target.writeFile(b.subarray(0, Math.floor(b.length / 2)));
              hits++;
              throw errno();
            };
          const v = Reflect.get(target, prop, recv);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
    rename: async (a, b) => {
      if (where === 'rename') {
        hits++;
        throw errno();
      }
      return fs.rename(a, b);
    },
  };
}

t.test(
  'downloads the selected artwork together, at most 4 at once, and still places it in rank order',
  async (t) => {
    const s = await setup(t);
    const m = await s.movie();
    let inFlight = 0;
    let peak = 0;
    const slow = async (url: string) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 40));
      try {
        return await s.download(url);
      } finally {
        inFlight--;
      }
    };
    const r = await s.pipeline(m.id, undefined, slow);
    t.ok(peak > 1, `downloads overlapped (peak ${peak})`);
    t.ok(peak <= 4, `never more than 4 at once (peak ${peak})`);
    const sources = await s.db
      .selectFrom('movie_published_files')
      .select(['file', 'source_url'])
      .where('movie_id', '=', m.id)
      .execute();
    const from = Object.fromEntries(sources.map((x) => [x.file, x.source_url]));
    t.equal(from['M-poster.jpg'], s.img('603-poster-a-en-1000x1500.jpg'), 'the best poster is the poster');
    t.equal(from['M-fanart.jpg'], s.img('603-backdrop-a-1920x1080.jpg'), 'the best backdrop is the fanart');
    t.equal(
      from['extrafanart/fanart1.jpg'],
      s.img('603-backdrop-b-1920x1080.jpg'),
      'the next is extrafanart 1',
    );
    t.equal(from['extrafanart/fanart2.jpg'], s.img('603-backdrop-c-1920x1080.jpg'));
    t.ok(r.written.includes('M-clearlogo.png'));
  },
);

t.test(
  'temp-file cleanup: stale *.metarr-tmp-* files are removed before writing; discover ignores them',
  async (t) => {
    const s = await setup(t);
    const m = await s.movie({
      '.M.nfo.metarr-tmp-0123456789ab': '<movie><title>half writ',
      '.M-poster.jpg.metarr-tmp-a1b2c3d4e5f6': 'half a jpeg',
      'extrafanart/.fanart1.jpg.metarr-tmp-00ff00ff00ff': 'half a jpeg',
      'notes.metarr-tmp-keep.txt': 'not ours: no leading dot and hex suffix',
    });
    const found = await classifyMovieFolder(fs, m.folder);
    t.same(
      found.artwork.map((a) => a.file),
      [],
      'no temp file is taken for artwork',
    );
    t.equal(found.nfo, null, 'a temp NFO is not the NFO');
    t.ok(found.skipped.includes('.M.nfo.metarr-tmp-0123456789ab'));
    t.ok(found.skipped.includes('extrafanart/.fanart1.jpg.metarr-tmp-00ff00ff00ff'));
    t.notOk(found.unknown.some((u) => u.includes('.metarr-tmp-') && u.startsWith('.')));

    const r = await s.pipeline(m.id);
    t.ok(r.written.includes('M.nfo'));
    const after = await snapshotFiles(m.folder);
    t.same(tempFiles(after), ['notes.metarr-tmp-keep.txt'], 'only the look-alike user file is left');
    t.ok(after['extrafanart/fanart1.jpg'], 'extrafanart written after its stale temp file was removed');
  },
);

t.test(
  'killed mid-publish (every crash point): the rerun leaves files and NFO identical to a clean publish',
  async (t) => {
    const s = await setup(t);
    const ref = await s.movie();
    await s.pipeline(ref.id);
    const clean = await snapshotFiles(ref.folder);
    t.ok(clean['M.nfo'] && clean['M-poster.jpg'] && clean['extrafanart/fanart2.jpg'], 'reference published');
    const nfo = await fs.readFile(path.join(ref.folder, 'M.nfo'), 'utf8');
    t.match(nfo, /aspect="poster"/, 'the reference NFO names its poster');

    // Count the clean run's mutating calls, then crash before each one in turn.
    const counter = crashingFs(Number.POSITIVE_INFINITY);
    const probe = await s.movie();
    await s.pipeline(probe.id, counter);
    const total = counter.calls();
    t.ok(total >= 10, `a clean publish makes ${total} mutating calls`);
    for (let at = 0; at < total; at++) {
      const m = await s.movie();
      const fsx = crashingFs(at);
      await t.rejects(s.pipeline(m.id, fsx), killed, `crash before call ${at}`);
      // The retry runs the chain again from discover-assets, as a re-delivered webhook would.
      await s.pipeline(m.id);
      t.same(await snapshotFiles(m.folder), clean, `crash before call ${at}: rerun equals the clean publish`);
    }

    // The specific defect: killed after the images were renamed, before the NFO (and the record).
    const m = await s.movie();
    const nfoCrash: PublishFs = {
      ...crashingFs(Number.POSITIVE_INFINITY),
      rename: async (a, b) => {
        if (String(b).endsWith('.nfo')) throw new Crash('killed before the NFO rename');
        return fs.rename(a, b);
      },
    };
    await t.rejects(s.pipeline(m.id, nfoCrash), killed);
    const ours = await s.db
      .selectFrom('movie_published_files')
      .select(['file', 'pending_hash'])
      .where('movie_id', '=', m.id)
      .execute();
    t.ok(
      ours.some((r) => r.file === 'M-poster.jpg' && r.pending_hash),
      'the poster is recorded (write-ahead) although the publish never finished',
    );
    const retry = await s.pipeline(m.id);
    t.same(retry.skipped, [], 'no download is mistaken for a duplicate of a user image');
    t.same(await snapshotFiles(m.folder), clean);
    const rows = await s.db
      .selectFrom('movie_published_files')
      .select(['file', 'pending_hash'])
      .where('movie_id', '=', m.id)
      .execute();
    t.ok(
      rows.every((r) => r.pending_hash === null),
      'a completed publish leaves no pending entry',
    );
  },
);

t.test(
  'a first publish killed after its write-ahead record: a foreign NFO is not taken for a user edit of ours',
  async (t) => {
    const s = await setup(t);
    // An NFO another tool wrote; Metarr never wrote one here.
    const foreign = '<movie><title>Some Other Title</title><year>1999</year></movie>';
    const ref = await s.movie({ 'M.nfo': foreign });
    await s.pipeline(ref.id);
    const clean = await snapshotFiles(ref.folder);

    const m = await s.movie({ 'M.nfo': foreign });
    const dies = diesAtFirstTempFile();
    await t.rejects(s.pipeline(m.id, dies), killed);
    t.equal(await fs.readFile(path.join(m.folder, 'M.nfo'), 'utf8'), foreign, 'the NFO was not touched');
    const { userEdits } = await discoverMovieAssets({ db: s.db, log: silentLogger }, m.id);
    t.same(userEdits, [], 'nothing adopted: Metarr never wrote the NFO on disk');
    const locks = await s.db
      .selectFrom('movie_field_locks')
      .select('field')
      .where('movie_id', '=', m.id)
      .execute();
    t.same(locks, [], 'no field locked');
    await s.pipeline(m.id);
    t.same(await snapshotFiles(m.folder), clean, 'the retry ends where an uninterrupted publish does');
  },
);

t.test('a recorded write that never happened: unchanged and removal stay safe', async (t) => {
  const s = await setup(t);
  const m = await s.movie();
  await s.pipeline(m.id);
  const first = await snapshotFiles(m.folder);

  // A much better poster appears; the publish that would write it dies before the poster's temp file.
  await s.candidates(m.id, [['poster', s.img('603-poster-z-en-1000x1500.jpg'), 5000]]);
  const dies = diesAtFirstTempFile();
  await t.rejects(s.pipeline(m.id, dies), killed);
  const row = await s.db
    .selectFrom('movie_published_files')
    .selectAll()
    .where('movie_id', '=', m.id)
    .where('file', '=', 'M-poster.jpg')
    .executeTakeFirstOrThrow();
  t.ok(row.pending_hash && row.pending_hash !== row.content_hash, 'planned, never written');
  t.same(await snapshotFiles(m.folder), first, 'nothing changed on disk');

  // The better poster is withdrawn again: the old poster is still ours and unchanged, not re-downloaded.
  await s.db.deleteFrom('movie_asset_candidates').where('url', 'like', '%poster-z%').execute();
  const posterCalls = () => s.tmdb.imageCalls.filter((c) => c.includes('poster-a')).length;
  const before = posterCalls();
  const r = await s.pipeline(m.id);
  t.ok(r.unchanged.includes('M-poster.jpg'), 'the old poster counts as unchanged');
  t.equal(posterCalls(), before, 'and is not downloaded again');
  t.same(await snapshotFiles(m.folder), first);

  // Same interruption, then every poster candidate disappears: the old poster is ours and removed.
  await s.candidates(m.id, [['poster', s.img('603-poster-y-en-1000x1500.jpg'), 5000]]);
  dies.rearm();
  await t.rejects(s.pipeline(m.id, dies), killed);
  await s.db.deleteFrom('movie_asset_candidates').where('type', '=', 'poster').execute();
  const gone = await s.pipeline(m.id);
  t.same(gone.removed, ['M-poster.jpg'], 'the poster Metarr wrote is removed, not left as the user’s');
  t.notOk((await snapshotFiles(m.folder))['M-poster.jpg']);
});

t.test(
  'disk full (ENOSPC) while writing: old files intact, DISK_FULL retryable with a long delay',
  async (t) => {
    const s = await setup(t);
    const m = await s.movie();
    await s.pipeline(m.id);
    const before = await snapshotFiles(m.folder);
    // New NFO text and a new poster, so the next publish has to write.
    await s.candidates(m.id, [['poster', s.img('603-poster-z-en-1000x1500.jpg'), 5000]]);
    await s.setTagline(m.id, 'Changed');
    for (const where of ['write', 'open', 'rename'] as const) {
      const full = failingFs('ENOSPC', where);
      const err = await s.pipeline(m.id, full).then(
        () => null,
        (e: unknown) => e,
      );
      t.ok(full.hits() > 0, `ENOSPC injected at ${where}`);
      t.ok(err instanceof AppError, `${where}: an AppError`);
      t.match(err, { code: 'DISK_FULL', retryable: true, retryAfterSeconds: DISK_FULL_RETRY_SECONDS });
      t.ok(DISK_FULL_RETRY_SECONDS >= 600, 'a long delay');
      t.match((err as Error).message, m.folder, 'the message names the folder');
      t.same(await snapshotFiles(m.folder), before, `${where}: old files intact, no temp file left`);
    }
    const ok = await s.pipeline(m.id);
    t.ok(
      ok.written.includes('M-poster.jpg') && ok.written.includes('M.nfo'),
      'with space again, the retry publishes',
    );
    t.match(await fs.readFile(path.join(m.folder, 'M.nfo'), 'utf8'), '<tagline>Changed</tagline>');
  },
);

t.test(
  'permission errors (EACCES, EPERM, EROFS): old files intact, permanent, actionable message',
  async (t) => {
    const s = await setup(t);
    const m = await s.movie();
    await s.pipeline(m.id);
    const before = await snapshotFiles(m.folder);
    await s.setTagline(m.id, 'Changed');
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      for (const where of ['open', 'rename'] as const) {
        const denied = failingFs(code, where);
        const err = await s.pipeline(m.id, denied).then(
          () => null,
          (e: unknown) => e,
        );
        t.ok(denied.hits() > 0, `${code} injected at ${where}`);
        t.ok(err instanceof AppError);
        t.match(err, { code: 'FOLDER_NOT_WRITABLE', retryable: false });
        const msg = (err as Error).message;
        t.match(msg, `Metarr cannot write to ${m.folder}`, 'names the folder');
        t.match(
          msg,
          code === 'EROFS' ? /mount it read-write/ : /owner and permissions \(PUID\/PGID\)/,
          'says what to do',
        );
        t.same(await snapshotFiles(m.folder), before, `${code} at ${where}: old files intact`);
      }
    }
  },
);

t.test('symlink escape: nothing is written outside the library', async (t) => {
  const s = await setup(t);
  // Outside the library root (which is this test's testdir).
  const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-outside-'));
  t.teardown(() => fs.rm(outside, { recursive: true, force: true }));
  await fs.mkdir(path.join(outside, 'dir'));
  await fs.writeFile(path.join(outside, 'poster.jpg'), 'the outside poster');
  await fs.writeFile(
    path.join(outside, 'nfo.xml'),
    '<movie><title>Outside</title><secret>outside tag</secret></movie>',
  );
  await fs.writeFile(path.join(outside, 'dir', 'fanart1.jpg'), 'outside fanart');
  await fs.writeFile(path.join(outside, 'dir', '.x.metarr-tmp-0123456789ab'), 'looks like a temp file');
  const m = await s.movie();
  await fs.symlink(path.join(outside, 'poster.jpg'), path.join(m.folder, 'M-poster.jpg'));
  await fs.symlink(path.join(outside, 'nfo.xml'), path.join(m.folder, 'M.nfo'));
  await fs.symlink(path.join(outside, 'dir'), path.join(m.folder, 'extrafanart'));
  const outsideBefore = await snapshotFiles(outside);

  const r = await s.pipeline(m.id);
  t.same(await snapshotFiles(outside), outsideBefore, 'nothing outside the library changed');
  t.ok(
    (await fs.lstat(path.join(m.folder, 'M-poster.jpg'))).isFile(),
    'the poster link was replaced by a file',
  );
  t.ok((await fs.lstat(path.join(m.folder, 'M.nfo'))).isFile(), 'the NFO link was replaced by a file');
  const nfo = await fs.readFile(path.join(m.folder, 'M.nfo'), 'utf8');
  t.ok(parseMovieNfo(nfo).ok);
  t.notMatch(nfo, 'outside tag', 'the linked file was not read into the NFO');
  t.ok(
    (await fs.lstat(path.join(m.folder, 'extrafanart'))).isSymbolicLink(),
    'the extrafanart link is left alone',
  );
  t.match(r.skipped, [{ reason: /extrafanart is not a real folder/ }], 'extrafanart slots are skipped');
  t.notOk(r.written.some((f) => f.startsWith('extrafanart/')));
  t.notMatch(nfo, /backdrop-[bc]/, 'the NFO names no extrafanart that was not written');
});
