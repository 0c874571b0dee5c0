import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';

// Services are plain functions that never call each other: handlers are the only place services
// meet. Anything two services share lives outside services/ (files/, records/, media.ts, paths.ts).
t.test('no file in services/ imports another services/ file', async (t) => {
  const dir = path.join(import.meta.dirname, '..', 'src', 'services');
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.ts'));
  t.ok(files.length > 5, 'the services were found');
  const offending: string[] = [];
  for (const file of files) {
    const source = await fs.readFile(path.join(dir, file), 'utf8');
    const specifiers = [
      ...source.matchAll(/(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/g),
      ...source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1] as string);
    for (const spec of specifiers) {
      if (spec.startsWith('.') && path.dirname(path.resolve(dir, spec)) === dir) {
        offending.push(`${file} → ${spec}`);
      }
    }
  }
  t.same(offending, [], 'services import no service');
});
