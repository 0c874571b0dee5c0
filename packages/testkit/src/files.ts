import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Every file under `dir` by relative path → sha256 (a symlink → `-> target`), for "old files intact"
 * and "equal to a clean run" checks. `skip` leaves paths out by their relative path.
 */
export async function snapshotFiles(
  dir: string,
  skip: (rel: string) => boolean = () => false,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(e.parentPath, e.name);
    const rel = path.relative(dir, full);
    if (skip(rel)) continue;
    if (e.isSymbolicLink()) out[rel] = `-> ${await fs.readlink(full)}`;
    else if (e.isFile())
      out[rel] = createHash('sha256')
        .update(await fs.readFile(full))
        .digest('hex');
  }
  return out;
}
