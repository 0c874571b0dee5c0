import type { Movie } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const movieOut = (m: Movie) => ({
  id: m.id,
  libraryId: m.library_id,
  path: m.path,
  title: m.title,
  year: m.year,
  tmdbId: m.tmdb_id,
  imdbId: m.imdb_id,
  radarrId: m.radarr_id,
  videoFile: m.video_file,
  status: m.status,
  createdAt: m.created_at,
  updatedAt: m.updated_at,
  lastScannedAt: m.last_scanned_at,
});

const ListQuery = Type.Object({
  libraryId: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  apikey: Type.Optional(Type.String()),
});

export const movieRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.get('/api/movies', { schema: { querystring: ListQuery } }, async (req) => {
    const q = req.query as { libraryId?: number; limit?: number; offset?: number };
    let query = deps.db
      .selectFrom('movies')
      .selectAll()
      .orderBy('id')
      .limit(q.limit ?? 100)
      .offset(q.offset ?? 0);
    if (q.libraryId) query = query.where('library_id', '=', q.libraryId);
    return (await query.execute()).map(movieOut);
  });
  app.get(
    '/api/movies/:id',
    { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
    async (req) => {
      const { id } = req.params as { id: number };
      const m = await deps.db.selectFrom('movies').selectAll().where('id', '=', id).executeTakeFirst();
      if (!m) throw httpError(404, `movie ${id} not found`);
      return movieOut(m);
    },
  );
};
