/**
 * A user's own choices for a movie (the web app's movie view): another artwork candidate, edited
 * fields, the right TMDB match for a folder without ids. Each is locked or recorded at once and queues
 * the pipeline step that writes the files, after which the players refresh the movie.
 */
import {
  AppError,
  ARTWORK_TYPES,
  chooseArtworkCandidate,
  type EditableField,
  editMovieMetadata,
  getMovie,
  identifyMatches,
  identifyMovie,
  listArtworkCandidates,
  listMovieLocks,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { DbId, failure, IdParams, Nullable, Queued, StringEnum } from '../schemas.ts';
import { Lockable } from './movies.ts';

const tags: Tag[] = ['Movies'];

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
    } satisfies Record<EditableField, unknown>),
  ).properties,
  // A field that cannot be edited is refused by name rather than dropped without a word.
  { minProperties: 1, additionalProperties: false },
);

const IdentifyQuery = Type.Object(
  {
    query: Type.String({
      minLength: 1,
      maxLength: 300,
      description: 'A title, a TMDB id (`603`, `tmdb-603`) or an IMDb id (`tt0133093`)',
      examples: ['The Matrix'],
    }),
    year: Type.Optional(
      Type.Integer({ minimum: 1870, maximum: 3000, description: 'Release year (title search)' }),
    ),
  },
  { additionalProperties: false },
);

const Match = Type.Object({
  tmdbId: Type.Integer({ examples: [603] }),
  title: Type.String({ examples: ['The Matrix'] }),
  originalTitle: Nullable(Type.String()),
  year: Nullable(Type.Integer({ examples: [1999] })),
  overview: Nullable(Type.String()),
  posterUrl: Nullable(Type.String({ description: 'A small poster for a picker' })),
});

const Matches = Type.Object({ movieId: Type.Integer(), matches: Type.Array(Match) });

const IdentifyBody = Type.Object(
  { tmdbId: Type.Integer({ minimum: 1, maximum: 999_999_999, description: 'The TMDB movie id picked' }) },
  { additionalProperties: false },
);

const Identified = Type.Object({ ...Queued.properties, movieId: Type.Integer(), tmdbId: Type.Integer() });

const Edited = Type.Object({
  ...Queued.properties,
  movieId: Type.Integer(),
  changed: Type.Array(Type.String(), { description: 'Fields whose value changed' }),
  locks: Type.Array(Lockable, { description: 'All locks of the movie now' }),
});

export const movieChoiceRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

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

  app.get(
    '/api/movies/:id/identify',
    {
      schema: {
        tags,
        summary: 'Search TMDB for the movie',
        description:
          'Matches for a title (and year), a TMDB id or an IMDb id, asked of TMDB now, to pick the right ' +
          'one with `POST /api/movies/:id/identify`.',
        params: IdParams,
        querystring: IdentifyQuery,
        response: {
          200: Matches,
          ...notFound,
          502: failure('TMDB did not answer, or refused the key'),
          503: failure('No TMDB key is configured'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      const client = await deps.tmdb?.client();
      // Deliberate 5xx answers carry our own words (the error handler hides every other 5xx).
      if (!deps.tmdb || !client)
        return reply.code(503).send({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'no TMDB key is configured (set TMDB_API_KEY or PUT /api/settings/providers)',
        });
      try {
        const matches = await identifyMatches(
          { tmdb: client, log: deps.log },
          {
            query: req.query.query,
            ...(req.query.year !== undefined && { year: req.query.year }),
            language: deps.tmdb.language,
            imageBaseUrl: deps.tmdb.imageBaseUrl,
          },
        );
        return { movieId: id, matches };
      } catch (err) {
        // The provider's own answer never reaches the client: its code only.
        const code = err instanceof AppError ? err.code : 'PROVIDER_ERROR';
        return reply
          .code(502)
          .send({ statusCode: 502, error: 'Bad Gateway', message: `TMDB search failed (${code})` });
      }
    },
  );

  app.post(
    '/api/movies/:id/refresh',
    {
      schema: {
        tags,
        summary: 'Refresh from providers',
        description:
          'Queues the metadata pipeline for the movie as it is (`discover-assets` → … → `publish` → ' +
          'players): new provider data and artwork, locked fields and types kept. 409 for a movie with ' +
          'no TMDB id (identify it first).',
        params: IdParams,
        response: {
          202: Type.Object({ ...Queued.properties, movieId: Type.Integer() }),
          ...notFound,
          409: failure('The movie has no TMDB id yet'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const movie = await getMovie(db, id);
      if (!movie) throw httpError(404, `movie ${id} not found`);
      if (!movie.tmdbId) throw httpError(409, `movie ${id} has no TMDB id yet: identify it first`);
      const job = await deps.queue.enqueue('discover-assets', { movieId: id }, { source: 'MovieController' });
      return reply.code(202).send({ jobId: job?.id ?? null, movieId: id });
    },
  );

  app.post(
    '/api/movies/:id/identify',
    {
      schema: {
        tags,
        summary: 'Identify the movie',
        description:
          'Gives the movie this TMDB id (its IMDb id and artwork candidates are dropped) and queues the ' +
          'metadata pipeline (`discover-assets` → … → `publish` → players).',
        params: IdParams,
        body: IdentifyBody,
        response: { 202: Identified, ...notFound },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const { tmdbId } = req.body;
      if (!(await getMovie(db, id))) throw httpError(404, `movie ${id} not found`);
      await identifyMovie(db, id, tmdbId, new Date());
      const job = await deps.queue.enqueue('discover-assets', { movieId: id }, { source: 'MovieController' });
      return reply.code(202).send({ jobId: job?.id ?? null, movieId: id, tmdbId });
    },
  );
};
