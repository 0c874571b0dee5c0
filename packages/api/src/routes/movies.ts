import {
  ARTWORK_TYPES,
  getMovie,
  getMovieMetadata,
  listMovieLocks,
  listMovies,
  listPublishedFiles,
  METADATA_FIELDS,
  MOVIE_FILTERS,
  MOVIE_SORTS,
  readPublishedImage,
  setMovieLock,
  THUMBNAIL_WIDTHS,
  thumbnailOf,
  thumbnailWidth,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { DbId, failure, IdParams, Nullable, paging, StringEnum, Timestamp } from '../schemas.ts';

const tags: Tag[] = ['Movies'];

/** A locked metadata field or artwork type is never overwritten by the pipeline. */
const LOCKABLE = [...METADATA_FIELDS, ...ARTWORK_TYPES, 'extrafanart'] as const;

/** Read back from the database as text: one of LOCKABLE, since only `POST …/locks` writes them. */
export const Lockable = Type.Unsafe<string>(StringEnum(LOCKABLE));

const MOVIE_STATUSES = ['present', 'missing', 'removed', 'no_files'] as const;

const ListQuery = Type.Object({
  libraryId: Type.Optional(DbId({ description: 'Only the movies of this library' })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Only titles containing this, any case (a movie without a title: its folder)',
    }),
  ),
  sort: Type.Optional(
    StringEnum(MOVIE_SORTS, {
      description:
        '`id` (default), `title` (A–Z), `year` (newest first) or `added` (newest first); ties by id',
    }),
  ),
  filter: Type.Optional(
    StringEnum(MOVIE_FILTERS, {
      description:
        '`no-metadata`: movies enrichment stored nothing for (no TMDB id yet: identify them); `locked`: movies with a locked field or artwork type',
    }),
  ),
  ...paging({ limit: 100, maxLimit: 1000 }),
});

const Movie = Type.Object({
  id: Type.Integer({ examples: [1] }),
  libraryId: Type.Integer({ examples: [1] }),
  path: Type.String({ examples: ['/media/movies/Heat (1995)'] }),
  title: Nullable(Type.String({ examples: ['Heat'] })),
  year: Nullable(Type.Integer({ examples: [1995] })),
  tmdbId: Nullable(Type.Integer({ examples: [949] })),
  imdbId: Nullable(Type.String({ examples: ['tt0113277'] })),
  radarrId: Nullable(Type.Integer()),
  videoFile: Nullable(Type.String({ description: 'The main video file, relative to the folder' })),
  status: StringEnum(MOVIE_STATUSES, {
    description:
      '`missing`: the folder vanished; `removed`: deleted in Radarr; `no_files`: added, nothing yet',
  }),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
  lastScannedAt: Nullable(Timestamp()),
});

const MovieDetail = Type.Object({
  ...Movie.properties,
  metadata: Nullable(
    Type.Object(
      { updatedAt: Timestamp() },
      {
        additionalProperties: true,
        description: 'What enrichment stored (title, plot, cast, ratings, ids, …); `null` before it ran',
      },
    ),
  ),
  locks: Type.Array(Lockable, { description: 'Locked fields and artwork types' }),
});

const LockBody = Type.Object(
  {
    field: StringEnum(LOCKABLE, { description: 'A metadata field or an artwork type' }),
    locked: Type.Boolean(),
  },
  { additionalProperties: false },
);

const LockResult = Type.Object({
  movieId: Type.Integer(),
  field: StringEnum(LOCKABLE),
  locked: Type.Boolean(),
  locks: Type.Array(Lockable, { description: 'All locks of the movie now' }),
});

const notFound = { 404: failure('No movie with this id') };

const PublishedFiles = Type.Object({
  movieId: Type.Integer(),
  files: Type.Array(
    Type.Object({
      file: Type.String({ description: 'Relative to the movie folder', examples: ['poster.jpg'] }),
      kind: Type.String({ description: '`nfo` or the artwork type', examples: ['poster'] }),
      publishedAt: Timestamp(),
      sourceUrl: Nullable(Type.String({ description: 'The provider image it came from' })),
      hash: Type.String({ description: 'sha256 of what Metarr wrote' }),
    }),
  ),
});

