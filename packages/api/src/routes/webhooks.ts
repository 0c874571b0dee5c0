import { randomUUID } from 'node:crypto';
import {
  type EnqueuedJob,
  type JobPayload,
  parseWebhook,
  recordUnqueuedDelivery,
  WEBHOOK_SOURCES,
  type WebhookSource,
  webhookBodySchema,
} from '@metarr/core';
import { sql } from 'kysely';
import Type from 'typebox';
import type { AppDeps, RoutePlugin } from '../deps.ts';
import { httpError, isDatabaseUnavailable } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { StringEnum, Uuid } from '../schemas.ts';

const MAX_DEPTH = 64;

const APP_NAMES: Record<WebhookSource, string> = { radarr: 'Radarr', sonarr: 'Sonarr', lidarr: 'Lidarr' };

/** Every answer to a delivery the body was understood for (a Test and an unknown event included). */
const WebhookAnswer = Type.Object({
  status: StringEnum(['success', 'ignored', 'duplicate'], {
    description:
      '`success`: stored and queued (or a Test); `ignored`: stored, nothing to do; `duplicate`: already accepted',
  }),
  message: Type.String({ examples: ['Webhook queued for processing'] }),
  jobId: Type.Optional(
    Type.Union([Uuid(), Type.Null()], {
      description: "The `webhook` job (for a duplicate: the first delivery's job)",
    }),
  ),
  eventType: Type.Optional(Type.String({ description: 'The ignored event type' })),
});

/**
 * What no schema catches: real *arr payloads nest a few levels (thousands is an attack on every later
 * parser), and PostgreSQL's jsonb cannot store a NUL character anywhere (it would be a 500 at insert).
 */
function bodyProblem(value: unknown, at = 'body', depth = 0, nul = true): string | null {
  if (depth > MAX_DEPTH) return `body must not nest deeper than ${MAX_DEPTH} levels`;
  if (typeof value === 'string')
    return nul && value.includes('\u0000') ? `${at} must not contain NUL characters` : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = bodyProblem(value[i], `${at}/${i}`, depth + 1, nul);
      if (p) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    if (nul && k.includes('\u0000')) return `${at} must not contain NUL characters in property names`;
    const p = bodyProblem(v, `${at}/${k}`, depth + 1, nul);
    if (p) return p;
  }
  return null;
}

