import { createBoss, createDb, createJobQueue, silentLogger } from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import { sql } from 'kysely';
import t from 'tap';
import { cli, oneLine } from './support/cli.ts';

t.test('help, per-command help and usage errors need no database', async (t) => {
  const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
  const help = await cli(env, 'help');
  t.equal(help.code, 0);
  for (const c of ['status', 'jobs', 'retry', 'api-key', 'help']) t.match(help.stdout, `\n  ${c} `);

  const unknown = await cli(env, 'frobnicate');
  t.equal(unknown.code, 2, 'an unknown command exits 2');
  t.match(unknown.stderr, /unknown command "frobnicate"/);
  t.match(unknown.stderr, /usage: pnpm metarr <command>/, 'and prints the help');

  const jobsHelp = await cli(env, 'jobs', '--help');
  t.equal(jobsHelp.code, 0);
  t.match(jobsHelp.stdout, 'usage: pnpm metarr jobs [--failed] [--limit N] [--json]');

  const badLimit = await cli(env, 'jobs', '--limit', 'many');
  t.equal(badLimit.code, 2, 'a bad option value is a usage error');
  t.match(badLimit.stderr, '--limit must be a whole number');

  const noId = await cli(env, 'retry');
  t.equal(noId.code, 2);
  t.match(noId.stderr, 'give one job id or --all-failed');
});

t.test('an unreachable database is one line naming it and exit 1', async (t) => {
  const r = await cli({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, 'status');
  t.equal(r.code, 1);
  t.match(r.stderr, 'database at 127.0.0.1:1 is not reachable');
  oneLine(t, r.stderr);
});

t.test('status, jobs and retry read and drive the job store without the API', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop().catch(() => {}));
  const env = { DATABASE_URL: database.url };

  const empty = await cli(env, 'jobs');
  t.equal(empty.code, 0, empty.stderr);
  t.equal(empty.stdout.trim(), '(none)', 'a fresh database has no jobs');

  const dbh = createDb(database.url, { max: 1 });
  t.teardown(() => dbh.close());
  const boss = createBoss({
    connectionString: database.url,
    instanceName: 'test',
    supervise: false,
    schedule: false,
  });
  await boss.start();
  t.teardown(() => boss.stop({ graceful: false }));
  const queue = createJobQueue({ boss, db: dbh.db, log: silentLogger });
  const failed = await queue.enqueue('library-scan', { libraryId: 7 });
  await queue.enqueue('discover-assets', { movieId: 3 });
  const id = String(failed?.id);
  await sql`update pgboss.job set state = 'failed', completed_on = now(),
    output = ${JSON.stringify({ message: 'library 7 path is gone' })}::jsonb where id = ${id}`.execute(
    dbh.db,
  );

  const list = await cli(env, 'jobs', '--failed', '--json');
  t.equal(list.code, 0, list.stderr);
  const rows = JSON.parse(list.stdout);
  t.same(
    rows.map((r: { id: string; type: string; error: string }) => [r.id, r.type, r.error]),
    [[id, 'library-scan', 'library 7 path is gone']],
    'only the failed job, with its error',
  );

  const text = await cli(env, 'jobs');
  t.equal(text.code, 0);
  const [header, ...lines] = text.stdout.trimEnd().split('\n');
  t.match(header, /^ID\s+TYPE\s+STATE\s+ATTEMPTS\s+CREATED\s+ERROR$/);
  t.equal(lines.length, 2, 'every job, newest first');
  const col = (header as string).indexOf('TYPE');
  t.ok(
    lines.every((l) => l[col - 1] === ' ' && /^[a-z-]+ /.test(l.slice(col))),
    'every TYPE starts under its header',
  );

  const status = await cli(env, 'status', '--json');
  t.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  t.match(
    s.queues.find((q: { type: string }) => q.type === 'library-scan'),
    { queued: 0, failed: 1 },
    'queue depth per job type',
  );
  t.match(s.lastErrors[0], { id, error: 'library 7 path is gone' });
  t.ok(
    s.processes.some((p: { kind: string }) => p.kind === 'test'),
    'live processes from the shared registry',
  );
  const statusText = await cli(env, 'status');
  t.match(statusText.stdout, /Processes\n/);
  t.match(statusText.stdout, 'No live worker: queued jobs will not run.');
  t.match(statusText.stdout, /\nLast errors\nID\s+TYPE\s+FAILED AT\s+ERROR\n/);

  const unknownId = await cli(env, 'retry', '00000000-0000-4000-8000-000000000000');
  t.equal(unknownId.code, 1, 'retrying an unknown id fails');
  t.match(unknownId.stderr, 'job 00000000-0000-4000-8000-000000000000 not found');
  oneLine(t, unknownId.stderr);
  const notAnId = await cli(env, 'retry', 'abc');
  t.equal(notAnId.code, 1);
  t.match(notAnId.stderr, 'job abc not found');

  const retried = await cli(env, 'retry', id);
  t.equal(retried.code, 0, retried.stderr);
  t.match(retried.stdout, `Job ${id} queued again.`);
  const state = async () =>
    (
      await sql<{ state: string }>`select state::text as state from pgboss.job where id = ${id}`.execute(
        dbh.db,
      )
    ).rows[0]?.state;
  t.equal(await state(), 'retry', 'the failed job is queued again');

  const again = await cli(env, 'retry', id);
  t.equal(again.code, 1, 'a job that is not failed cannot be retried');
  t.match(again.stderr, 'only failed or cancelled jobs can be retried');

  await sql`update pgboss.job set state = 'failed' where id = ${id}`.execute(dbh.db);
  const all = await cli(env, 'retry', '--all-failed', '--json');
  t.equal(all.code, 0, all.stderr);
  t.same(JSON.parse(all.stdout), { retried: [id] });
  t.equal(await state(), 'retry');
});
