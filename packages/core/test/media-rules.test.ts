import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../src/log.ts';
import { isJunkEntry, videoRole } from '../src/media.ts';
import { classifyMovieFolder } from '../src/services/discover.ts';
import { listMovieFolders } from '../src/services/libraryScan.ts';
import { findMainVideo } from '../src/services/scan.ts';

t.test('the movie scan and asset discovery choose the same main video', async (t) => {
  const folders = {
    // `sample-…` is a sample to both, however large.
    samplePrefix: { 'sample-heat.mkv': 'x'.repeat(900), 'Heat (1995).mkv': 'x'.repeat(100) },
    sampleSuffix: { 'Heat-sample.mkv': 'x'.repeat(900), 'Heat (1995).mkv': 'x'.repeat(100) },
    trailer: { 'Heat.trailer.mp4': 'x'.repeat(900), 'Heat (1995).mkv': 'x'.repeat(100) },
    // Equal sizes: the name decides, not the order the directory lists them in.
    tie: { 'b.mkv': 'x'.repeat(10), 'a.mkv': 'x'.repeat(10) },
    disc: { BDMV: { 'index.bdmv': 'i' }, 'menu.mkv': 'x'.repeat(10) },
    onlySamples: { 'sample.mkv': 'x' },
  };
  const root = t.testdir(folders);
  for (const name of Object.keys(folders)) {
    const dir = path.join(root, name);
    const discovered = await classifyMovieFolder(fs, dir);
    t.equal(await findMainVideo(fs, dir), discovered.videoFile, `${name}: both agree`);
  }
  t.equal(await findMainVideo(fs, path.join(root, 'samplePrefix')), 'Heat (1995).mkv');
  t.equal(await findMainVideo(fs, path.join(root, 'tie')), 'a.mkv');
  t.equal(await findMainVideo(fs, path.join(root, 'disc')), 'BDMV/index.bdmv');
  t.equal(await findMainVideo(fs, path.join(root, 'onlySamples')), null);
});

t.test('the library listing and asset discovery share one junk list', async (t) => {
  const junk = ['Thumbs.db', 'desktop.ini', '.DS_Store', '@eaDir', '#recycle', '#snapshot', '$RECYCLE.BIN'];
  const root = t.testdir({
    'Heat (1995)': {
      'Heat (1995).mkv': 'v',
      ...Object.fromEntries(junk.map((j) => [j, j.startsWith('#') || j.startsWith('$') ? {} : 'x'])),
    },
    '#snapshot': {},
    '$RECYCLE.BIN': {},
    'lost+found': {},
  });
  const listed = await listMovieFolders({ log: silentLogger }, root);
  t.same(
    listed.map((f) => f.name),
    ['Heat (1995)'],
    'no clutter folder is a movie folder',
  );
  const found = await classifyMovieFolder(fs, path.join(root, 'Heat (1995)'));
  for (const j of junk) t.ok(isJunkEntry(j), `${j} is junk`);
  t.same(
    found.skipped.map((s) => s.replace(/\/$/, '')).sort(),
    [...junk].sort(),
    'discovery skips exactly the junk entries',
  );
  t.same(found.unknown, [], 'no junk is left as unknown');
});

t.test('video roles by name', async (t) => {
  t.equal(videoRole('Movie.mkv'), 'main');
  t.equal(videoRole('Movie.NFO'), null);
  t.equal(videoRole('sample.mkv'), 'sample');
  t.equal(videoRole('Samples-abc.mp4'), 'sample');
  t.equal(videoRole('Movie-sample.mkv'), 'sample');
  t.equal(videoRole('trailer.mp4'), 'trailer');
  t.equal(videoRole('Movie_trailer.mp4'), 'trailer');
  t.equal(videoRole('Trailer Park Boys.mkv'), 'main');
});
