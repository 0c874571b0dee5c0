/** The command table and dispatch: help, `<command> --help`, exit codes, one-line errors. */
import { apiKey } from './apiKey.ts';
import { doctor } from './doctor.ts';
import { type Args, CliError, parseArgs } from './io.ts';
import { jobs, retry, status } from './jobs.ts';
import { explain, scan } from './library.ts';

interface Command {
  usage: string;
  summary: string;
  /** Options taking a value. */
  valued?: string[];
  /** Resolves an exit code (a number), anything else meaning 0. */
  run(args: Args): Promise<unknown>;
}

export const commands: Record<string, Command> = {
  status: {
    usage: 'status [--json]',
    summary: 'Live processes, queue depth per job type and the last failed jobs',
    run: status,
  },
  jobs: {
    usage: 'jobs [--failed] [--limit N] [--json]',
    summary: 'The newest jobs (default 20), or only the failed ones',
    valued: ['limit'],
    run: jobs,
  },
  retry: {
    usage: 'retry <jobId> | retry --all-failed [--json]',
    summary: 'Run a failed or cancelled job again, or every failed job',
    run: retry,
  },
  scan: {
    usage: 'scan <library id or path> [--json]',
    summary: 'Queue a scan of one library: new, changed and vanished folders are reconciled',
    run: scan,
  },
  explain: {
    usage: 'explain <radarr|sonarr|lidarr> <path> [--json]',
    summary: 'How a path the *arr app sends maps to a library and each player, or why it stops',
    run: explain,
  },
  doctor: {
    usage: 'doctor [--json]',
    summary: 'Check Node, the database, each library, player and TMDB, and say what to fix',
    run: doctor,
  },
  'api-key': {
    usage: 'api-key [--rotate|--regenerate]',
    summary: 'Issue a new API key (printed once); the old one stops working at once',
    run: apiKey,
  },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: pnpm metarr <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  This text; \`pnpm metarr <command> --help\` for one command`,
    '',
    'The CLI reads DATABASE_URL (or the embedded database under METARR_DATA_DIR) like `pnpm start`;',
    'the API need not be running. Exit code: 0 ok, 1 failure, 2 usage error.',
  ].join('\n');
}

const commandHelp = (c: Command) => `usage: pnpm metarr ${c.usage}\n\n${c.summary}.`;

/** Runs one command line; resolves the exit code. Errors are one line on stderr, never a stack. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    const c = topic ? commands[topic] : undefined;
    process.stdout.write(`${c && topic ? commandHelp(c) : helpText()}\n`);
    return topic && !c ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`metarr: unknown command "${name}"\n\n${helpText()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  try {
    const code = await command.run(parseArgs(rest, command.valued));
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    const usage = err instanceof CliError && err.exitCode === 2;
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`metarr ${name}: ${message}\n`);
    if (usage) process.stderr.write(`usage: pnpm metarr ${command.usage}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
