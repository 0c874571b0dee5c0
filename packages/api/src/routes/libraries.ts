import {
  createLibrary,
  deleteLibrary,
  getLibrary,
  isAllowedMediaRoot,
  isWithin,
  listLibraries,
  normalizePath,
  syncSchedules,
  updateLibrary,
} from '@metarr/core';
import Type from 'typebox';
import type { AppDeps, RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import { checkPath, translateDbError } from '../input.ts';
import type { Tag } from '../openapi.ts';
import { failure, IdParams, NoContent, Patch, Queued, StringEnum, Timestamp } from '../schemas.ts';

const tags: Tag[] = ['Libraries'];

export const LIBRARY_TYPES = ['movie', 'tv', 'music'] as const;

const LibraryBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, examples: ['Movies'] }),
  type: StringEnum(LIBRARY_TYPES, { description: 'What the library holds' }),
  path: Type.String({
    minLength: 1,
    maxLength: 4096,
    description:
      'An existing directory on this host, inside no other library and around none; never a system directory, and inside `METARR_MEDIA_ROOTS` when that is set',
    examples: ['/media/movies'],
  }),
});

const Library = Type.Object({
  id: Type.Integer({ examples: [1] }),
  name: Type.String({ examples: ['Movies'] }),
  type: StringEnum(LIBRARY_TYPES),
  path: Type.String({ examples: ['/media/movies'] }),
  createdAt: Timestamp(),
});

const notFound = { 404: failure('No library with this id') };

/**
 * A library root must be a readable directory outside system directories (real path, symlinks
 * resolved), inside `METARR_MEDIA_ROOTS` when set, and not inside (or around) another library.
 * Every refusal reads the same, so the answer never reveals whether an arbitrary path exists.
 */
async function checkLibraryRoot(deps: AppDeps, path: string, selfId?: number): Promise<string> {
  const db = deps.db;
  checkPath('path', path, { posixOnly: true });
  const root = normalizePath(path).path;
  const policy = { allow: deps.config.mediaRoots, dataDir: deps.config.dataDir };
  if (!(await isAllowedMediaRoot(root, policy)))
    throw httpError(400, 'body/path is not an allowed media directory');
  for (const o of await listLibraries(db)) {
    if (o.id === selfId) continue;
    if (isWithin(root, o.path) || isWithin(o.path, root)) {
      throw httpError(
        409,
        `body/path ${root} overlaps library ${o.id} "${o.name}" at ${o.path}: one library root cannot contain another`,
      );
    }
  }
  return root;
}

/**
 * A library's file-scan schedule follows the library; a failure here is repaired by the next sync
 * (every worker start), so it is logged, not turned into a failed request.
 */
const resyncSchedules = (deps: AppDeps) =>
  syncSchedules({ db: deps.db, boss: deps.boss, log: deps.log }).then(
    () => {},
    (err: unknown) =>
      deps.log.error({ service: 'ScheduleService', err: { message: String(err) } }, 'Schedule sync failed'),
  );

export const libraryRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/libraries',
    { schema: { tags, summary: 'List libraries', response: { 200: Type.Array(Library) } } },
    async () => listLibraries(db),
  );

  app.get(
    '/api/libraries/:id',
    { schema: { tags, summary: 'Get a library', params: IdParams, response: { 200: Library, ...notFound } } },
    async (req) => {
      const library = await getLibrary(db, req.params.id);
      if (!library) throw httpError(404, `library ${req.params.id} not found`);
      return library;
    },
  );

  app.post(
    '/api/libraries',
    {
      schema: {
        tags,
        summary: 'Add a library',
        description:
          "Movie libraries get a file-scan schedule at once. The path must exist on this host and may not overlap another library's.",
        body: LibraryBody,
        response: {
          201: Library,
          409: failure('The path is inside another library, contains one, or is already a library'),
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const path = await checkLibraryRoot(deps, b.path);
      const library = await createLibrary(db, { name: b.name, type: b.type, path }).catch((e) =>
        translateDbError(e, `a library at ${b.path}`),
      );
      await resyncSchedules(deps);
      return reply.code(201).send(library);
    },
  );

  app.patch(
    '/api/libraries/:id',
    {
      schema: {
        tags,
        summary: 'Change a library',
        params: IdParams,
        body: Patch(LibraryBody),
        response: {
          200: Library,
          ...notFound,
          409: failure('The new path overlaps another library'),
        },
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      if (!(await getLibrary(db, id))) throw httpError(404, `library ${id} not found`);
      const path = b.path !== undefined ? await checkLibraryRoot(deps, b.path, id) : undefined;
      const library = await updateLibrary(db, id, { ...b, ...(path !== undefined && { path }) }).catch((e) =>
        translateDbError(e, `a library at ${b.path}`),
      );
      if (!library) throw httpError(404, `library ${id} not found`);
      if (b.type !== undefined) await resyncSchedules(deps);
      return library;
    },
  );

  app.delete(
    '/api/libraries/:id',
    {
      schema: {
        tags,
        summary: 'Remove a library',
        description:
          'Its movie rows, folder fingerprints and player-group links go with it; files on disk stay.',
        params: IdParams,
        response: { 204: NoContent, ...notFound },
      },
    },
    async (req, reply) => {
      if (!(await deleteLibrary(db, req.params.id)))
        throw httpError(404, `library ${req.params.id} not found`);
      await resyncSchedules(deps);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/libraries/:id/scan',
    {
      schema: {
        tags,
        summary: 'Scan a library',
        description: 'Queues a `library-scan` job: new, changed and vanished folders are reconciled.',
        params: IdParams,
        response: { 202: Queued, ...notFound },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await getLibrary(db, id))) throw httpError(404, `library ${id} not found`);
      const job = await deps.queue.enqueue(
        'library-scan',
        { libraryId: id },
        { source: 'LibraryController' },
      );
      return reply.code(202).send({ jobId: job?.id ?? null });
    },
  );
};
