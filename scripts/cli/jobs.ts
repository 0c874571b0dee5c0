/** `status`, `jobs` and `retry`: the job store read and driven directly, as the API does it. */
import { createJobControl, DEAD_LETTER_QUEUE, type JobRow, jobErrorOf } from '@metarr/core';
import { withDatabase } from './context.ts';
import { type Args, allowFlags, CliError, intFlag, out, printJson, table, when } from './io.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const jobJson = (r: JobRow) => ({
  id: r.id,
  type: r.name,
  state: r.state,
  attempts: r.retry_count + (r.started_on ? 1 : 0),
  createdAt: r.created_on,
  completedAt: r.completed_on,
  error: r.state === 'failed' || r.state === 'retry' ? jobErrorOf(r.output) : null,
});

const jobRows = (rows: JobRow[]) =>
  table(
    ['ID', 'TYPE', 'STATE', 'ATTEMPTS', 'CREATED', 'ERROR'],
    rows.map((r) => {
      const j = jobJson(r);
      return [j.id, j.type, j.state, j.attempts, when(j.createdAt), j.error];
    }),
  );

export async function status(args: Args): Promise<void> {
  allowFlags(args, []);
  await withDatabase(async (ctx) => {
    const instances = (await ctx.boss.getInstances()).filter((i) => i.live && i.name !== 'cli');
    const processes = instances.map((i) => ({
      kind: i.name,
      host: i.host,
      pid: i.pid,
      jobsInFlight: i.workers.reduce((n, w) => n + w.active, 0),
      lastHeartbeat: i.heartbeatOn,
    }));
    const stats = await ctx.reader.stats();
    const queues = Object.entries(stats)
      .filter(([name]) => name !== DEAD_LETTER_QUEUE)
      .map(([type, s]) => ({
        type,
        queued: (s.created ?? 0) + (s.retry ?? 0),
        active: s.active ?? 0,
        failed: s.failed ?? 0,
      }));
    const lastErrors = (await ctx.reader.list({ state: 'failed' }, { limit: 5 })).map(jobJson);
    if (args.json) return printJson({ processes, queues, lastErrors });
    out('Processes');
    out(
      table(
        ['KIND', 'HOST', 'PID', 'IN FLIGHT', 'LAST HEARTBEAT'],
        processes.map((p) => [p.kind, p.host, p.pid, p.jobsInFlight, when(p.lastHeartbeat)]),
      ),
    );
    if (!processes.some((p) => p.kind === 'worker')) out('No live worker: queued jobs will not run.');
    out('\nQueues');
    out(
      table(
        ['TYPE', 'QUEUED', 'ACTIVE', 'FAILED'],
        queues.map((q) => [q.type, q.queued, q.active, q.failed]),
      ),
    );
    out('\nLast errors');
    out(
      table(
        ['ID', 'TYPE', 'FAILED AT', 'ERROR'],
        lastErrors.map((e) => [e.id, e.type, when(e.completedAt), e.error]),
      ),
    );
  });
}

export async function jobs(args: Args): Promise<void> {
  allowFlags(args, ['failed', 'limit']);
  const limit = intFlag(args, 'limit', 20, 1000);
  await withDatabase(async (ctx) => {
    const rows = await ctx.reader.list(args.flags.has('failed') ? { state: 'failed' } : {}, { limit });
    if (args.json) return printJson(rows.map(jobJson));
    out(jobRows(rows));
  });
}

export async function retry(args: Args): Promise<void> {
  allowFlags(args, ['all-failed']);
  const all = args.flags.has('all-failed');
  const id = args.positional[0];
  if (all === (id !== undefined) || args.positional.length > 1)
    throw new CliError('give one job id or --all-failed', 2);
  await withDatabase(async (ctx) => {
    const ids = all
      ? (await ctx.reader.list({ state: 'failed' }, { limit: 10_000 })).map((r) => r.id)
      : [id as string];
    if (!all && !UUID.test(id as string)) throw new CliError(`job ${id} not found (not a job id)`);
    const control = createJobControl({ boss: ctx.boss, reader: ctx.reader });
    const retried: string[] = [];
    for (const jobId of ids) {
      const r = await control.retry(jobId);
      if (r.outcome === 'done') retried.push(jobId);
      else if (!all) {
        if (r.outcome === 'not-found') throw new CliError(`job ${jobId} not found`);
        if (r.outcome === 'dead-letter')
          throw new CliError(`job ${jobId} is a dead-letter entry; retry the job it names instead`);
        throw new CliError(`job ${jobId} is ${r.state}; only failed or cancelled jobs can be retried`);
      }
    }
    if (args.json) return printJson({ retried });
    out(all ? `Retried ${retried.length} failed job(s).` : `Job ${retried[0]} queued again.`);
  });
}
