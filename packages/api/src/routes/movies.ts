import {
  AppError,
  ARTWORK_TYPES,
  chooseArtworkCandidate,
  type EDITABLE_FIELDS,
  editMovieMetadata,
  getMovie,
  getMovieMetadata,
  listArtworkCandidates,
  listMovieLocks,
  listMovies,
  METADATA_FIELDS,
  setMovieLock,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { DbId, failure, IdParams, Nullable, paging, Queued, StringEnum, Timestamp } from '../schemas.ts';

const tags: Tag[] = ['Movies'];

/** A locked metadata field or artwork type is never overwritten by the pipeline. */
const LOCKABLE = [...METADATA_FIELDS, ...ARTWORK_TYPES, 'extrafanart'] as const;

/** Read back from the database as text: one of LOCKABLE, since only `POST …/locks` writes them. */
const Lockable = Type.Unsafe<string>(StringEnum(LOCKABLE));

const MOVIE_STATUSES = ['present', 'missing', 'removed', 'no_files'] as const;

const ListQuery = Type.Object({
  libraryId: Type.Optional(DbId({ description: 'Only the movies of this library' })),
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

/** The types whose image a user can choose (extrafanart comes with fanart). */
const CHOOSABLE = ARTWORK_TYPES;

const Candidate = Type.Object({
  id: Type.Integer({ examples: [12] }),
  type: Type.String({ examples: ['poster'] }),
  provider: Type.String({ examples: ['tmdb'] }),
  url: Type.String({ examples: ['https://image.tmdb.org/t/p/original/abc.jpg'] }),
  language: Nullable(Type.String({ examples: ['en'] })),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  votes: Type.Number(),
  score: Nullable(Type.Number({ description: '0–100; null before selection ran' })),
  rank: Nullable(
    Type.Integer({ description: '0: the published one (fanart 1…: the extrafanart); null: not ranked yet' }),
  ),
  selected: Type.Boolean({ description: 'Published (or to be) by the next publish' }),
});

const Artwork = Type.Object({
  movieId: Type.Integer(),
  candidates: Type.Array(Candidate, { description: 'By type, best first' }),
  locks: Type.Array(Lockable, { description: 'Locked fields and artwork types' }),
});

const TypeParams = Type.Object({
  id: IdParams.properties.id,
  type: StringEnum(CHOOSABLE, { description: 'The artwork type' }),
});

const ChooseBody = Type.Object(
  { candidateId: DbId({ description: 'One of the movie’s candidates of this type' }) },
  { additionalProperties: false },
);

const Choice = Type.Object({
  ...Queued.properties,
  movieId: Type.Integer(),
  type: StringEnum(CHOOSABLE),
  candidateId: Type.Integer(),
  locks: Type.Array(Lockable),
});

const text = (maxLength: number, description: string) =>
  Nullable(Type.String({ maxLength, description }), { description });
const names = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, description });

/** Each field as the NFO holds it; `null` clears a text field. Every field sent is locked. */
const MetadataBody = Type.Object(
  Type.Partial(
    Type.Object({
      title: Nullable(Type.String({ minLength: 1, maxLength: 500 }), { description: 'Title' }),
      originalTitle: text(500, 'Original title'),
      sortTitle: text(500, 'Sort title'),
      tagline: text(1000, 'Tagline'),
      plot: text(20_000, 'Plot'),
      outline: text(2000, 'Outline'),
      runtime: Nullable(Type.Integer({ minimum: 1, maximum: 2000, description: 'Minutes' })),
      year: Nullable(Type.Integer({ minimum: 1870, maximum: 3000 })),
      premiered: Nullable(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })),
      certification: text(100, 'Certification, e.g. `Rated R` or `FSK 16`'),
      genres: names('Genres'),
      countries: names('Countries'),
      studios: names('Studios'),
      directors: names('Directors'),
      writers: names('Writers'),
    } satisfies Record<(typeof EDITABLE_FIELDS)[number], unknown>),
  ).properties,
  // A field that cannot be edited is refused by name rather than dropped without a word.
  { minProperties: 1, additionalProperties: false },
);

const Edited = Type.Object({
  ...Queued.properties,
  movieId: Type.Integer(),
  changed: Type.Array(Type.String(), { description: 'Fields whose value changed' }),
  locks: Type.Array(Lockable, { description: 'All locks of the movie now' }),
});

export const movieRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/movies',
    {
      schema: {
        tags,
        summary: 'List movies',
        description: 'Ordered by id.',
        querystring: ListQuery,
        response: { 200: Type.Array(Movie) },
      },
    },
    async (req) =>
      listMovies(db, {
        libraryId: req.query.libraryId,
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
    '/api/movies/:id/artwork',
    {
      schema: {
        tags,
        summary: 'List artwork candidates',
        description:
          'Every candidate the providers offered, by type, scored and ranked; rank 0 is published.',
        params: IdParams,
        response: { 200: Artwork, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      const [candidates, locks] = await Promise.all([listArtworkCandidates(db, id), listMovieLocks(db, id)]);
      return { movieId: id, candidates, locks };
    },
  );

  app.put(
    '/api/movies/:id/artwork/:type',
    {
      schema: {
        tags,
        summary: 'Choose an artwork candidate',
        description:
          'Makes the candidate the published image of its type, locks the type (the pipeline keeps the ' +
          'choice) and queues a `publish`, which writes the file and asks the players to refresh the movie.',
        params: TypeParams,
        body: ChooseBody,
        response: { 202: Choice, 404: failure('No movie with this id, or no such candidate of this type') },
      },
    },
    async (req, reply) => {
      const { id, type } = req.params;
      const { candidateId } = req.body;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      try {
        await chooseArtworkCandidate(db, id, type, candidateId);
      } catch (err) {
        if (err instanceof AppError && err.code === 'CANDIDATE_NOT_FOUND') throw httpError(404, err.message);
        throw err;
      }
      const job = await deps.queue.enqueue('publish', { movieId: id }, { source: 'MovieController' });
      return reply.code(202).send({
        jobId: job?.id ?? null,
        movieId: id,
        type,
        candidateId,
        locks: await listMovieLocks(db, id),
      });
    },
  );

  app.patch(
    '/api/movies/:id/metadata',
    {
      schema: {
        tags,
        summary: 'Edit metadata fields',
        description:
          'Writes the fields, locks each one (providers never overwrite it) and queues a `publish`, ' +
          'which rewrites the NFO and asks the players to refresh the movie.',
        params: IdParams,
        body: MetadataBody,
        response: {
          202: Edited,
          ...notFound,
          409: failure('The movie has no metadata yet (no TMDB id, or enrichment has not run)'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      let changed: string[];
      try {
        ({ changed } = await editMovieMetadata(db, id, req.body, new Date()));
      } catch (err) {
        if (err instanceof AppError && err.code === 'METADATA_MISSING') throw httpError(409, err.message);
        throw err;
      }
      const job = await deps.queue.enqueue('publish', { movieId: id }, { source: 'MovieController' });
      return reply
        .code(202)
        .send({ jobId: job?.id ?? null, movieId: id, changed, locks: await listMovieLocks(db, id) });
    },
  );
};
