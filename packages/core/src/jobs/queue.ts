import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { fromKysely, PgBoss, type SendOptions } from 'pg-boss';
import { permanent } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  type CoalesceSpec,
  DEAD_LETTER_QUEUE,
  type JobEnvelope,
  type JobName,
  type JobPayload,
  jobCatalog,
  jobNames,
  toBossPriority,
} from './catalog.ts';
import type { AnyKysely } from './events.ts';
import { encodeJobEvent, JOB_EVENTS_CHANNEL, publishJobEvent } from './events.ts';

export interface EnqueueOptions {
  parentId?: string | null;
  /** Run inside this Kysely transaction: the job exists only if it commits. */
  trx?: AnyKysely;
  /** Override the catalog's priority (1 most urgent … 10 least). */
  priority?: number;
  singletonKey?: string;
  /**
   * Fold jobs by key and window; overrides the catalog's `coalesce` for this job (`false`: none).
   * `debounce` decides the start time itself, so it ignores `startAfter`.
   */
  coalesce?: CoalesceSpec | false;
  /** Per-job retry policy (seconds), overriding the queue's. */
  retry?: { delay?: number; delayMax?: number; limit?: number };
  startAfter?: Date | number;
  /** Who created it, for the `Job created` log line. */
  source?: string;
  /** Use this id instead of a new one (lets a caller store it before the send). */
  id?: string;
}

export interface EnqueuedJob {
  id: string;
  type: JobName;
  priority: number;
  parentId: string | null;
  /** Writes the `Job created` log line; call after the transaction commits when `trx` was used. */
  announce(): void;
}

export interface JobQueue {
  /** Resolves null when a queue policy (singleton, debounce) folded the job into an existing one. */
  enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    opts?: EnqueueOptions,
  ): Promise<EnqueuedJob | null>;
  /**
   * Bulk path (one `insert()` per 1,000 jobs): for fan-outs like a library scan's thousands of
   * `scan-movie` jobs, where one `send()` per job costs more than the work. No coalescing.
   */
  enqueueMany<N extends JobName>(
    name: N,
    payloads: JobPayload<N>[],
    opts?: Pick<EnqueueOptions, 'parentId' | 'priority' | 'source'>,
  ): Promise<EnqueuedJob[]>;
  /**
   * The bulk path with each job's own id, parent and priority (a batch's follow-ups). A job whose id
   * exists already is folded into it: only the jobs actually created are returned (and announced).
   */
  insertMany<N extends JobName>(
    name: N,
    items: BulkJob<N>[],
    opts?: Pick<EnqueueOptions, 'source'>,
  ): Promise<EnqueuedJob[]>;
}

export interface BulkJob<N extends JobName> {
  payload: JobPayload<N>;
  id?: string;
  parentId?: string | null;
  /** Default: the catalog's. */
  priority?: number;
}

