import { randomUUID } from 'node:crypto';
import { fromKysely, PgBoss, type SendOptions } from 'pg-boss';
import { permanent } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  DEAD_LETTER_QUEUE,
  type JobEnvelope,
  type JobName,
  type JobPayload,
  jobCatalog,
  jobNames,
  toBossPriority,
} from './catalog.ts';
import type { AnyKysely } from './events.ts';
import { publishJobEvent } from './events.ts';

export interface EnqueueOptions {
  parentId?: string | null;
  /** Run inside this Kysely transaction: the job exists only if it commits. */
  trx?: AnyKysely;
  /** Override the catalog's priority (1 most urgent … 10 least). */
  priority?: number;
  singletonKey?: string;
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
      const id = opts.id ?? randomUUID();
      const priority = opts.priority ?? def.policy.priority;
      const parentId = opts.parentId ?? null;
      const envelope: JobEnvelope = { payload, parentId };
      const sendOpts: SendOptions = { id, priority: toBossPriority(priority) };
      if (opts.singletonKey) sendOpts.singletonKey = opts.singletonKey;
      if (opts.startAfter !== undefined)
        sendOpts.startAfter = opts.startAfter instanceof Date ? opts.startAfter : opts.startAfter;
      if (opts.trx) sendOpts.db = fromKysely(opts.trx as never);
      const sent = await deps.boss.send(name, envelope, sendOpts);
      if (sent === null) {
        log.debug(
          { type: name, singletonKey: opts.singletonKey, parentId },
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
  };
}

export interface BossOptions {
  connectionString: string;
  max?: number;
  /** Instance name in pg-boss's registry: `api`, `worker`. */
  instanceName: string;
  /** Whether this instance runs maintenance (expiry, retention). Workers do; the API need not. */
  supervise?: boolean;
  schedule?: boolean;
}

export function createBoss(opts: BossOptions): PgBoss {
  return new PgBoss({
    connectionString: opts.connectionString,
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

/** Creates every catalog queue with its policy; updates policies that changed since last start. */
export async function ensureQueues(boss: PgBoss): Promise<void> {
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
      deleteAfterSeconds: p.deleteAfterSeconds,
      notify: true,
    };
    if (existing.has(name)) {
      await boss.updateQueue(name, options);
    } else {
      await boss.createQueue(name, { ...options, deadLetter: DEAD_LETTER_QUEUE });
    }
  }
}
