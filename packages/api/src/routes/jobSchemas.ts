import { DEAD_LETTER_QUEUE, jobNames } from '@metarr/core';
import Type, { type TSchema } from 'typebox';
import { DbId, Nullable, paging, StringEnum, Timestamp, Uuid } from '../schemas.ts';

/** Request and response shapes of the job routes. */

export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
const JobState = StringEnum(JOB_STATES);

export const JobIdParams = Type.Object({ id: Uuid({ description: 'The job id' }) });

const TypeFilter = (allowed: readonly string[]) =>
  Type.Optional(StringEnum(allowed, { description: 'Only jobs of this type', examples: ['webhook'] }));
const Paging = paging({ limit: 50, maxLimit: 500, maxOffset: 1_000_000 });

export const ListQuery = Type.Object(
  {
    state: Type.Optional(JobState),
    type: TypeFilter([...jobNames, DEAD_LETTER_QUEUE]),
    parentId: Type.Optional(Uuid({ description: 'Only the children of this job' })),
    root: Type.Optional(
      Type.Boolean({ description: 'Only jobs without a parent: webhooks, library scans, scheduled runs' }),
    ),
    movieId: Type.Optional(
      DbId({ description: 'Only jobs whose payload names this movie (the movie view)' }),
    ),
    deadLetter: Type.Optional(
      Type.Boolean({ description: '`true`: the dead-letter queue (as `GET /api/jobs/dead-letter`)' }),
    ),
    ...Paging,
  },
  { additionalProperties: false },
);

export const DeadLetterQuery = Type.Object(
  { type: TypeFilter(jobNames), ...Paging },
  { additionalProperties: false },
);

export const StatsQuery = Type.Object(
  {
    hours: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 24 * 90,
        default: 24,
        description: 'Completed and cancelled jobs count when created this many hours ago or less',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TimelineQuery = Type.Object(
  {
    minutes: Type.Optional(
      Type.Integer({ minimum: 5, maximum: 1440, default: 60, description: 'How far back, in minutes' }),
    ),
  },
  { additionalProperties: false },
);

const JobRef = Type.Object({ id: Uuid(), type: Type.String(), state: JobState });

const jobFields = {
  id: Uuid(),
  type: Type.String({ examples: ['webhook'] }),
  state: JobState,
  priority: Type.Integer({ description: '1 (most urgent) … 10' }),
  payload: Type.Unknown({ description: 'What the job was given (no secrets)' }),
  parentId: Nullable(Type.String({ description: 'The job that created this one' })),
  output: Type.Unknown({ description: 'What the job returned, or its error' }),
  error: Nullable(Type.String({ description: 'The error of a failed attempt' })),
  attempts: Type.Integer(),
  retryCount: Type.Integer(),
  maxRetries: Type.Integer(),
  createdAt: Timestamp(),
  startAfter: Timestamp(),
  startedAt: Nullable(Timestamp()),
  completedAt: Nullable(Timestamp()),
  waitMs: Nullable(Type.Integer({ description: 'From ready to started' })),
  durationMs: Nullable(Type.Integer({ description: 'From started to completed' })),
};

export const Job = Type.Object(jobFields);

export const JobDetail = Type.Object({
  ...jobFields,
  parent: Nullable(JobRef),
  children: Type.Array(JobRef),
});

/** A job with its descendants; shared (`JobNode` in the document) because it contains itself. */
export const JobNode = Type.Object(
  { ...jobFields, children: Type.Array(Type.Unsafe<unknown>({ $ref: 'JobNode#' })) },
  { $id: 'JobNode' },
);

export const JobTree = Type.Object({
  rootId: Uuid({ description: 'The first job of the lineage (usually the webhook)' }),
  jobId: Uuid({ description: 'The job asked for' }),
  size: Type.Integer({ description: 'Jobs in the tree (at most 500)' }),
  root: Type.Unsafe<unknown>({ $ref: 'JobNode#' }),
});

export const DeadLetter = Type.Object({
  id: Uuid({ description: 'The dead-letter entry' }),
  jobId: Nullable(Type.String({ description: 'The job that failed for good; it can be retried' })),
  type: Nullable(Type.String()),
  priority: Type.Integer(),
  payload: Type.Unknown(),
  parentId: Nullable(Type.String()),
  error: Nullable(Type.String()),
  output: Type.Unknown(),
  retryCount: Nullable(Type.Integer()),
  jobCreatedAt: Nullable(Timestamp()),
  deadLetteredAt: Timestamp(),
});

const Counts = Type.Record(Type.String(), Type.Integer(), { description: 'Jobs per state' });
export const Stats = Type.Record(Type.String(), Counts, {
  description:
    'Per job type, the number of jobs in each state: every waiting (`created`, `retry`), `active` and `failed` job; `completed` and `cancelled` ones created in the last `hours`',
  examples: [{ webhook: { completed: 12, failed: 1 } }],
});

const Series = (what: string): TSchema =>
  Type.Array(Type.Number(), { description: `${what}, oldest minute first` });
export const Timeline = Type.Object({
  minutes: Type.Integer(),
  types: Type.Record(
    Type.String(),
    Type.Object({
      done: Series('Finished jobs'),
      failed: Series('Failures'),
      avgMs: Series('Mean duration'),
    }),
    { description: 'Per job type, per minute' },
  ),
});

export const Accepted = Type.Object({ jobId: Uuid() }, { description: 'Requested' });
