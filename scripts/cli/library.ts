/** `scan` and `explain`: the same services the API's library scan and path explain use. */
import path from 'node:path';
import { checkArrPath, createJobQueue, explainArrPath, listLibraries, type Manager } from '@metarr/core';
import { cliLog, withDatabase } from './context.ts';
import { type Args, allowFlags, CliError, out, printJson } from './io.ts';

const MANAGERS: readonly Manager[] = ['radarr', 'sonarr', 'lidarr'];

export async function scan(args: Args): Promise<void> {
  allowFlags(args, []);
  const [target, ...extra] = args.positional;
  if (target === undefined || extra.length) throw new CliError('give one library id or path', 2);
  await withDatabase(async (ctx) => {
    const libraries = await listLibraries(ctx.dbh.db);
    const library = /^\d+$/.test(target)
      ? libraries.find((l) => l.id === Number(target))
      : libraries.find((l) => path.resolve(l.path) === path.resolve(target));
    if (!library) {
      const known = libraries.map((l) => `${l.id} (${l.path})`).join(', ') || 'none configured';
      throw new CliError(`no library ${target}; libraries: ${known}`);
    }
    const queue = createJobQueue({ boss: ctx.boss, db: ctx.dbh.db, log: cliLog() });
    const job = await queue.enqueue('library-scan', { libraryId: library.id }, { source: 'cli' });
    if (args.json) return printJson({ libraryId: library.id, jobId: job?.id ?? null });
    out(
      job
        ? `Scan of library ${library.id} "${library.name}" queued as job ${job.id}.`
        : `A scan of library ${library.id} "${library.name}" is already queued.`,
    );
  });
}

export async function explain(args: Args): Promise<number> {
  allowFlags(args, []);
  const [manager, arrPath, ...extra] = args.positional;
  if (!manager || arrPath === undefined || extra.length) throw new CliError('give a manager and a path', 2);
  if (!MANAGERS.includes(manager as Manager))
    throw new CliError(`manager must be one of ${MANAGERS.join(', ')}`, 2);
  const problem = checkArrPath(arrPath);
  if (problem) throw new CliError(`path ${problem}`, 2);
  return withDatabase(async (ctx) => {
    const r = await explainArrPath(ctx.dbh.db, manager as Manager, arrPath);
    if (args.json) printJson(r);
    else for (const [i, step] of r.steps.entries()) out(`${i + 1}. ${step}`);
    // A path that reaches no library (or no player) is a failure a script can test for.
    return r.ok && !r.reason ? 0 : 1;
  });
}
