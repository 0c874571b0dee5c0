import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@metarr/core';
import t from 'tap';
import { startStack } from './support/stack.ts';

const REFUSED = 'body/path is not an allowed media directory';

t.test(
  'system directories are never libraries, and a refusal never tells whether a path exists',
  async (t) => {
    const stack = await startStack(t, { worker: false });
    const media = t.testdir({ movies: {}, tv: {}, 'a-file.txt': 'x' });
    fs.symlinkSync('/etc', path.join(media, 'etc-link'));
    fs.symlinkSync('/root', path.join(media, 'root-link'));

    const refused = [
      '/',
      '/etc',
      '/root/.ssh',
      '/root',
      '/proc',
      '/proc/self',
      '/sys',
      '/dev',
      '/boot',
      '/usr',
      '/usr/lib',
      '/var',
      '/var/lib',
      '/var/lib/postgresql',
      '/var/run',
      '/run',
      '/bin',
      '/sbin',
      '/lib',
      '/lib64',
      '/etc/does-not-exist',
      '/root/does-not-exist',
      path.join(media, 'etc-link'),
      path.join(media, 'root-link'),
      path.join(media, 'nope'),
      path.join(media, 'a-file.txt'),
    ];
    for (const p of refused) {
      const r = await stack.api('POST', '/api/libraries', { name: 'X', type: 'movie', path: p });
      t.equal(r.status, 400, `POST ${p} is refused`);
      t.equal(r.json?.message, REFUSED, `POST ${p}: the one refusal message`);
    }

    const ok = await stack.api('POST', '/api/libraries', {
      name: 'Movies',
      type: 'movie',
      path: path.join(media, 'movies'),
    });
    t.equal(ok.status, 201, ok.text);
    for (const p of ['/etc', path.join(media, 'etc-link'), path.join(media, 'nope')]) {
      const r = await stack.api('PATCH', `/api/libraries/${ok.json.id}`, { path: p });
      t.equal(r.status, 400, `PATCH to ${p} is refused`);
      t.equal(r.json?.message, REFUSED);
    }
    const moved = await stack.api('PATCH', `/api/libraries/${ok.json.id}`, { path: path.join(media, 'tv') });
    t.equal(moved.status, 200, 'a PATCH to an ordinary directory works');
  },
);

t.test('METARR_MEDIA_ROOTS: a library must be inside one of the allowed roots', async (t) => {
  const dir = t.testdir({ allowed: { movies: {} }, also: { tv: {} }, other: { music: {} } });
  fs.symlinkSync(path.join(dir, 'other'), path.join(dir, 'allowed', 'escape'));
  const stack = await startStack(t, {
    worker: false,
    mediaRoots: [path.join(dir, 'allowed'), path.join(dir, 'also')],
  });
  const post = (p: string) => stack.api('POST', '/api/libraries', { name: p, type: 'movie', path: p });

  t.equal((await post(path.join(dir, 'allowed', 'movies'))).status, 201, 'inside the first root');
  t.equal((await post(path.join(dir, 'also', 'tv'))).status, 201, 'inside the second root');
  for (const p of [path.join(dir, 'other', 'music'), path.join(dir, 'allowed', 'escape'), dir]) {
    const r = await post(p);
    t.equal(r.status, 400, `${p} is outside the allowed roots`);
    t.equal(r.json?.message, REFUSED);
  }
});

t.test('METARR_MEDIA_ROOTS is parsed as a colon- or comma-separated list of absolute paths', async (t) => {
  const base = { METARR_DATA_DIR: '.tmp/unused' };
  t.same(loadConfig({ ...base, METARR_MEDIA_ROOTS: '/media/movies:/media/tv' }).mediaRoots, [
    '/media/movies',
    '/media/tv',
  ]);
  t.same(loadConfig({ ...base, METARR_MEDIA_ROOTS: '/a, /b' }).mediaRoots, ['/a', '/b']);
  t.equal(loadConfig(base).mediaRoots, undefined, 'unset: no allow-list');
  t.throws(() => loadConfig({ ...base, METARR_MEDIA_ROOTS: 'media/movies' }), /METARR_MEDIA_ROOTS/);
});
