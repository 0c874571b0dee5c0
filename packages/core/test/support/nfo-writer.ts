/**
 * Crash-test child for test/reliability-publish.test.ts. Replaces `target` (which holds version A)
 * with B, then A, then B … through writeFileAtomic until the parent kills it with SIGKILL at a
 * random moment. Imports only the atomic-write module (Node built-ins), so it starts in milliseconds.
 * argv: <target> <file with version A> <file with version B>
 */
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../../src/files/atomicFile.ts';

const [target, a, b] = process.argv.slice(2) as [string, string, string];
const versions = [await fs.readFile(a), await fs.readFile(b)];
process.stdout.write('ready\n');
for (let i = 1; ; i++) await writeFileAtomic(fs, target, versions[i % 2] as Buffer);
