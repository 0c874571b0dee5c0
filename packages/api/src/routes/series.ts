import {
  EPISODE_LOCKABLE,
  episodeExists,
  getSeries,
  getSeriesDetail,
  listSeries,
  listTvLocks,
  SERIES_FILTERS,
  SERIES_LOCKABLE,
  SERIES_SORTS,
  setTvLock,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { DbId, failure, IdParams, Nullable, paging, Queued, StringEnum, Timestamp } from '../schemas.ts';

const tags: Tag[] = ['Series'];

const SERIES_STATUSES = ['present', 'missing', 'removed'] as const;

const lockBody = <F extends readonly string[]>(fields: F) =>
  Type.Object(
    {
      field: StringEnum(fields, {
        description: 'A locked field keeps its value when providers are asked again',
      }),
      locked: Type.Boolean(),
    },
    { additionalProperties: false },
  );
const lockResult = <F extends readonly string[]>(idName: string, fields: F, owner: string) =>
  Type.Object({
    [idName]: Type.Integer(),
    field: StringEnum(fields),
    locked: Type.Boolean(),
    locks: Type.Array(Type.String(), { description: `All locks of the ${owner} now` }),
  });

const ListQuery = Type.Object({
  libraryId: Type.Optional(DbId({ description: 'Only the series of this library' })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Only titles containing this, any case (a series without a title: its folder)',
    }),
  ),
  sort: Type.Optional(
    StringEnum(SERIES_SORTS, {
      description:
        '`id` (default), `title` (A–Z), `year` (newest first) or `added` (newest first); ties by id',
    }),
  ),
  filter: Type.Optional(
    StringEnum(SERIES_FILTERS, {
      description:
        '`placeholders`: series with an episode whose title, plot or still is still a placeholder; `locked`: series with a locked field',
    }),
  ),
  ...paging({ limit: 100, maxLimit: 1000 }),
});

const Unparseable = Type.Array(
  Type.Object({
    file: Type.String({
      description: "Relative to the series folder ('/'-separated); a season folder ends in '/'",
      examples: ['Season 01/Severance - Behind the scenes.mkv'],
    }),
    reason: Type.String({
      examples: ['no season and episode (S01E02, 1x02) nor air date (2024-03-01) in the name'],
    }),
  }),
  { description: 'Video files whose names state no episode, and season folders that could not be read' },
);

const Series = Type.Object({
  id: Type.Integer({ examples: [1] }),
  libraryId: Type.Integer({ examples: [2] }),
  path: Type.String({ examples: ['/media/tv/Severance (2022) {tvdb-371980}'] }),
  title: Nullable(Type.String({ examples: ['Severance'] })),
  year: Nullable(Type.Integer({ examples: [2022] })),
  tmdbId: Nullable(Type.Integer({ examples: [95396] })),
  tvdbId: Nullable(Type.Integer({ examples: [371980] })),
  imdbId: Nullable(Type.String({ examples: ['tt11280740'] })),
  sonarrId: Nullable(Type.Integer()),
  status: StringEnum(SERIES_STATUSES, {
    description: '`missing`: the folder vanished; `removed`: deleted in Sonarr',
  }),
  unparseable: Unparseable,
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
  lastScannedAt: Nullable(Timestamp()),
});

const SeriesListItem = Type.Object({
  ...Series.properties,
  counts: Type.Object({
    seasons: Type.Integer({ description: 'Seasons, specials (season 0) included' }),
    episodes: Type.Integer(),
    files: Type.Integer({ description: 'Episode video files' }),
    placeholders: Type.Integer({ description: 'Episodes whose title, plot or still is a placeholder' }),
    unparseable: Type.Integer(),
  }),
});

const Episode = Type.Object({
  id: Type.Integer(),
  seasonNumber: Type.Integer({ examples: [1] }),
  number: Type.Integer({ examples: [2] }),
  title: Nullable(Type.String({ examples: ['Half Loop'] })),
  plot: Nullable(Type.String()),
  airDate: Nullable(Type.String({ format: 'date', examples: ['2022-02-18'] })),
  files: Type.Array(Type.String(), {
    description: 'Video files holding this episode, relative to the series folder (none: not on disk)',
  }),
  placeholder: Type.Boolean({ description: 'Its title, plot or still is still a placeholder' }),
  placeholderFields: Type.Array(Type.String(), { examples: [['title', 'plot']] }),
  nextCheckAt: Nullable(Timestamp({ description: 'When the provider is asked again' })),
  giveUpAt: Nullable(Timestamp({ description: 'After this, the placeholder is kept' })),
  locks: Type.Array(Type.String(), { description: 'Locked fields' }),
});

