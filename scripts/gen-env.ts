/** `pnpm gen:env` — rewrites `.env.example` and the README's environment table from the schema. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { renderEnvExample, withEnvTable } from './env-docs.ts';

const root = path.resolve(import.meta.dirname, '..');
const readmePath = path.join(root, 'README.md');

await fs.writeFile(path.join(root, '.env.example'), renderEnvExample());
await fs.writeFile(readmePath, withEnvTable(await fs.readFile(readmePath, 'utf8')));
process.stdout.write('wrote .env.example and the environment table in README.md\n');