const ImageQuery = Type.Object(
  {
    width: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        description: `A thumbnail at least this wide (served widths: ${THUMBNAIL_WIDTHS.join(', ')}); left out: the image as published`,
      }),
    ),
  },
  { additionalProperties: false },
);

const ImageParams = Type.Object({
  id: IdParams.properties.id,
  type: StringEnum(ARTWORK_TYPES, { description: 'The artwork type' }),
});

/** Binary image bodies, for the document (the serializer never touches a Buffer). */
const ImageBody = Type.Unsafe<Buffer>({
  type: 'string',
  format: 'binary',
  description: 'The image as published (PNG or JPEG); `ETag` is its sha256',
});

export const movieRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/movies',
    {
      schema: {
        tags,
        summary: 'List movies',
        description: 'Ordered by id unless `sort` says otherwise; `q` searches titles.',
        querystring: ListQuery,
        response: { 200: Type.Array(Movie) },
      },
    },
    async (req) =>
      listMovies(db, {
        libraryId: req.query.libraryId,
        q: req.query.q,
        sort: req.query.sort ?? 'id',
        filter: req.query.filter,
        limit: req.query.limit ?? 100,
        offset: req.query.offset ?? 0,
      }),
  );

  app.get(
    '/api/movies/:id',
    {
      schema: {
        tags,
        summary: 'Get a movie',
        description: 'With what enrichment stored and which fields the user locked.',
        params: IdParams,
        response: { 200: MovieDetail, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      const movie = await getMovie(db, id);
      if (!movie) throw httpError(404, `movie ${id} not found`);
      const [metadata, locks] = await Promise.all([getMovieMetadata(db, id), listMovieLocks(db, id)]);
      return { ...movie, metadata, locks };
    },
  );

  app.post(
    '/api/movies/:id/locks',
    {
      schema: {
        tags,
        summary: 'Lock or unlock a field',
        description: 'A locked metadata field or artwork type is never overwritten by the pipeline.',
        params: IdParams,
        body: LockBody,
        response: { 200: LockResult, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      const { field, locked } = req.body;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      await setMovieLock(db, id, field, locked);
      return { movieId: id, field, locked, locks: await listMovieLocks(db, id) };
    },
  );

  app.get(
    '/api/movies/:id/files',
    {
      schema: {
        tags,
        summary: 'List the files Metarr wrote',
        description: 'The NFO and artwork Metarr published into the movie folder, and when.',
        params: IdParams,
        response: { 200: PublishedFiles, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      return { movieId: id, files: await listPublishedFiles(db, id) };
    },
  );

  app.get(
    '/api/movies/:id/artwork/:type/image',
    {
      schema: {
        tags,
        summary: 'Get a published image',
        description:
          'The image of this type Metarr published, read from the movie folder now (`If-None-Match` ' +
          'answers 304). Only files Metarr wrote, inside the library.',
        params: ImageParams,
        querystring: ImageQuery,
        response: {
          200: ImageBody,
          304: Type.Unsafe<undefined>({ type: 'null', description: 'Unchanged since the ETag sent' }),
          404: failure('No movie with this id, or no image of this type published (or it is gone)'),
        },
      },
    },
    async (req, reply) => {
      const { id, type } = req.params;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      const published = await readPublishedImage(db, id, type);
      if (!published) throw httpError(404, `movie ${id} has no published ${type}`);
      const width = req.query.width;
      const image =
        width === undefined
          ? published
          : await thumbnailOf(db, { movieId: id, kind: type }, published, thumbnailWidth(width));
      reply.header('etag', image.etag).header('cache-control', 'private, no-cache');
      if (req.headers['if-none-match'] === image.etag) return reply.code(304).send();
      return reply.type(image.contentType).send(image.bytes);
    },
  );
};
