/** The folder picker for adding a library: sub-folder names only, where a library could live. */
import { listFolders, normalizePath } from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { Nullable } from '../schemas.ts';

const tags: Tag[] = ['Libraries'];

const Query = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'An absolute folder; left out: the starting points',
        examples: ['/media'],
      }),
    ),
  },
  { additionalProperties: false },
);

const Entry = Type.Object({ name: Type.String(), path: Type.String() });

const Listing = Type.Object({
  path: Nullable(Type.String({ description: 'The folder listed; null for the starting points' })),
  parent: Nullable(Type.String({ description: 'Its parent, when that may be listed too' })),
  folders: Type.Array(Entry, { description: 'Sub-folders a library could be created at, by name' }),
  truncated: Type.Boolean({ description: 'More than 1,000 sub-folders: only the first are listed' }),
});

export const folderRoutes: RoutePlugin = async (app, deps) => {
  app.get(
    '/api/folders',
    {
      schema: {
        tags,
        summary: 'Browse folders for a library',
        description:
          'Sub-folder names (never files) of a folder that could itself be a library root: outside ' +
          'system directories and the data directory, inside `METARR_MEDIA_ROOTS` when set.',
        querystring: Query,
        response: { 200: Listing },
      },
    },
    async (req) => {
      let path: string | undefined;
      if (req.query.path !== undefined) {
        if (!req.query.path.startsWith('/') || req.query.path.includes('\0'))
          throw httpError(400, 'query/path must be an absolute path on this host');
        path = normalizePath(req.query.path).path;
      }
      const listing = await listFolders(path, {
        allow: deps.config.mediaRoots,
        dataDir: deps.config.dataDir,
      });
      if (!listing) throw httpError(400, 'query/path is not an allowed media directory');
      return listing;
    },
  );
};
