/**
 * The folder picker lists sub-folder names where a library could live — never files, never a system
 * directory, never outside METARR_MEDIA_ROOTS — and refuses every other path alike.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startStack } from './support/stack.ts';

t.test('lists allowed sub-folders by name, starting from the media roots', async (t) => {
  const media = t.testdir({
    movies: { 'Heat (1995)': { 'heat.mkv': 'v' }, 'Alien (1979)': {}, '.hidden': {} },
    tv: {},
    'notes.txt': 'not a folder',
  });
  await fs.symlink('/etc', path.join(media, 'movies', 'sneaky'));
  const stack = await startStack(t, { worker: false, mediaRoots: [media] });

  const start = await stack.api('GET', '/api/folders');
  t.equal(start.status, 200, start.text);
  t.same(start.json, { path: null, parent: null, folders: [{ name: media, path: media }], truncated: false });

  const top = await stack.api('GET', `/api/folders?path=${encodeURIComponent(media)}`);
  t.same(
    top.json.folders.map((f: { name: string }) => f.name),
    ['movies', 'tv'],
    'folders only: no file, nothing hidden',
  );
  t.equal(top.json.parent, null, 'above the media root is out of reach');

  const movies = await stack.api(
    'GET',
    `/api/folders?path=${encodeURIComponent(path.join(media, 'movies'))}`,
  );
  t.same(
    movies.json,
    {
      path: path.join(media, 'movies'),
      parent: media,
      folders: [
        { name: 'Alien (1979)', path: path.join(media, 'movies', 'Alien (1979)') },
        { name: 'Heat (1995)', path: path.join(media, 'movies', 'Heat (1995)') },
      ],
      truncated: false,
    },
    'a symlink to a system directory is not offered',
  );

  for (const bad of ['/etc', '/', path.join(media, 'nope'), path.join(media, 'notes.txt'), '/tmp']) {
    const r = await stack.api('GET', `/api/folders?path=${encodeURIComponent(bad)}`);
    t.equal(r.status, 400, bad);
    t.equal(r.json.message, 'query/path is not an allowed media directory', `${bad}: one answer for all`);
  }
  const relative = await stack.api('GET', '/api/folders?path=movies');
  t.equal(relative.status, 400);
  t.match(relative.json.message, 'query/path must be an absolute path');
});

t.test('without media roots the starting points are the allowed top-level folders', async (t) => {
  const stack = await startStack(t, { worker: false });
  const start = await stack.api('GET', '/api/folders');
  t.equal(start.status, 200, start.text);
  const names = start.json.folders.map((f: { name: string }) => f.name);
  for (const system of ['etc', 'proc', 'usr', 'root', 'boot', 'dev', 'sys'])
    t.notOk(names.includes(system), `${system} is never offered`);
  // The folder this test runs in starts at a top-level folder: offered unless it is a system one.
  const here = t.testdir({}).split('/')[1] as string;
  const system = ['root', 'usr', 'var', 'etc'].includes(here);
  t.equal(names.includes(here), !system, `/${here} ${system ? 'is not' : 'is'} offered`);
});
