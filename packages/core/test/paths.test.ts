import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import {
  applyPathMapping,
  containsPath,
  findLibraryForPath,
  isWithin,
  locateOnDisk,
  mapGroupPath,
  normalizePath,
  trimTrailingSeparators,
  unmapGroupPath,
} from '../src/paths.ts';

t.test('maps /downloads/x to /data/movies/x', async (t) => {
  const r = applyPathMapping('/downloads/x', [{ from: '/downloads', to: '/data/movies' }]);
  t.equal(r?.path, '/data/movies/x');
});

t.test('/movies never matches /movies2/x', async (t) => {
  const r = applyPathMapping('/movies2/x', [{ from: '/movies', to: '/data/movies' }]);
  t.equal(r?.path, '/movies2/x', 'unmapped path is used as is');
  t.equal(r?.rule, null);
  t.notOk(isWithin('/movies2/x', '/movies'));
});

t.test('trailing slashes on either side do not matter', async (t) => {
  t.equal(
    applyPathMapping('/movies/X (1999)/', [{ from: '/movies/', to: '/data/movies/' }])?.path,
    '/data/movies/X (1999)',
  );
  t.equal(applyPathMapping('/movies', [{ from: '/movies', to: '/data/movies' }])?.path, '/data/movies');
});

t.test('the longest matching prefix wins', async (t) => {
  const rules = [
    { id: 1, from: '/media', to: '/mnt/media' },
    { id: 2, from: '/media/movies', to: '/data/movies' },
  ];
  const r = applyPathMapping('/media/movies/X', rules);
  t.equal(r?.path, '/data/movies/X');
  t.equal(r?.rule?.id, 2);
  t.equal(applyPathMapping('/media/tv/Y', rules)?.path, '/mnt/media/tv/Y');
});

t.test('a Windows C:\\Movies source maps case-insensitively to POSIX', async (t) => {
  const rules = [{ from: 'C:\\Movies', to: '/data/movies' }];
  t.equal(applyPathMapping('C:\\Movies\\The Matrix (1999)', rules)?.path, '/data/movies/The Matrix (1999)');
  t.equal(applyPathMapping('c:/movies/The Matrix (1999)', rules)?.path, '/data/movies/The Matrix (1999)');
  t.equal(
    applyPathMapping('D:\\Movies\\X', rules),
    null,
    'an unmapped Windows path cannot be used on this host',
  );
});

t.test('UNC paths map like any other prefix', async (t) => {
  const r = applyPathMapping('\\\\nas\\media\\Movies\\X', [{ from: '\\\\NAS\\media', to: '/mnt/nas' }]);
  t.equal(r?.path, '/mnt/nas/Movies/X');
});

t.test('dot segments and doubled slashes are folded', async (t) => {
  t.equal(normalizePath('/movies/./X//Y/').path, '/movies/X/Y');
});

t.test('the deepest library root that contains the path wins', async (t) => {
  const libs = [
    { id: 1, path: '/data' },
    { id: 2, path: '/data/movies' },
    { id: 3, path: '/data/movies2' },
  ];
  t.equal(findLibraryForPath('/data/movies/X', libs)?.id, 2);
  t.equal(findLibraryForPath('/data/movies2/X', libs)?.id, 3);
  t.equal(findLibraryForPath('/elsewhere/X', libs), null);
});

t.test('names compare Unicode-normalised: an NFD path is within its NFC root, and the reverse', async (t) => {
  const nfc = '/movies/Am\u00e9lie (2001)';
  const nfd = nfc.normalize('NFD');
  t.ok(isWithin(`${nfd}/Extras`, nfc));
  t.ok(isWithin(nfc, nfd));
  t.equal(containsPath(nfd, `${nfc}/x`), 2);
  t.equal(
    mapGroupPath(nfd, [{ from: '/movies', to: 'smb://nas/movies/' }]),
    `smb://nas/movies/${nfd.slice(8)}`,
  );
});

t.test('locateOnDisk finds a folder spelled NFD on disk from an NFC path', async (t) => {
  const nfcName = 'Am\u00e9lie (2001)';
  const root = t.testdir({ [nfcName.normalize('NFD')]: { Extras: {} }, plain: {} });
  const onDisk = path.join(root, nfcName.normalize('NFD'));
  t.same(await locateOnDisk(fs, path.join(root, nfcName)), { exists: true, path: onDisk });
  t.same(await locateOnDisk(fs, path.join(root, nfcName, 'Extras')), {
    exists: true,
    path: path.join(onDisk, 'Extras'),
  });
  t.same(await locateOnDisk(fs, path.join(root, 'plain')), { exists: true, path: path.join(root, 'plain') });
  const missing = path.join(root, 'Nope (1999)');
  t.same(await locateOnDisk(fs, missing), { exists: false, path: missing });
  const underFile = path.join(root, nfcName, 'Extras', 'x', 'y');
  t.same(await locateOnDisk(fs, underFile), { exists: false, path: underFile });
});

t.test('one trailing-separator rule for webhook, Metarr and player paths', async (t) => {
  for (const [input, trimmed] of [
    ['/mnt/movies/X/', '/mnt/movies/X'],
    ['/', '/'],
    ['C:\\Movies\\X\\', 'C:\\Movies\\X'],
    ['C:\\', 'C:\\'],
    ['c:/', 'c:/'],
    ['\\\\nas\\share\\X\\\\', '\\\\nas\\share\\X'],
    ['smb://nas/movies/', 'smb://nas/movies'],
    ['smb://', 'smb://'],
    ['/posix/name\\', '/posix/name\\'],
  ] as const) {
    t.equal(trimTrailingSeparators(input), trimmed, input);
  }
});

t.test("unmapGroupPath turns a player path back into Metarr's (the audit's direction)", async (t) => {
  const maps = [
    { from: '/data/movies', to: 'smb://nas/movies/' },
    { from: '/data/movies/4k', to: 'smb://nas/uhd' },
    { from: '/data/tv', to: 'D:\\TV\\' },
  ];
  t.equal(
    unmapGroupPath('smb://nas/movies/Heat (1995)/Heat (1995).mkv', maps),
    '/data/movies/Heat (1995)/Heat (1995).mkv',
  );
  t.equal(unmapGroupPath('smb://NAS/movies/X/x.mkv', maps), '/data/movies/X/x.mkv', 'URL hosts ignore case');
  t.equal(unmapGroupPath('smb://nas/uhd/X/x.mkv', maps), '/data/movies/4k/X/x.mkv', 'the longest `to` wins');
  t.equal(
    unmapGroupPath('d:\\tv\\Show\\e1.mkv', maps),
    '/data/tv/Show/e1.mkv',
    'Windows: any case, backslashes',
  );
  t.equal(
    unmapGroupPath('smb://nas/movies2/X/x.mkv', maps),
    null,
    'whole segments only; an unmapped URL is nothing',
  );
  t.equal(
    unmapGroupPath('/data/other/x.mkv', maps),
    '/data/other/x.mkv',
    'an unmapped POSIX path is used as is',
  );
  for (const p of ['/data/movies/A/a.mkv', '/data/movies/4k/B/b.mkv'])
    t.equal(unmapGroupPath(mapGroupPath(p, maps), maps), p, `round trip of ${p}`);
});
