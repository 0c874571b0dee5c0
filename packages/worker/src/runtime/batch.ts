import {
  completeAttempt,
  type Db,
  type JobEnvelope,
  type JobName,
  type JobQueue,
  jobCatalog,
  leasesHeld,
} from '@metarr/core';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import type { BatchJobHandler, BatchJobOutcome } from '../context.ts';
import {
  type Attempt,
  attemptCompleted,
  attemptContext,
  attemptFailed,
  attemptSuperseded,
  beginAttempt,
  payloadError,
} from './attempt.ts';
import { followUp } from './context.ts';
import { EventBatch } from './events.ts';
import { noPlayerCalls } from './lease.ts';
import type { WorkerRuntimeOptions } from './options.ts';

/**
 * A fetched batch of more than one job run by the queue's batch handler (a library scan's bulk
 * `scan-movie` jobs): one handler call, one write transaction fenced per job (`fence`), follow-ups
 * in one insert, and the jobs settled by pg-boss in one statement per outcome (perJobResults).
 * Each job keeps its own lifecycle: `Job started` / `Job completed` / `Job failed` (or
 * `Job attempt superseded`) lines with its jobId, its own feed events (one NOTIFY per phase), its
 * own output; an invalid payload dead-letters that job alone, as in runJob.
 */
