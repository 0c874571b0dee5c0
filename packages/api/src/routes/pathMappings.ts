import {
  createPathMapping,
  deletePathMapping,
  listPathMappings,
  normalizePath,
  updatePathMapping,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import { checkPath, translateDbError } from '../input.ts';
import type { Tag } from '../openapi.ts';
import { failure, IdParams, NoContent, Patch, StringEnum } from '../schemas.ts';

const tags: Tag[] = ['Path mappings'];

export const MANAGERS = ['radarr', 'sonarr', 'lidarr'] as const;
export const Manager = StringEnum(MANAGERS, { description: 'The *arr app the mapping is for' });

const PathMappingBody = Type.Object({
  manager: Manager,
  from: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: 'A path prefix as the *arr app sends it (POSIX, `C:\\…` or `\\\\server\\share\\…`)',
    examples: ['/data/movies'],
  }),
  to: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: 'The same folder as this host sees it (absolute POSIX path)',
    examples: ['/media/movies'],
  }),
});

const PathMapping = Type.Object({
  id: Type.Integer({ examples: [1] }),
  manager: Manager,
  from: Type.String({ examples: ['/data/movies'] }),
  to: Type.String({ examples: ['/media/movies'] }),
});

const notFound = { 404: failure('No path mapping with this id') };
const duplicate = { 409: failure('This manager already maps this prefix') };

export const pathMappingRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/path-mappings',
    { schema: { tags, summary: 'List manager path mappings', response: { 200: Type.Array(PathMapping) } } },
    async () => listPathMappings(db),
  );

  app.post(
    '/api/path-mappings',
    {
      schema: {
        tags,
        summary: 'Add a manager path mapping',
        description: 'The longest `from` prefix of a manager that covers a path (on whole segments) applies.',
        body: PathMappingBody,
        response: { 201: PathMapping, ...duplicate },
      },
    },
    async (req, reply) => {
      const b = req.body;
      checkPath('from', b.from);
      checkPath('to', b.to, { posixOnly: true });
      const mapping = await createPathMapping(db, {
        manager: b.manager,
        from: b.from,
        to: normalizePath(b.to).path,
      }).catch((e) => translateDbError(e, `a ${b.manager} mapping from ${b.from}`));
      return reply.code(201).send(mapping);
    },
  );

  app.patch(
    '/api/path-mappings/:id',
    {
      schema: {
        tags,
        summary: 'Change a manager path mapping',
        params: IdParams,
        body: Patch(PathMappingBody),
        response: { 200: PathMapping, ...notFound, ...duplicate },
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      if (b.from !== undefined) checkPath('from', b.from);
      if (b.to !== undefined) checkPath('to', b.to, { posixOnly: true });
      const mapping = await updatePathMapping(db, id, {
        ...b,
        ...(b.to !== undefined && { to: normalizePath(b.to).path }),
      }).catch((e) => translateDbError(e, 'that mapping'));
      if (!mapping) throw httpError(404, `path mapping ${id} not found`);
      return mapping;
    },
  );

  app.delete(
    '/api/path-mappings/:id',
    {
      schema: {
        tags,
        summary: 'Remove a manager path mapping',
        params: IdParams,
        response: { 204: NoContent, ...notFound },
      },
    },
    async (req, reply) => {
      if (!(await deletePathMapping(db, req.params.id)))
        throw httpError(404, `path mapping ${req.params.id} not found`);
      return reply.code(204).send();
    },
  );
};
