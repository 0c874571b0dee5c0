import fs from 'node:fs/promises';
import path from 'node:path';
import { jobTestControls, silentLogger } from '@metarr/core';
import t from 'tap';
import { handlers } from '../src/handlers/index.ts';
import { startWorkerRuntime } from '../src/runtime.ts';
import { handlerDeps, startTestRuntime } from './support/runtime.ts';

// A handler writes as if nothing happened; the runtime's context refuses the writes of an attempt
// that lost its lease. The handler names no fence and checks no lease.
const { rt, db } = await startTestRuntime(t);
const dir = t.testdir({ 'old.txt': 'old' });

const attempts: { write: string; error: string | null }[] = [];
const tryWrite = async (write: string, fn: () => Promise<unknown>) => {
  try {
    await fn();
    attempts.push({ write, error: null });
  } catch (err) {
    attempts.push({ write, error: (err as { code?: string }).code ?? String(err) });
  }
};

await startWorkerRuntime({
  boss: rt.boss,
  db,
  log: silentLogger,
  handlers: {
    ...handlers,
    'discover-assets': async (ctx, deps) => {
      const name = `lib-${ctx.payload.movieId}`;
      if (ctx.payload.movieId === 2) {
        // What the supervisor and a newer fetch do to an attempt paused past its heartbeat.
        await jobTestControls(db).supersede(ctx.id);
      }
      await tryWrite('deps.db insert', () =>
        deps.db
          .insertInto('libraries')
          .values({ name, type: 'movie', path: `/m/${name}` })
          .execute(),
      );
      await tryWrite('ctx.db transaction', () =>
        ctx.db.transaction().execute((trx) =>
          trx
            .insertInto('libraries')
            .values({ name: `${name}-trx`, type: 'movie', path: `/m/${name}-trx` })
            .execute(),
        ),
      );
      await tryWrite('ctx.fs rename', async () => {
        await fs.writeFile(path.join(dir, `${name}.tmp`), 'new');
        await ctx.fs.rename(path.join(dir, `${name}.tmp`), path.join(dir, 'old.txt'));
      });
      return {};
    },
  },
  concurrency: 1,
  queues: ['discover-assets'],
  deps: handlerDeps(db, silentLogger),
});

async function run(movieId: number) {
  const before = attempts.length;
  await rt.boss.send('discover-assets', { payload: { movieId }, parentId: null });
  const end = Date.now() + 15_000;
  while (attempts.length < before + 3) {
    if (Date.now() > end) throw new Error('the handler did not run');
    await new Promise((r) => setTimeout(r, 25));
  }
  return attempts.slice(before);
}

const libraries = async (prefix: string) =>
  (await db.selectFrom('libraries').select('name').where('name', 'like', `${prefix}%`).execute()).map(
    (r) => r.name,
  );

t.test('an attempt holding its lease writes through its context', async (t) => {
  t.same(
    (await run(1)).map((a) => a.error),
    [null, null, null],
  );
  t.same((await libraries('lib-1')).sort(), ['lib-1', 'lib-1-trx']);
  t.equal(await fs.readFile(path.join(dir, 'old.txt'), 'utf8'), 'new');
});

t.test(
  "a handler's writes after losing its lease are refused without the handler doing anything",
  async (t) => {
    await fs.writeFile(path.join(dir, 'old.txt'), 'newer attempt');
    t.same(await run(2), [
      { write: 'deps.db insert', error: 'LEASE_LOST' },
      { write: 'ctx.db transaction', error: 'LEASE_LOST' },
      { write: 'ctx.fs rename', error: 'LEASE_LOST' },
    ]);
    t.same(await libraries('lib-2'), [], 'no row written');
    t.equal(await fs.readFile(path.join(dir, 'old.txt'), 'utf8'), 'newer attempt', 'the file is untouched');
  },
);
