/** Real small file systems for tests that need a full disk (ENOSPC) or a read-only one (EROFS). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A real tmpfs of `kb` KiB (root on Linux with mount rights; `readOnly` mounts it ro), in a fresh
 * folder outside the test's fixtures; unmounted and removed at teardown. Null when this machine does
 * not allow it.
 */
export async function mountTmpfs(
  t: { teardown(fn: () => unknown): void },
  kb: number,
  opts: { readOnly?: boolean } = {},
): Promise<string | null> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metarr-tmpfs-'));
  const options = `${opts.readOnly ? 'ro,' : ''}size=${kb}k,mode=0755`;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  if (r.status !== 0) {
    await fs.rmdir(dir);
    return null;
  }
  t.teardown(async () => {
    spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    await fs.rm(dir, { recursive: true, force: true });
  });
  return dir;
}
