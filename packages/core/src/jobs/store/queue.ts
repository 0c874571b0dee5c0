import { randomUUID } from 'node:crypto';
import { fromKysely, type PgBoss, type SendOptions } from 'pg-boss';
import { permanent } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import {
  type CoalesceSpec,
  type JobEnvelope,
  type JobName,
  type JobPayload,
  jobCatalog,
  toBossPriority,
} from '../catalog.ts';
import type { AnyKysely } from '../events.ts';
import { type JobEvent, publishJobEvents } from '../events.ts';
import { createJobReader } from './read.ts';

export interface EnqueueOptions {
  parentId?: string | null;
  /** Run inside this Kysely transaction: the job exists only if it commits. */
  trx?: AnyKysely;
  /** Override the catalog's priority (1 most urgent … 10 least). */
  priority?: number;
  singletonKey?: string;
  /**
   * Fold jobs by key and window; overrides the catalog's `coalesce` for this job (`false`: none).
   * `debounce`: a job that takes the current window starts at `startAfter` (alerts wait one digest
   * window this way); one pushed to the next window starts when that window does.
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
   * Several jobs by `enqueue`'s rules (validation, coalescing, per-job options) in one transaction
   * (`opts.trx`, else one of its own): one query tells which coalesce keys already have a job waiting,
   * one publishes the feed events, and each job is one insert. A later item whose debounce key an
   * earlier item of the call took folds into it, as a second `enqueue` would. Resolves per item: the
   * job, or null when folded.
   */
  enqueueAll<N extends JobName>(
    name: N,
    items: { payload: JobPayload<N>; opts?: Omit<EnqueueOptions, 'trx'> }[],
    opts?: Pick<EnqueueOptions, 'trx'>,
  ): Promise<(EnqueuedJob | null)[]>;
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
   * The bulk path with each job's own id, parent and priority (a batch's follow-ups, a webhook
   * batch). A job whose id exists already is folded into it: only the jobs actually created are
   * returned (and announced). With `trx`, the jobs and their feed events commit with the caller's
   * transaction, and the caller calls each job's `announce()` after the commit.
   */
  insertMany<N extends JobName>(
    name: N,
    items: BulkJob<N>[],
    opts?: Pick<EnqueueOptions, 'source' | 'trx'>,
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
  const reader = (db: AnyKysely) => (db === deps.db ? dbReader : createJobReader(db));
  const dbReader = createJobReader(deps.db);
  /** `enqueue`'s rules for each item, inside `trx`; `Job created` lines are left to announce(). */
  async function enqueueIn<N extends JobName>(
    trx: AnyKysely,
    name: N,
    items: { payload: JobPayload<N>; opts?: Omit<EnqueueOptions, 'trx'> | undefined }[],
  ): Promise<(EnqueuedJob | null)[]> {
    const def = jobCatalog[name];
    for (const { payload } of items) {
      if (!def.validator.check(payload)) {
        const issue = def.validator.errors(payload)[0];
        throw permanent(
          'INVALID_JOB_PAYLOAD',
          `${name} payload${issue?.path ?? ''} ${issue?.message ?? 'is invalid'}`,
        );
      }
    }
    const specs = items.map(({ payload, opts = {} }) => {
      const c = opts.coalesce === undefined ? catalogCoalesce(name, payload) : opts.coalesce || null;
      return c && c.seconds > 0 ? c : null;
    });
    // Debounce: a key with a job that has not started yet sees this change too (one query for all).
    const debounceKeys = specs.flatMap((c) => (c?.mode === 'debounce' ? [c.key] : []));
    const waiting = debounceKeys.length
      ? await reader(trx).waitingKeys(name, [...new Set(debounceKeys)])
      : new Set<string>();
    const out: (EnqueuedJob | null)[] = items.map(() => null);
    const events: JobEvent[] = [];
    // Coalesced items in key order (stable: a key's items keep theirs), so two transactions that
    // take the same slots take them in the same order and wait on each other instead of deadlocking.
    const order = items.map((_, i) => i);
    if (items.length > 1)
      order.sort((a, b) => {
        const ka = specs[a]?.key ?? '';
        const kb = specs[b]?.key ?? '';
        return ka < kb ? -1 : ka > kb ? 1 : a - b;
      });
    const ids = items.map(({ opts }) => opts?.id ?? randomUUID());
    // Debounce's first try for many keys in one statement: the window's slot, as sendDebounced's
    // first insert. A key whose slot is taken (its job already started) goes on below to
    // sendDebounced, which takes the next window's slot.
    const firstTry = new Set<number>();
    const seen = new Set<string>();
    for (const i of order) {
      const c = specs[i];
      if (c?.mode !== 'debounce' || waiting.has(c.key) || seen.has(c.key)) continue;
      seen.add(c.key);
      const o = items[i]?.opts;
      if (o?.startAfter === undefined && !o?.singletonKey) firstTry.add(i);
    }
    const made = new Set<string>();
    if (firstTry.size > 1) {
      const rows = [...firstTry].map((i) => {
        const { payload, opts = {} } = items[i] as (typeof items)[number];
        const c = specs[i] as CoalesceSpec;
        return {
          id: ids[i] as string,
          data: { payload, parentId: opts.parentId ?? null } satisfies JobEnvelope,
          priority: toBossPriority(opts.priority ?? def.policy.priority),
          singletonKey: c.key,
          singletonSeconds: c.seconds,
          ...(opts.retry?.delay !== undefined && { retryDelay: opts.retry.delay }),
          ...(opts.retry?.delayMax !== undefined && { retryDelayMax: opts.retry.delayMax }),
          ...(opts.retry?.limit !== undefined && { retryLimit: opts.retry.limit }),
        };
      });
      for (const id of (await deps.boss.insert(name, rows, {
        returnId: true,
        db: fromKysely(trx as never),
      })) ?? [])
        made.add(id);
    }
    for (const i of order) {
      const { payload, opts = {} } = items[i] as (typeof items)[number];
      const coalesce = specs[i] ?? null;
      const id = ids[i] as string;
      const priority = opts.priority ?? def.policy.priority;
      const parentId = opts.parentId ?? null;
      const envelope: JobEnvelope = { payload, parentId };
      const sendOpts: SendOptions = { id, priority: toBossPriority(priority), db: fromKysely(trx as never) };
      if (opts.singletonKey) sendOpts.singletonKey = opts.singletonKey;
      if (opts.startAfter !== undefined) sendOpts.startAfter = opts.startAfter;
      if (opts.retry?.delay !== undefined) sendOpts.retryDelay = opts.retry.delay;
      if (opts.retry?.delayMax !== undefined) sendOpts.retryDelayMax = opts.retry.delayMax;
      if (opts.retry?.limit !== undefined) sendOpts.retryLimit = opts.retry.limit;
      let sent: string | null;
      if (coalesce) {
        // Slots live in pgboss.job (a unique index on name + slot + key), so every replica agrees.
        if (coalesce.mode === 'debounce') {
          // Otherwise the window's slot takes it (at once), or the next window's (one more run).
          sent = made.has(id)
            ? id
            : waiting.has(coalesce.key)
              ? null
              : await deps.boss.sendDebounced(name, envelope, sendOpts, coalesce.seconds, coalesce.key);
          // The job just made waits, so a later item of this call with the key folds into it.
          if (sent !== null) waiting.add(coalesce.key);
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
        continue;
      }
      events.push({ event: 'job:created', data: { jobId: id, type: name, priority, parentId } });
      const announce = () =>
        log.info({ jobId: id, type: name, priority, parentId, source: opts.source }, 'Job created');
      out[i] = { id, type: name, priority, parentId, announce };
    }
    // One round trip for every job's feed event, committed with the jobs.
    await publishJobEvents(trx, events);
    return out;
  }
  return {
    async enqueue(name, payload, opts = {}) {
      if (!opts.trx) {
        // The job and its `job:created` NOTIFY commit together: a worker cannot pick the job up (and
        // publish `job:started`) before the feed has seen it created.
        const job = await deps.db
          .transaction()
          .execute((trx) => this.enqueue(name, payload, { ...opts, trx }));
        job?.announce();
        return job;
      }
      const [job] = await enqueueIn(opts.trx, name, [{ payload, opts }]);
      return job ?? null;
    },
    async enqueueAll(name, items, opts = {}) {
      if (!items.length) return [];
      if (!opts.trx) {
        const jobs = await deps.db.transaction().execute((trx) => enqueueIn(trx, name, items));
        for (const j of jobs) j?.announce();
        return jobs;
      }
      return enqueueIn(opts.trx, name, items);
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
            { returnId: true, ...(opts.trx && { db: fromKysely(opts.trx as never) }) },
          )) ?? [],
        );
        const jobs = chunk.filter((j) => created.has(j.id));
        if (!jobs.length) continue;
        // One round trip publishes the whole chunk's feed events.
        await publishJobEvents(
          opts.trx ?? deps.db,
          jobs.map((j) => ({
            event: 'job:created',
            data: { jobId: j.id, type: name, priority: j.priority, parentId: j.parentId },
          })),
        );
        for (const j of jobs) {
          const fields = { jobId: j.id, type: name, priority: j.priority, parentId: j.parentId };
          const announce = () => log.info({ ...fields, source: opts.source }, 'Job created');
          if (!opts.trx) announce();
          out.push({
            id: j.id,
            type: name,
            priority: j.priority,
            parentId: j.parentId,
            announce: opts.trx ? announce : () => {},
          });
        }
      }
      return out;
    },
  };
}

function catalogCoalesce<N extends JobName>(name: N, payload: JobPayload<N>): CoalesceSpec | null {
  const def = jobCatalog[name] as { coalesce?: (p: JobPayload<N>) => CoalesceSpec | null };
  return def.coalesce ? def.coalesce(payload) : null;
}
