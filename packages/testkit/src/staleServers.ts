import fs from 'node:fs/promises';
import path from 'node:path';

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops and removes the throwaway embedded PostgreSQL servers of test runs that were killed (tap's
 * timeout, Ctrl-C twice): their directory is `<dir>/<prefix>-<pid>[-…]` and their owner `<pid>` is
 * gone, so nobody else will stop them. Each server's own pid is the first line of postmaster.pid.
 * Returns the directories removed.
 */
export async function cleanStaleTestServers(dir: string, prefixes: string[]): Promise<string[]> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const prefix = prefixes.find((p) => name.startsWith(`${p}-`));
    if (!prefix) continue;
    const owner = Number.parseInt(name.slice(prefix.length + 1), 10);
    if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;
    const full = path.join(dir, name);
    const pidFile = await fs.readFile(path.join(full, 'postmaster.pid'), 'utf8').catch(() => '');
    const server = Number.parseInt(pidFile.split('\n')[0] ?? '', 10);
    if (Number.isInteger(server) && server > 0 && alive(server)) {
      // SIGQUIT: immediate shutdown; the data is thrown away anyway.
      try {
        process.kill(server, 'SIGQUIT');
      } catch {}
      for (let i = 0; i < 100 && alive(server); i++) await new Promise((r) => setTimeout(r, 50));
    }
    await fs.rm(full, { recursive: true, force: true });
    removed.push(full);
  }
  return removed;
}