export const webhookRoutes: RoutePlugin = async (app, deps) => {
  const log = deps.log.child({ service: 'WebhookController' });
  const ack = createAckBatcher(deps);

  for (const source of WEBHOOK_SOURCES) {
    const name = APP_NAMES[source];
    app.route({
      method: ['POST', 'PUT'],
      url: `/api/webhooks/${source}`,
      config: { auth: 'webhook' },
      schema: {
        tags: ['Webhooks'] satisfies Tag[],
        summary: `Receive a ${name} webhook`,
        description:
          `Point ${name}'s Webhook connection here (POST or PUT). The delivery is stored and its \`webhook\` job ` +
          'committed before the 200. A Test or an event type Metarr does not act on is answered 200 too; a ' +
          'repeat of an accepted delivery is a `duplicate`. A 400 names the field (a path that is not absolute, ' +
          'say); a path that matches no library is accepted and its job says why it was skipped.',
        documentedBody: webhookBodySchema(source),
        response: { 200: WebhookAnswer },
      },
      handler: async (req, reply) => {
        const body = req.body;
        if (body === undefined || body === null) throw httpError(400, 'body must be a JSON object');
        // Depth first: a hostile structure must not reach the schema validator at all.
        const deep = bodyProblem(body, 'body', 0, false);
        if (deep) throw httpError(400, deep);
        const parsed = parseWebhook(source, body);
        if (parsed.kind === 'invalid') {
          const first = parsed.issues[0];
          log.info({ source, ip: req.ip, issues: parsed.issues.slice(0, 5) }, 'Webhook rejected');
          throw httpError(
            400,
            parsed.issues.map((i) => `body${i.path} ${i.message}`).join(', ') ||
              `body${first?.path ?? ''} is invalid`,
          );
        }
        // After the schema, so a field it types is reported by its own rule (a NUL in a path, say).
        const problem = bodyProblem(body);
        if (problem) throw httpError(400, problem);
        const instanceName = parsed.instanceName ?? null;
        const json = JSON.stringify(body);

        if (parsed.kind === 'test' || parsed.kind === 'ignored') {
          await recordUnqueuedDelivery(deps.db, {
            source,
            eventType: parsed.eventType,
            instanceName,
            body: json,
            status: parsed.kind === 'test' ? 'test' : 'ignored',
            outcome: parsed.kind === 'test' ? 'test received' : parsed.reason,
          });
          log.info(
            { source, ip: req.ip, eventType: parsed.eventType },
            parsed.kind === 'test' ? 'Webhook test received' : 'Webhook ignored',
          );
          if (parsed.kind === 'test') return { status: 'success' as const, message: 'Test received' };
          return { status: 'ignored' as const, message: parsed.reason, eventType: parsed.eventType };
        }

        // Durable ack: the delivery row and its `webhook` job commit together, before the 200.
        const outcome = await ack.submit({
          key: parsed.idempotencyKey,
          jobId: randomUUID(),
          row: {
            source,
            event_type: parsed.eventType,
            instance_name: instanceName,
            idempotency_key: parsed.idempotencyKey,
            body: json,
          },
          payload: {
            source,
            eventType: parsed.eventType,
            ...(parsed.title !== undefined && { title: parsed.title.slice(0, 500) }),
          },
        });

        if (outcome.duplicate) {
          log.info(
            { source, ip: req.ip, eventType: parsed.eventType, jobId: outcome.jobId },
            'Duplicate webhook delivery',
          );
          return { status: 'duplicate' as const, message: 'Delivery already accepted', jobId: outcome.jobId };
        }
        const { jobId, deliveryId } = outcome;
        outcome.job.announce();
        log.info({ source, ip: req.ip, eventType: parsed.eventType, jobId, deliveryId }, 'Webhook queued');
        return reply.send({ status: 'success' as const, message: 'Webhook queued for processing', jobId });
      },
    });
  }
};

interface AckRequest {
  key: string;
  jobId: string;
  row: {
    source: WebhookSource;
    event_type: string;
    instance_name: string | null;
    idempotency_key: string;
    body: string;
  };
  payload: Omit<JobPayload<'webhook'>, 'deliveryId'>;
}

type AckOutcome =
  | { duplicate: false; jobId: string; deliveryId: string; job: EnqueuedJob }
  | { duplicate: true; jobId: string | null };

interface Waiting extends AckRequest {
  resolve(o: AckOutcome): void;
  reject(err: unknown): void;
}

/**
 * Group commit for acknowledgements. Deliveries that arrive while a commit is in flight wait and
 * then commit together: one transaction (delivery rows, their `webhook` jobs and feed events) per
 * batch instead of per request, so throughput grows with load while each 200 still follows its own
 * commit. Idle, a delivery commits at once: there is no timer and no added latency.
 */
function createAckBatcher(deps: AppDeps, opts = { flushers: 3, maxBatch: 100 }) {
  const waiting: Waiting[] = [];
  let running = 0;

  const pump = () => {
    while (running < opts.flushers && waiting.length) {
      const batch = waiting.splice(0, opts.maxBatch);
      running++;
      void settle(batch).finally(() => {
        running--;
        pump();
      });
    }
  };

  async function settle(batch: Waiting[]): Promise<void> {
    try {
      const outcomes = await commitWithRetry(deps, batch);
      for (const [i, item] of batch.entries()) item.resolve(outcomes[i] as AckOutcome);
    } catch (err) {
      if (batch.length > 1 && !isDatabaseUnavailable(err)) {
        // Whatever broke this batch must fail only the delivery that caused it.
        for (const item of batch) await settle([item]);
        return;
      }
      for (const item of batch) item.reject(err);
      // The ones queued behind it would only meet the same outage, one commit attempt later each:
      // answer them 503 now so no delivery waits past the *arr's patience.
      if (isDatabaseUnavailable(err)) for (const item of waiting.splice(0)) item.reject(err);
    }
  }

  return {
    submit(req: AckRequest): Promise<AckOutcome> {
      return new Promise((resolve, reject) => {
        waiting.push({ ...req, resolve, reject });
        pump();
      });
    },
  };
}

