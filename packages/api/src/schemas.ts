import Type, { type Static, type TPartial, type TSchema, type TSchemaOptions } from 'typebox';

/**
 * Building blocks every route file uses, so each shape (an error, an id, a time, a page) is written
 * once and reads the same in the OpenAPI document.
 */

/** Fastify's error shape, for every 4xx and 5xx; registered once as the document's `Error`. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599, examples: [400] }),
    error: Type.String({ examples: ['Bad Request'] }),
    message: Type.String({
      description:
        'What is wrong; a 4xx names the field (`body/path must be string`), a 5xx never holds internals',
      examples: ['body/path must be string'],
    }),
  },
  { $id: 'Error', additionalProperties: false },
);
export type ErrorShape = Static<typeof ErrorBody>;

/** The header a 503 carries: retry after this many seconds. */
export const RETRY_AFTER = {
  'retry-after': { type: 'integer', description: 'Seconds to wait before retrying' },
};

/** A response that is the shared `Error`, with what this status means on this route. */
export const failure = (description: string) => Type.Unsafe<ErrorShape>({ $ref: 'Error#', description });

/** `enum` in the document and in the validator (a union of literals reads as `anyOf` of single values). */
export const StringEnum = <const T extends readonly string[]>(values: T, options: TSchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** Optional and nullable: `null` clears the value. */
export const Nullable = <T extends TSchema>(schema: T, options: TSchemaOptions = {}) =>
  Type.Union([schema, Type.Null()], options);

/** A time; handlers return `Date`, JSON carries it as an ISO 8601 string. */
export const Timestamp = (options: TSchemaOptions = {}) =>
  Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', ...options });

/**
 * Largest value of a PostgreSQL `integer` (ids are `serial`). A larger number in a query fails in
 * the database (22003) instead of finding nothing, so every id and offset is bounded here.
 */
export const PG_INT_MAX = 2_147_483_647;

/** A record id as a request carries it: 1 … PG_INT_MAX. */
export const DbId = (options: TSchemaOptions = {}) =>
  Type.Integer({ minimum: 1, maximum: PG_INT_MAX, ...options });

export const IdParams = Type.Object({
  id: DbId({ description: 'The record id', examples: [1] }),
});

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const Uuid = (options: TSchemaOptions = {}) => Type.String({ pattern: UUID_PATTERN, ...options });

/** `limit`/`offset` of a list; the defaults are what the query uses when they are left out. */
export const paging = (opts: { limit: number; maxLimit: number; maxOffset?: number }) => ({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: opts.maxLimit, default: opts.limit, description: 'Page size' }),
  ),
  offset: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: opts.maxOffset ?? PG_INT_MAX,
      default: 0,
      description: 'Rows to skip',
    }),
  ),
});

/** A body that changes some fields of a record: at least one, each as the create body types it. */
export const Patch = <T extends Type.TObject>(t: T): TPartial<T> => Type.Partial(t, { minProperties: 1 });

/** `202 {jobId}` of a route that queued a job (`null` when an identical job was already waiting). */
export const Queued = Type.Object(
  {
    jobId: Type.Union([Uuid(), Type.Null()], {
      description: 'The queued job; `null` when an identical job already waits and absorbed this one',
    }),
  },
  { description: 'Queued' },
);

/** `204`: the reply is sent without a body (`reply.code(204).send()`). */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'Done; no body' });