export async function runBatch(
  opts: WorkerRuntimeOptions,
  queue: JobQueue,
  name: JobName,
  jobs: JobWithMetadata<JobEnvelope>[],
  handler: BatchJobHandler<JobName>,
): Promise<JobResult[]> {
  const events = new EventBatch(opts.db);
  const entries = jobs.map((job) => beginAttempt(opts, name, job));
  events.started.push(...entries.map((e) => e.startedEvent));
  await events.flushStarted();
  type Entry = Attempt;

  const results: JobResult[] = new Array(jobs.length);
  const superseded = (i: number, err?: unknown) => {
    results[i] = attemptSuperseded(entries[i] as Entry, err);
  };
  const failed = async (i: number, err: unknown) => {
    results[i] = await attemptFailed(opts, entries[i] as Entry, err, (e) => events.rest.push(e), queue);
  };

  // Which of these jobs' attempts still hold their lease (`active` at the fetched retryCount).
  const holding = async (db: Db, idx: number[], lock: boolean, orCompleted = false): Promise<Set<string>> => {
    if (!idx.length) return new Set();
    return leasesHeld(
      db,
      name,
      idx.map((i) => (entries[i] as Entry).job),
      { lock, orCompleted },
    );
  };

  const valid: number[] = [];
  for (const [i, e] of entries.entries()) {
    const invalid = payloadError(name, e.envelope.payload);
    if (!invalid) {
      valid.push(i);
      continue;
    }
    if (await e.lease.holds().catch(() => true)) await failed(i, invalid);
    else superseded(i, invalid);
  }

  if (valid.length) {
    const ctxs = valid.map((i) => attemptContext(queue, opts, entries[i] as Entry));
    const indexOf = new Map(valid.map((i) => [(entries[i] as Entry).job.id, i]));
    let outcomes: BatchJobOutcome[];
    try {
      outcomes = await handler(
        {
          jobs: ctxs,
          fence: (trx) => holding(trx, valid, true, true),
          held: () => holding(opts.db, valid, false),
          completeNow: async (ctx, output) => {
            const e = entries[indexOf.get(ctx.id) as number] as Entry;
            // Best effort, as the per-job path's completeNow: the batch's settlement follows anyway.
            await completeAttempt(opts.boss, name, e.job, (output ?? null) as object | null).catch(() => {});
          },
          enqueueFollowUps: async (child, items) => {
            const out: (Awaited<ReturnType<JobQueue['enqueue']>> | null)[] = items.map(() => null);
            const childDef = jobCatalog[child] as { coalesce?: (p: unknown) => unknown };
            const bulk: number[] = [];
            const coalesced: number[] = [];
            for (const [k, it] of items.entries()) {
              // Retried attempts keep ctx.enqueue's folding rules.
              if (it.parent.retryCount > 0) out[k] = await it.parent.enqueue(child, it.payload, it.opts);
              // Coalesced types (and items with options) go through enqueue's rules, all in one
              // transaction; the rest in one bulk insert.
              else if (it.opts || childDef.coalesce?.(it.payload)) coalesced.push(k);
              else bulk.push(k);
            }
            if (coalesced.length) {
              const parents = [
                ...new Set(coalesced.map((k) => indexOf.get(items[k]?.parent.id as string) as number)),
              ];
              // Attempts that completed their job early (completeNow) still own their follow-ups.
              const live = await holding(opts.db, parents, false, true);
              const rows = coalesced.filter((k) => live.has(items[k]?.parent.id as string));
              const jobs = await queue.enqueueAll(
                child,
                rows.map((k) => {
                  const it = items[k] as (typeof items)[number];
                  const parent = entries[indexOf.get(it.parent.id) as number] as Entry;
                  const rule = followUp({ id: it.parent.id, priority: parent.priority }, child, it.payload);
                  return {
                    payload: it.payload,
                    opts: {
                      ...it.opts,
                      id: it.opts?.id ?? rule.id,
                      priority: it.opts?.priority ?? rule.priority,
                      parentId: it.parent.id,
                      source: name,
                    },
                  };
                }),
              );
              for (const [r, k] of rows.entries()) out[k] = jobs[r] ?? null;
            }
            // A stale attempt enqueues nothing (as ctx.enqueue's lease check), one query for all.
            const parents = [
              ...new Set(bulk.map((k) => indexOf.get(items[k]?.parent.id as string) as number)),
            ];
            const live = await holding(opts.db, parents, false);
            const rows: { k: number; id: string; priority: number; parentId: string }[] = [];
            const seen = new Set<string>();
            for (const k of bulk) {
              const it = items[k] as (typeof items)[number];
              if (!live.has(it.parent.id)) continue;
              const parent = entries[indexOf.get(it.parent.id) as number] as Entry;
              const { id, priority } = followUp(
                { id: it.parent.id, priority: parent.priority },
                child,
                it.payload,
              );
              if (seen.has(id)) continue;
              seen.add(id);
              rows.push({ k, id, priority, parentId: it.parent.id });
            }
            if (!rows.length) return out;
            const created = new Map(
              (
                await queue.insertMany(
                  child,
                  rows.map((r) => ({
                    id: r.id,
                    payload: items[r.k]?.payload as never,
                    parentId: r.parentId,
                    priority: r.priority,
                  })),
                  { source: name },
                )
              ).map((j) => [j.id, j]),
            );
            for (const r of rows) out[r.k] = created.get(r.id) ?? null;
            return out;
          },
        },
        { ...opts.deps, clientFor: handler.players ? opts.deps.clientFor : noPlayerCalls },
      );
      if (outcomes.length !== valid.length) {
        throw new Error(`batch handler returned ${outcomes.length} outcomes for ${valid.length} jobs`);
      }
    } catch (err) {
      outcomes = valid.map(() => ({ status: 'failed', error: err }));
    }

    // Completion is announced only by attempts that still hold their lease (one query for all);
    // pg-boss fences the settling statements on id + retryCount as well.
    const live = await holding(opts.db, valid, false).catch(() => null);
    for (const [k, i] of valid.entries()) {
      const o = outcomes[k] as BatchJobOutcome;
      const e = entries[i] as Entry;
      const lost = live !== null && !live.has(e.job.id);
      if (o.status === 'superseded' || (lost && o.status !== 'failed')) {
        superseded(i);
      } else if (o.status === 'failed') {
        if (lost) superseded(i, o.error);
        else await failed(i, o.error);
      } else {
        results[i] = await attemptCompleted(e, o.output, (evt) => events.rest.push(evt));
      }
    }
  }
  await events.flush();
  return results;
}