export function createJobQueue(deps: { boss: PgBoss; db: AnyKysely; log: Logger }): JobQueue {
  const log = deps.log.child({ service: 'JobQueue' });
  return {
    async enqueue(name, payload, opts = {}) {
      const def = jobCatalog[name];
      if (!def.validator.check(payload)) {
        const issue = def.validator.errors(payload)[0];
        throw permanent(
          'INVALID_JOB_PAYLOAD',
          `${name} payload${issue?.path ?? ''} ${issue?.message ?? 'is invalid'}`,
        );
      }
      if (!opts.trx) {
        // The job and its `job:created` NOTIFY commit together: a worker cannot pick the job up (and
        // publish `job:started`) before the feed has seen it created.
        const job = await deps.db
          .transaction()
          .execute((trx) => this.enqueue(name, payload, { ...opts, trx }));
        job?.announce();
        return job;
      }
      const id = opts.id ?? randomUUID();
      const priority = opts.priority ?? def.policy.priority;
      const parentId = opts.parentId ?? null;
      const envelope: JobEnvelope = { payload, parentId };
      const sendOpts: SendOptions = { id, priority: toBossPriority(priority) };
      if (opts.singletonKey) sendOpts.singletonKey = opts.singletonKey;
      if (opts.startAfter !== undefined)
        sendOpts.startAfter = opts.startAfter instanceof Date ? opts.startAfter : opts.startAfter;
      if (opts.retry?.delay !== undefined) sendOpts.retryDelay = opts.retry.delay;
      if (opts.retry?.delayMax !== undefined) sendOpts.retryDelayMax = opts.retry.delayMax;
      if (opts.retry?.limit !== undefined) sendOpts.retryLimit = opts.retry.limit;
      if (opts.trx) sendOpts.db = fromKysely(opts.trx as never);
      const coalesce = opts.coalesce === undefined ? catalogCoalesce(name, payload) : opts.coalesce || null;
      let sent: string | null;
      if (coalesce && coalesce.seconds > 0) {
        // Slots live in pgboss.job (a unique index on name + slot + key), so every replica agrees.
        if (coalesce.mode === 'debounce') {
          // A job for this key that has not started yet will see this change too: nothing to add.
          // Otherwise the window's slot takes it (at once), or the next window's (one more run).
          sent = (await hasWaitingJob(opts.trx ?? deps.db, name, coalesce.key))
            ? null
            : await deps.boss.sendDebounced(name, envelope, sendOpts, coalesce.seconds, coalesce.key);
        } else {
          sent = await deps.boss.sendThrottled(name, envelope, sendOpts, coalesce.seconds, coalesce.key);
        }
      } else {
        sent = await deps.boss.send(name, envelope, sendOpts);
      }
      if (sent === null) {
        log.debug(
          { type: name, singletonKey: coalesce ? coalesce.key : opts.singletonKey, parentId },
          'Job folded into an existing one',
        );
        return null;
      }
      await publishJobEvent(opts.trx ?? deps.db, {
        event: 'job:created',
        data: { jobId: id, type: name, priority, parentId },
      });
      const announce = () =>
        log.info({ jobId: id, type: name, priority, parentId, source: opts.source }, 'Job created');
      if (!opts.trx) announce();
      return { id, type: name, priority, parentId, announce };
    },
    async enqueueMany(name, payloads, opts = {}) {
      const parentId = opts.parentId ?? null;
      return this.insertMany(
        name,
        payloads.map((payload) => ({
          payload,
          parentId,
          ...(opts.priority !== undefined && { priority: opts.priority }),
        })),
        { ...(opts.source !== undefined && { source: opts.source }) },
      );
    },
    async insertMany(name, items, opts = {}) {
      const def = jobCatalog[name];
      for (const [i, item] of items.entries()) {
        if (!def.validator.check(item.payload)) {
          const issue = def.validator.errors(item.payload)[0];
          throw permanent(
            'INVALID_JOB_PAYLOAD',
            `${name} payload[${i}]${issue?.path ?? ''} ${issue?.message ?? 'is invalid'}`,
          );
        }
      }
      const out: EnqueuedJob[] = [];
      for (let i = 0; i < items.length; i += 1000) {
        const chunk = items.slice(i, i + 1000).map((item) => {
          const priority = item.priority ?? def.policy.priority;
          const parentId = item.parentId ?? null;
          return { id: item.id ?? randomUUID(), payload: item.payload, priority, parentId };
        });
        const created = new Set(
          (await deps.boss.insert(
            name,
            chunk.map((j) => ({
              id: j.id,
              data: { payload: j.payload, parentId: j.parentId } satisfies JobEnvelope,
              priority: toBossPriority(j.priority),
            })),
            { returnId: true },
          )) ?? [],
        );
        const jobs = chunk.filter((j) => created.has(j.id));
        if (!jobs.length) continue;
        // One round trip publishes the whole chunk's feed events.
        await sql`select pg_notify(${JOB_EVENTS_CHANNEL}, e) from unnest(${jobs.map((j) =>
          encodeJobEvent({
            event: 'job:created',
            data: { jobId: j.id, type: name, priority: j.priority, parentId: j.parentId },
          }),
        )}::text[]) as e`.execute(deps.db);
        for (const j of jobs) {
          const fields = { jobId: j.id, type: name, priority: j.priority, parentId: j.parentId };
          log.info({ ...fields, source: opts.source }, 'Job created');
          out.push({ id: j.id, type: name, priority: j.priority, parentId: j.parentId, announce: () => {} });
        }
      }
      return out;
    },
  };
}

/** Whether a job with this key is created or in retry (not started): pg-boss's job_i17 index. */
async function hasWaitingJob(db: AnyKysely, name: string, key: string): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`
    select 1 as one from pgboss.job
    where name = ${name} and singleton_key = ${key} and singleton_key is not null
      and state < 'active'
    limit 1`.execute(db);
  return rows.length > 0;
}

function catalogCoalesce<N extends JobName>(name: N, payload: JobPayload<N>): CoalesceSpec | null {
  const def = jobCatalog[name] as { coalesce?: (p: JobPayload<N>) => CoalesceSpec | null };
  return def.coalesce ? def.coalesce(payload) : null;
}