const SeriesDetail = Type.Object({
  ...Series.properties,
  metadata: Nullable(
    Type.Object(
      {},
      { additionalProperties: true, description: 'What enrichment stored; `null` before it ran' },
    ),
  ),
  locks: Type.Array(Type.String(), { description: 'Locked fields and artwork types' }),
  seasons: Type.Array(
    Type.Object({
      id: Type.Integer(),
      number: Type.Integer({ description: '0: specials', examples: [1] }),
      folder: Nullable(Type.String({ examples: ['Season 01'] })),
      episodes: Type.Array(Episode),
    }),
  ),
  files: Type.Array(
    Type.Object({
      id: Type.Integer(),
      file: Type.String({ examples: ['Season 01/Severance - S01E02E03 - Half Loop.mkv'] }),
      seasonNumber: Nullable(Type.Integer()),
      airDate: Nullable(Type.String({ description: 'A daily episode file’s date, until matched' })),
      episodes: Type.Array(Type.Object({ season: Type.Integer(), number: Type.Integer() }), {
        description: 'The episodes the file holds, in order',
      }),
    }),
  ),
});

export const seriesRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/series',
    {
      schema: {
        tags,
        summary: 'List TV series',
        description:
          'Ordered by id unless `sort` says otherwise, each with its counts of seasons, episodes, files and placeholders; `q` searches titles.',
        querystring: ListQuery,
        response: { 200: Type.Array(SeriesListItem) },
      },
    },
    async (req) =>
      listSeries(db, {
        libraryId: req.query.libraryId,
        q: req.query.q,
        sort: req.query.sort,
        filter: req.query.filter,
        limit: req.query.limit ?? 100,
        offset: req.query.offset ?? 0,
      }),
  );

  app.get(
    '/api/series/:id',
    {
      schema: {
        tags,
        summary: 'Get a TV series',
        description:
          'With its seasons, episodes (files, placeholder state, locks), episode files and stored metadata.',
        params: IdParams,
        response: { 200: SeriesDetail, 404: failure('No series with this id') },
      },
    },
    async (req) => {
      const series = await getSeriesDetail(db, req.params.id);
      if (!series) throw httpError(404, `series ${req.params.id} not found`);
      return series;
    },
  );

  app.post(
    '/api/series/:id/locks',
    {
      schema: {
        tags,
        summary: 'Lock or unlock a series field',
        description: 'A locked title or year is never overwritten by enrichment.',
        params: IdParams,
        body: lockBody(SERIES_LOCKABLE),
        response: {
          200: lockResult('seriesId', SERIES_LOCKABLE, 'series'),
          404: failure('No series with this id'),
        },
      },
    },
    async (req) => {
      const { id } = req.params;
      const { field, locked } = req.body;
      if (!(await getSeries(db, id))) throw httpError(404, `series ${id} not found`);
      await setTvLock(db, 'series', id, field, locked);
      return { seriesId: id, field, locked, locks: await listTvLocks(db, 'series', id) };
    },
  );

  app.post(
    '/api/episodes/:id/locks',
    {
      schema: {
        tags,
        summary: 'Lock or unlock an episode field',
        description: 'A locked title, plot or air date is never overwritten by enrichment.',
        params: IdParams,
        body: lockBody(EPISODE_LOCKABLE),
        response: {
          200: lockResult('episodeId', EPISODE_LOCKABLE, 'episode'),
          404: failure('No episode with this id'),
        },
      },
    },
    async (req) => {
      const { id } = req.params;
      const { field, locked } = req.body;
      if (!(await episodeExists(db, id))) throw httpError(404, `episode ${id} not found`);
      await setTvLock(db, 'episode', id, field, locked);
      return { episodeId: id, field, locked, locks: await listTvLocks(db, 'episode', id) };
    },
  );

  app.post(
    '/api/series/:id/refresh',
    {
      schema: {
        tags,
        summary: 'Refresh a series from providers',
        description:
          'Queues `enrich-metadata` for the series asking TMDB again past the shared cache (the series ' +
          'and every season on disk), then `publish` → players; locked fields kept. 409 for a series ' +
          'with neither a TMDB nor a TVDB id.',
        params: IdParams,
        response: {
          202: Type.Object({ ...Queued.properties, seriesId: Type.Integer() }),
          404: failure('No series with this id'),
          409: failure('The series has no TMDB or TVDB id'),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const series = await getSeries(db, id);
      if (!series) throw httpError(404, `series ${id} not found`);
      if (series.tmdbId === null && series.tvdbId === null)
        throw httpError(409, `series ${id} has no TMDB or TVDB id`);
      const job = await deps.queue.enqueue(
        'enrich-metadata',
        { kind: 'series', id, refresh: true },
        { source: 'SeriesController' },
      );
      return reply.code(202).send({ jobId: job?.id ?? null, seriesId: id });
    },
  );
};
