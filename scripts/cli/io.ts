/** What every CLI command shares: parsed flags, output as aligned columns or JSON, one-line errors. */

/** A failure the user can act on: printed as one line, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Args {
  positional: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

/** `--name value` only for the flags in `valued`; every other `--flag` is a boolean. */
export function parseArgs(argv: string[], valued: readonly string[] = []): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (valued.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new CliError(`--${name} needs a value`, 2);
      flags.set(name, v);
    } else flags.set(name, true);
  }
  return { positional, flags, json: flags.has('json') };
}

/** Rejects flags a command does not know, naming the first. */
export function allowFlags(args: Args, known: readonly string[]): void {
  for (const f of args.flags.keys())
    if (f !== 'json' && !known.includes(f)) throw new CliError(`unknown option --${f}`, 2);
}

export function intFlag(args: Args, name: string, fallback: number, max: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(`--${name} must be a whole number from 1 to ${max}`, 2);
  return n;
}

export const out = (s = '') => process.stdout.write(`${s}\n`);
export const printJson = (v: unknown) => out(JSON.stringify(v, null, 2));

/** Rows as aligned columns under a header; `(none)` when there are no rows. */
export function table(headers: string[], rows: (string | number | null)[][]): string {
  if (!rows.length) return '(none)';
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A date as `2026-12-05 12:54:32` (UTC), or `-`. */
export function when(d: Date | string | null | undefined): string | null {
  if (!d) return null;
  return new Date(d).toISOString().replace('T', ' ').slice(0, 19);
}
