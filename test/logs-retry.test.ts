/** How much a dead player writes to the log: one warn per retried attempt, no key twice on a line. */
import { Writable } from 'node:stream';
import { createLogger, freePort } from '@metarr/core';
import t from 'tap';
import { download, movieLibrary, notifyJobs, playerGroup } from './support/notify.ts';
import { startStack, waitFor } from './support/stack.ts';

/** The top-level keys of one JSON object's raw text, in order, duplicates kept (JSON.parse drops them). */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)));
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

t.test('topLevelKeys sees a duplicated key that JSON.parse would hide', async (t) => {
  t.same(topLevelKeys('{"a":1,"b":{"a":2},"c":"x,\\"a\\":","a":3}'), ['a', 'b', 'c', 'a']);
});

t.test('a dead Kodi: each retried attempt logs one warn and no error; no line repeats a key', async (t) => {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) raw.push(l);
      cb();
    },
  });
  const log = createLogger({ name: 'test', level: 'info', destination });
  const stack = await startStack(t, { log, env: { METARR_NOTIFY_RETRY_DELAY_SECONDS: '1' } });
  const lib = await movieLibrary(t, stack);
  const deadPort = await freePort();
  await playerGroup(t, stack, { name: 'Kodi', type: 'kodi', libraryIds: [lib.id] }, [
    { name: 'Dead Kodi', port: deadPort },
  ]);
  const ack = await stack.api('POST', '/api/webhooks/radarr', await download(1));
  t.equal(ack.status, 200);
  const job = await waitFor(
    'two failed attempts of the group job',
    async () =>
      (await notifyJobs(stack)).find((j) => j.name === 'notify-group' && j.retry_count >= 2) ?? null,
    60_000,
  );
  const lines = raw.map((l) => ({ raw: l, o: JSON.parse(l) as Record<string, unknown> }));
  const mine = lines.filter((l) => l.o.jobId === job.id);
  const failed = mine.filter((l) => l.o.msg === 'Job failed' && l.o.willRetry === true);
  t.ok(failed.length >= 2, 'at least two retried attempts logged');
  const loud = mine.filter((l) => l.o.level === 'warn' || l.o.level === 'error');
  t.equal(
    loud.length,
    failed.length,
    `one warn-or-worse line per attempt:\n${loud.map((l) => l.raw).join('\n')}`,
  );
  t.ok(
    failed.every((l) => l.o.level === 'warn'),
    'an attempt that will be retried is a warn',
  );
  for (const l of lines) {
    const keys = topLevelKeys(l.raw);
    const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
    if (dup.length) t.fail(`key ${dup.join(', ')} twice: ${l.raw}`);
  }
});
