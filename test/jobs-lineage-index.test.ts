/**
 * Job lineage lookups (`GET /api/jobs?parentId=`, `GET /api/jobs/:id`, `GET /api/jobs/:id/tree`)
 * must find a job's children and parents through indexes, not by reading all of pgboss.job. The
 * routes' own SQL is captured (a Kysely query log on the pool the API uses) and EXPLAINed with its
 * parameters against a table big enough that the planner only picks an index when it pays.
 */
import { buildApp } from '@metarr/api';
import {
  analyzeJobTable,
  createJobQueue,
  insertSyntheticJobs,
  JOB_ID_INDEX,
  JOB_PARENT_INDEX,
  jobIndexInfo,
  labelJobId,
  queueJobTable,
  type Runtime,
  type SyntheticJob,
  silentLogger,
  startRuntime,
} from '@metarr/core';
import { createTestDatabase } from '@metarr/testkit/db';
import { type CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import t from 'tap';

const API_KEY = 'test-api-key-0123456789abcdef0123456789';
// Webhook chains of 5 jobs each (webhook → scan-movie → … → enrich-metadata): 40,000 rows.
const CHAINS = 8_000;
const CHAIN = ['webhook', 'scan-movie', 'discover-assets', 'fetch-provider-assets', 'enrich-metadata'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

t.test('children and parents are found through indexes', async (t) => {
  const database = await createTestDatabase();
  // Two processes starting at once (API and worker) both create the index: neither may fail.
  const start = (instanceName: string) =>
    startRuntime({ url: database.url, log: silentLogger, instanceName, poolMax: 4, supervise: false });
  const [rt, other] = (await Promise.all([start('api'), start('worker')])) as [Runtime, Runtime];
  await other.close();
  t.teardown(async () => {
    await rt.close();
    await database.drop().catch(() => {});
  });
  const pool = rt.dbh.pool;

  const store = rt.dbh.db;
  // Every partition's copy of the index is attached to the parent's (pg_inherits).
  const partitionIndexes = async (parent = JOB_PARENT_INDEX) =>
    (await jobIndexInfo(store, parent)).partitions;

  await t.test('the index exists after start-up, on every partition', async (t) => {
    const parent = await jobIndexInfo(store, JOB_PARENT_INDEX);
    t.match(parent.definition ?? '', /ON ONLY pgboss\.job USING btree \(+data ->> 'parentId'::text\)+$/);
    const byId = await jobIndexInfo(store, JOB_ID_INDEX);
    t.match(byId.definition ?? '', /ON ONLY pgboss\.job USING btree \(id\)$/, 'and one on id alone');
    t.ok(
      (await partitionIndexes(JOB_ID_INDEX)).some((p) => p.table === 'job_common'),
      'which the default partition has too',
    );
    t.ok(
      (await partitionIndexes()).some((p) => p.table === 'job_common'),
      'the default partition (our queues) has it',
    );
    // A queue with its own partition, created after start-up, gets it too.
    await rt.boss.createQueue('lineage-own-partition', { partition: true });
    const own = await queueJobTable(store, 'lineage-own-partition');
    t.ok(own, 'the queue has its own partition');
    t.ok(
      (await partitionIndexes()).some((p) => p.table === own),
      'a partition attached later has it',
    );
    await rt.boss.deleteQueue('lineage-own-partition');
  });

  await t.test('the routes use it (and the primary key on the way up)', async (t) => {
    // Ids derive from (chain, level), so a child names its parent without a lookup.
    const now = Date.now();
    const jobs: SyntheticJob[] = [];
    for (let i = 1; i <= CHAINS; i++) {
      for (let l = 0; l < CHAIN.length; l++) {
        const at = new Date(now - (CHAINS - i) * 60_000 + l * 1000);
        jobs.push({
          id: labelJobId(`c${i}/${l}`),
          name: CHAIN[l] as string,
          data: { payload: { movieId: i }, parentId: l > 0 ? labelJobId(`c${i}/${l - 1}`) : null },
          state: 'completed',
          createdOn: at,
          startedOn: at,
          completedOn: at,
        });
      }
    }
    await insertSyntheticJobs(store, jobs);
    // Autovacuum would do this on a real install; here the planner needs the expression's statistics now.
    await analyzeJobTable(store);
    const id = async (chain: number, level: number) => labelJobId(`c${chain}/${level}`);

    // The API on the same pool, with a query log: the SQL the routes really send.
    const captured: CompiledQuery[] = [];
    const db = new Kysely<any>({
      dialect: new PostgresDialect({ pool }),
      log: (e) => {
        if (e.level === 'query') captured.push(e.query);
      },
    });
    const app = await buildApp({
      db,
      boss: rt.boss,
      queue: createJobQueue({ boss: rt.boss, db, log: silentLogger }),
      log: silentLogger,
      auth: { apiKey: API_KEY },
      config: { basePath: '', trustProxy: undefined },
    });
    t.teardown(() => app.close());
    const plansOf = async (url: string) => {
      captured.length = 0;
      const res = await app.inject({ method: 'GET', url, headers: { 'x-api-key': API_KEY } });
      t.equal(res.statusCode, 200, url);
      const plans: { sql: string; nodes: PlanNode[] }[] = [];
      for (const q of captured) {
        const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `explain (format json) ${q.sql}`,
          q.parameters as unknown[],
        );
        plans.push({ sql: q.sql, nodes: nodes(rows[0]?.['QUERY PLAN'][0].Plan as PlanNode) });
      }
      return { body: res.json(), plans };
    };
    const parentIndexNames = new Set((await partitionIndexes()).map((p) => p.index));
    const childLookups = (plans: { sql: string; nodes: PlanNode[] }[]) =>
      plans.filter((p) => /->>\s*'parentId'\s*=/.test(p.sql));
    const usesParentIndex = (p: { nodes: PlanNode[] }) =>
      p.nodes.some((n) => n['Index Name'] && parentIndexNames.has(n['Index Name']));
    const seqScans = (p: { nodes: PlanNode[] }) => p.nodes.filter((n) => n['Node Type'] === 'Seq Scan');

    const mid = await id(100, 2);
    const detail = await plansOf(`/api/jobs/${mid}`);
    t.equal(detail.body.parent?.id, await id(100, 1), 'the detail names its parent');
    t.same(
      detail.body.children.map((c: { id: string }) => c.id),
      [await id(100, 3)],
      'and its child',
    );
    const list = await plansOf(`/api/jobs?parentId=${mid}`);
    t.same(
      list.body.map((j: { id: string }) => j.id),
      [await id(100, 3)],
      'the list filtered by parent',
    );
    const leaf = await id(100, 4);
    const tree = await plansOf(`/api/jobs/${leaf}/tree`);
    t.equal(tree.body.rootId, await id(100, 0), 'the tree walks up to the webhook');
    t.equal(tree.body.size, 5, 'and down the whole chain');

    // A parentId that is no uuid's text (never written by Metarr) is no parent, not a cast error.
    const odd = '44444444-4444-4444-8444-444444444444';
    await insertSyntheticJobs(store, [
      {
        id: odd,
        name: 'webhook',
        data: { payload: {}, parentId: 'not-a-uuid' },
        state: 'completed',
        createdOn: new Date(),
      },
    ]);
    const oddTree = await app.inject({
      method: 'GET',
      url: `/api/jobs/${odd}/tree`,
      headers: { 'x-api-key': API_KEY },
    });
    t.equal(oddTree.statusCode, 200, 'a malformed parentId does not break the tree');
    t.equal(oddTree.json().rootId, odd, 'the job is its own root');

    const lookups = [...childLookups(detail.plans), ...childLookups(list.plans), ...childLookups(tree.plans)];
    // Detail: children. List: rows + count. Tree: the walk down.
    t.equal(lookups.length, 4, 'every children query was captured');
    for (const p of lookups) {
      t.ok(
        usesParentIndex(p),
        `children by parent use ${JOB_PARENT_INDEX}: ${p.sql.replace(/\s+/g, ' ').trim().slice(0, 60)}`,
      );
      t.same(seqScans(p), [], 'and read no partition in full');
    }
    // A job by id alone: only PostgreSQL 18 can seek pg-boss's (name, id) key that way, so it must
    // be our id index (on 17 and older the primary key meant reading the whole table).
    const idIndexNames = new Set((await partitionIndexes(JOB_ID_INDEX)).map((p) => p.index));
    const byIdLookups = detail.plans.filter((p) => /where id = \$1/.test(p.sql));
    t.ok(byIdLookups.length >= 1, 'the detail looks the job up by id');
    for (const p of byIdLookups)
      t.ok(
        p.nodes.some((n) => n['Index Name'] && idIndexNames.has(n['Index Name'])),
        `a job by id uses ${JOB_ID_INDEX}`,
      );
    const walkUp = tree.plans.find((p) => /with recursive up/.test(p.sql));
    t.ok(walkUp, 'the walk up was captured');
    t.same(seqScans(walkUp as { nodes: PlanNode[] }), [], 'the walk up finds each parent by primary key');
  });
});