export interface BossOptions {
  connectionString: string;
  max?: number;
  /** Instance name in pg-boss's registry: `api`, `worker`. */
  instanceName: string;
  /** Whether this instance runs maintenance (expiry, retention). Workers do; the API need not. */
  supervise?: boolean;
  schedule?: boolean;
  /** Server options for every session, e.g. `-c synchronous_commit=off`. */
  options?: string;
}

export function createBoss(opts: BossOptions): PgBoss {
  return new PgBoss({
    connectionString: opts.connectionString,
    ...(opts.options && { options: opts.options }),
    max: opts.max ?? 5,
    application_name: `metarr-${opts.instanceName}`,
    instanceName: opts.instanceName,
    // NOTIFY wake-ups: pickup in milliseconds instead of the 2 s polling interval.
    useListenNotify: true,
    supervise: opts.supervise ?? true,
    schedule: opts.schedule ?? true,
    // Recover a killed worker's jobs in seconds, not minutes (defaults are 60 s).
    superviseIntervalSeconds: 5,
    monitorIntervalSeconds: 5,
    connectionTimeoutMillis: 3000,
  });
}

/**
 * Every catalog queue's heartbeat. A running job's worker refreshes it every half period; the
 * supervisor (every 5 s) fails a job whose heartbeat went stale, so the job of a `kill -9`ed, paused
 * or cut-off worker is retried elsewhere within ~10-15 s instead of after `expireInSeconds` (5 min).
 * The stale attempt, should it wake up, is fenced by the worker runtime (lease check) and by pg-boss
 * (completion is keyed on id + retryCount).
 */
export const JOB_HEARTBEAT_SECONDS = 10;

/** Creates every catalog queue with its policy; updates policies that changed since last start. */
export async function ensureQueues(
  boss: PgBoss,
  opts: {
    /** METARR_JOB_RETENTION_DAYS: overrides every queue's `deleteAfterSeconds` (finished jobs). */
    retentionDays?: number;
  } = {},
): Promise<void> {
  await boss.createQueue(DEAD_LETTER_QUEUE, {
    retryLimit: 0,
    deleteAfterSeconds: 30 * 86_400,
    retentionSeconds: 30 * 86_400,
  });
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  for (const name of jobNames) {
    const p = jobCatalog[name].policy;
    const options = {
      retryLimit: p.retryLimit,
      retryDelay: p.retryDelay,
      retryBackoff: true,
      retryDelayMax: p.retryDelayMax,
      expireInSeconds: p.expireInSeconds,
      deleteAfterSeconds:
        opts.retentionDays !== undefined ? opts.retentionDays * 86_400 : p.deleteAfterSeconds,
      notify: true,
      heartbeatSeconds: JOB_HEARTBEAT_SECONDS,
    };
    if (existing.has(name)) {
      await boss.updateQueue(name, options);
    } else {
      await boss.createQueue(name, { ...options, deadLetter: DEAD_LETTER_QUEUE });
    }
  }
  await ensureJobIndexes(boss);
}

/** Our index on pg-boss's job table: children by `data->>'parentId'` (job list, detail, tree). */
export const JOB_PARENT_INDEX = 'metarr_job_parent_id';
/**
 * Our index on pg-boss's job table: a job by id alone (detail, retry, the tree's anchors and walk
 * up). pg-boss's primary key is (name, id); only PostgreSQL 18's skip scan seeks it by id, so on 17
 * (docker-compose) and older each lookup read the whole table (30 ms at 300,000 jobs on PG 15).
 */
export const JOB_ID_INDEX = 'metarr_job_id';
// Any fixed key apart from the migrations' (7_979_001).
const JOB_INDEX_LOCK_KEY = 7_979_002;

/**
 * Creates our indexes once pg-boss's schema exists. Built on the partitioned parent, so
 * PostgreSQL adds them to every partition, including ones a later `createQueue` attaches. One DO
 * block = one transaction: the advisory lock makes concurrent starts wait for the first build
 * instead of racing on the catalog, and the catalog check first means a start that finds them
 * takes no table lock (CREATE INDEX, even IF NOT EXISTS, would block job writes while it waits).
 */
async function ensureJobIndexes(boss: PgBoss): Promise<void> {
  await boss.getDb().executeSql(`
    do $$
    begin
      if to_regclass('pgboss.${JOB_PARENT_INDEX}') is null or to_regclass('pgboss.${JOB_ID_INDEX}') is null then
        perform pg_advisory_xact_lock(${JOB_INDEX_LOCK_KEY});
        create index if not exists ${JOB_PARENT_INDEX} on pgboss.job ((data->>'parentId'));
        create index if not exists ${JOB_ID_INDEX} on pgboss.job (id);
      end if;
    end $$`);
}
