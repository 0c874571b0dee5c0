import { ARTWORK_TYPES, METADATA_FIELDS, type Movie } from '@metarr/core';
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
      // One movie also shows what enrichment stored and which fields the user locked.
      const [meta, locks] = await Promise.all([
        deps.db
          .selectFrom('movie_metadata')
          .select(['data', 'updated_at'])
          .where('movie_id', '=', id)
          .executeTakeFirst(),
        deps.db
          .selectFrom('movie_field_locks')
          .select('field')
          .where('movie_id', '=', id)
          .orderBy('field')
          .execute(),
      ]);
      return {
        ...movieOut(m),
        metadata: meta ? { ...(meta.data as Record<string, unknown>), updatedAt: meta.updated_at } : null,
        locks: locks.map((l) => l.field),
      };
    },
  );

  // Per-field locks: a locked metadata field or artwork type is never overwritten by the pipeline.
  app.post(
    '/api/movies/:id/locks',
    {
      schema: {
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: Type.Object(
          { field: Type.String({ minLength: 1, maxLength: 100 }), locked: Type.Boolean() },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const { field, locked } = req.body as { field: string; locked: boolean };
      if (!LOCKABLE.has(field)) {
        throw httpError(400, `body/field must be one of ${[...LOCKABLE].join(', ')}`);
      }
      const m = await deps.db.selectFrom('movies').select('id').where('id', '=', id).executeTakeFirst();
      if (!m) throw httpError(404, `movie ${id} not found`);
      if (locked) {
        await deps.db
          .insertInto('movie_field_locks')
          .values({ movie_id: id, field })
          .onConflict((oc) => oc.columns(['movie_id', 'field']).doNothing())
          .execute();
      } else {
        await deps.db
          .deleteFrom('movie_field_locks')
          .where('movie_id', '=', id)
          .where('field', '=', field)
          .execute();
      }
      const rows = await deps.db
        .selectFrom('movie_field_locks')
        .select('field')
        .where('movie_id', '=', id)
        .orderBy('field')
        .execute();
      return { movieId: id, field, locked, locks: rows.map((r) => r.field) };
    },
  );
};

const LOCKABLE = new Set<string>([...METADATA_FIELDS, ...ARTWORK_TYPES, 'extrafanart']);
