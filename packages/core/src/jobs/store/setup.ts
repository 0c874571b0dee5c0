import { PgBoss } from 'pg-boss';
import { DEAD_LETTER_QUEUE, jobCatalog, jobNames } from '../catalog.ts';

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
/**
 * Our indexes for the job list (`GET /api/jobs`, newest first, paged) on a table of a million rows:
 * all jobs and by state, each ordered by `created_on, id`, so a page is read in index order instead
 * of sorting every matching row (by type, pg-boss's own `(name, created_on)` serves).
 */
export const JOB_LIST_INDEXES = {
  metarr_job_created: '(created_on, id)',
  // Finished jobs only (`name` included: the stats' recent ones per type are counted from the index
  // alone). Never waiting ones: an index on `state, created_on` over those is one pg-boss's fetch
  // (`state < 'active'`) could pick instead of its own per-queue index, reading every queue's
  // waiting and delayed jobs on each poll.
  metarr_job_finished_created: "(state, created_on, id) include (name) where state > 'active'",
  // Root jobs only (webhooks, library scans, schedules: `?root=true`), a small part of the table.
  metarr_job_root: "(created_on, id) where coalesce(data->>'parentId', '') = ''",
  // A movie's job history (`?movieId=`, the web app's movie view).
  metarr_job_movie:
    "((data->'payload'->>'movieId'), created_on, id) where data->'payload'->>'movieId' is not null",
} as const;
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
  const names = [JOB_PARENT_INDEX, JOB_ID_INDEX, ...Object.keys(JOB_LIST_INDEXES)];
  await boss.getDb().executeSql(`
    do $$
    begin
      if ${names.map((n) => `to_regclass('pgboss.${n}') is null`).join(' or ')} then
        perform pg_advisory_xact_lock(${JOB_INDEX_LOCK_KEY});
        -- Replaced by metarr_job_finished_created (it covered waiting jobs too; see JOB_LIST_INDEXES).
        drop index if exists pgboss.metarr_job_state_created;
        create index if not exists ${JOB_PARENT_INDEX} on pgboss.job ((data->>'parentId'));
        create index if not exists ${JOB_ID_INDEX} on pgboss.job (id);
        ${Object.entries(JOB_LIST_INDEXES)
          .map(([n, cols]) => `create index if not exists ${n} on pgboss.job ${cols};`)
          .join('\n        ')}
      end if;
    end $$`);
}
