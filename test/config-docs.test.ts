import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { envVariables } from '@metarr/core';
import t from 'tap';
import { renderEnvExample, renderEnvTable, withEnvTable } from '../scripts/env-docs.ts';
import { ROOT } from './support/stack.ts';

const read = (p: string) => fs.readFile(path.join(ROOT, p), 'utf8');

/** Read by tests and their tooling only, never by a Metarr process. */
const TEST_ONLY = new Set(['TEST_DATABASE_URL']);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(ROOT, dir), { recursive: true });
  return entries.filter((f) => /\.(ts|js)$/.test(f)).map((f) => path.join(dir, f));
}

/** Upper-case names read as `process.env.X`, `env.X`, `env['X']` or destructured from `process.env`. */
function envReads(src: string): string[] {
  const names = [...src.matchAll(/\benv(?:\??\.|\[['"])([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string);
  for (const m of src.matchAll(/\{([^}]*)\}\s*=\s*process\.env\b/g))
    names.push(...[...(m[1] as string).matchAll(/\b([A-Z][A-Z0-9_]*)\b/g)].map((n) => n[1] as string));
  return names;
}

t.test("the README's environment table is the one generated from the schema", async (t) => {
  const readme = await read('README.md');
  t.equal(readme, withEnvTable(readme), 'README.md matches the schema (run `pnpm gen:env`)');
  for (const v of envVariables()) t.match(readme, `| \`${v.name}\``, `README has a row for ${v.name}`);
});

t.test('.env.example is the one generated from the schema', async (t) => {
  t.equal(
    await read('.env.example'),
    renderEnvExample(),
    '.env.example matches the schema (run `pnpm gen:env`)',
  );
});

t.test('the generated table is already in the format biome gives Markdown', async (t) => {
  const table = `# Env\n\n${renderEnvTable()}\n`;
  const biome = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'biome'),
    ['format', '--stdin-file-path=README.md'],
    {
      cwd: ROOT,
      input: table,
      encoding: 'utf8',
    },
  );
  t.equal(biome.status, 0, biome.stderr);
  t.equal(biome.stdout, table);
});

t.test('every environment variable the code reads is declared in the schema', async (t) => {
  const declared = new Set(envVariables().map((v) => v.name as string));
  const files = [
    ...(
      await Promise.all(['core', 'api', 'worker', 'testkit'].map((p) => sourceFiles(`packages/${p}/src`)))
    ).flat(),
    ...(await sourceFiles('scripts')),
  ];
  let reads = 0;
  for (const file of files) {
    for (const name of envReads(await read(file))) {
      reads++;
      t.ok(declared.has(name) || TEST_ONLY.has(name), `${file} reads ${name}, a declared variable`);
    }
  }
  t.ok(reads >= 5, `found ${reads} reads (the scan sees the code)`);

  const compose = await read('docker-compose.yml');
  for (const m of compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g))
    t.ok(declared.has(m[1] as string), `docker-compose.yml's ${m[1]} is declared`);
});

t.test('an undeclared read is noticed, whichever way it is written', async (t) => {
  t.same(envReads('process.env.FOO_BAR'), ['FOO_BAR']);
  t.same(envReads("env['FOO']"), ['FOO']);
  t.same(envReads('env?.FOO'), ['FOO']);
  t.same(envReads('const { FOO, BAR: b } = process.env;'), ['FOO', 'BAR']);
  t.same(envReads('env.tmdbApiKey'), [], 'a field of an object named env is not a variable');
});
