import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { ROOT } from './stack.ts';

const exec = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `pnpm metarr` CLI as a child process; resolves its exit code and output, never throws. */
export async function cli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  try {
    const r = await exec(process.execPath, [path.join(ROOT, 'scripts', 'metarr.ts'), ...args], {
      env: { ...process.env, METARR_API_KEY: '', LOG_LEVEL: 'warn', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(e.code ?? -1), stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** An error is one line, never a stack trace. */
export function oneLine(t: Test, s: string): void {
  t.equal(s.trim().split('\n').length, 1, `one line: ${s.trim()}`);
  t.notMatch(s, /\n\s+at /, 'no stack trace');
}