async function commitWithRetry(deps: AppDeps, batch: AckRequest[]): Promise<AckOutcome[]> {
  try {
    return await commitBatch(deps, batch);
  } catch (err) {
    // Keys are locked in sorted order so batches should not deadlock; a serialization hiccup retries once.
    const code = (err as { code?: string }).code;
    if (code === '40P01' || code === '40001') return commitBatch(deps, batch);
    throw err;
  }
}

async function commitBatch(deps: AppDeps, batch: AckRequest[]): Promise<AckOutcome[]> {
  // The first delivery of each key leads; repeats in the same batch are its duplicates.
  const leaders = new Map<string, AckRequest>();
  for (const item of batch) if (!leaders.has(item.key)) leaders.set(item.key, item);
  // Sorted keys: concurrent batches take the unique-index locks in one order, so never deadlock.
  const ordered = [...leaders.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  return deps.db.transaction().execute(async (trx) => {
    const source = sql.join(
      ordered.map(
        (it) =>
          sql`(${it.row.source}, ${it.row.event_type}, ${it.row.instance_name}, ${it.row.idempotency_key}, ${it.row.body}, ${it.jobId})`,
      ),
    );
    const { rows: inserted } = await sql<{ id: string; idempotency_key: string }>`
      insert into webhook_deliveries (source, event_type, instance_name, idempotency_key, body, status, job_id)
      select source, event_type, instance_name, idempotency_key, body::jsonb, 'queued', job_id::uuid
      from (values ${source}) as src (source, event_type, instance_name, idempotency_key, body, job_id)
      on conflict (idempotency_key) where status = 'queued' do nothing
      returning id::text as id, idempotency_key`.execute(trx);
    const deliveryOf = new Map(inserted.map((r) => [r.idempotency_key, String(r.id)]));

    const repeated = ordered.filter((it) => !deliveryOf.has(it.key)).map((it) => it.key);
    const firstJob = new Map<string, string | null>();
    if (repeated.length) {
      const rows = await trx
        .selectFrom('webhook_deliveries')
        .select(['idempotency_key', 'job_id'])
        .where('status', '=', 'queued')
        .where('idempotency_key', 'in', repeated)
        .execute();
      for (const r of rows) firstJob.set(r.idempotency_key, r.job_id);
    }

    // The jobs and their feed events commit with the deliveries; each `Job created` line follows
    // its request's commit (`announce`).
    const items = ordered
      .filter((it) => deliveryOf.has(it.key))
      .map((it) => ({
        id: it.jobId,
        payload: { ...it.payload, deliveryId: deliveryOf.get(it.key) as string } as JobPayload<'webhook'>,
      }));
    const jobs = items.length
      ? await deps.queue.insertMany('webhook', items, { trx, source: 'WebhookController' })
      : [];
    const jobOf = new Map(jobs.map((j) => [j.id, j]));

    return batch.map((it): AckOutcome => {
      const leader = leaders.get(it.key) as AckRequest;
      const deliveryId = deliveryOf.get(it.key);
      if (deliveryId === undefined) return { duplicate: true, jobId: firstJob.get(it.key) ?? null };
      const job = jobOf.get(it.jobId);
      if (it === leader && job) return { duplicate: false, jobId: it.jobId, deliveryId, job };
      return { duplicate: true, jobId: leader.jobId };
    });
  });
}
