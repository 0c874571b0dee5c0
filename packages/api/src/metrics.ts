import {
  createJobMetricsReader,
  type Db,
  type DurationHistogram,
  deliveryCounts,
  JOB_DURATION_BUCKETS,
  type JobMetricsSnapshot,
  libraryItemCounts,
  playerGroupTypes,
  providerRequestCounts,
  WEBHOOK_TO_PLAYER_WINDOW,
} from '@metarr/core';
import { collectDefaultMetrics, Histogram, type Metric, Registry } from 'prom-client';

/** Seconds: a webhook's ack is a few milliseconds unless the database struggles. */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Snapshot {
  jobs: JobMetricsSnapshot;
  deliveries: Awaited<ReturnType<typeof deliveryCounts>>;
  items: Awaited<ReturnType<typeof libraryItemCounts>>;
  groupTypes: Map<number, string>;
  providerRequests: Awaited<ReturnType<typeof providerRequestCounts>>;
}

type Labels = Record<string, string>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/**
 * A family read from the database at scrape time. prom-client's own Gauge/Counter/Histogram hold
 * values in this process; these print the figures one snapshot of the shared tables gives, so every
 * API replica reports what every worker did.
 */
function dbFamily(
  name: string,
  help: string,
  type: 'gauge' | 'counter' | 'histogram',
  snapshot: () => Promise<Snapshot>,
  samples: (s: Snapshot) => Sample[],
) {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type, aggregator: 'sum', values: samples(await snapshot()) };
    },
  } as unknown as Metric;
}

function histogramSamples(name: string, hs: DurationHistogram[], label = 'type'): Sample[] {
  const out: Sample[] = [];
  for (const h of hs) {
    let cumulative = 0;
    h.counts.forEach((c, i) => {
      cumulative += c;
      const le = i < JOB_DURATION_BUCKETS.length ? String(JOB_DURATION_BUCKETS[i]) : '+Inf';
      out.push({ metricName: `${name}_bucket`, labels: { [label]: h.type, le }, value: cumulative });
    });
    out.push({ metricName: `${name}_sum`, labels: { [label]: h.type }, value: h.sum });
    out.push({ metricName: `${name}_count`, labels: { [label]: h.type }, value: h.count });
  }
  return out;
}

export interface ApiMetrics {
  registry: Registry;
  webhookAck: Histogram<'source'>;
}

/**
 * The registry behind `GET /metrics`: this process' own metrics (default process metrics, webhook
 * ack latency) plus the families read from the database, all from one snapshot per scrape.
 */
/** A scrape serves a snapshot at most this old and refreshes it in the background (see ARCHITECTURE.md). */
export const METRICS_SNAPSHOT_MAX_AGE_MS = 10_000;

export function createApiMetrics(db: Db, opts: { maxAgeMs?: number } = {}): ApiMetrics {
  const maxAgeMs = opts.maxAgeMs ?? METRICS_SNAPSHOT_MAX_AGE_MS;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'metarr_api_' });
  const reader = createJobMetricsReader(db);
  let inflight: Promise<Snapshot> | null = null;
  let last: { at: number; value: Snapshot } | null = null;
  const refresh = () => {
    inflight ??= Promise.all([
      reader.snapshot(),
      deliveryCounts(db),
      libraryItemCounts(db),
      playerGroupTypes(db),
      providerRequestCounts(db),
    ])
      .then(([jobs, deliveries, items, groupTypes, providerRequests]) => {
        const value = { jobs, deliveries, items, groupTypes, providerRequests };
        last = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };
  // Every family's get() runs in the same tick of one scrape, so they share one snapshot. Reading the
  // histograms from 100,000 jobs takes longer than a scrape may, so a scrape answers from the last
  // snapshot and starts the next one when it is older than maxAgeMs: the database does that work at
  // most once per maxAgeMs however many replicas and scrapers there are per replica.
  const snapshot = async (): Promise<Snapshot> => {
    if (!last) return refresh();
    if (Date.now() - last.at >= maxAgeMs) refresh().catch(() => {});
    return last.value;
  };
  const queueState = (state: string, wanted: string[]) =>
    dbFamily(
      `metarr_jobs_${state}`,
      `Jobs ${state} per type and lane (from the job table)`,
      'gauge',
      snapshot,
      (s) =>
        s.jobs.queue
          .filter((q) => wanted.includes(q.state))
          .map((q) => ({ labels: { type: q.type, lane: q.lane }, value: q.n })),
    );
  const families = [
    queueState('queued', ['created', 'retry']),
    queueState('active', ['active']),
    queueState('failed', ['failed']),
    dbFamily(
      'metarr_job_wait_seconds',
      'Time from a job being due to its (last) start, per type, over the jobs the table holds',
      'histogram',
      snapshot,
      (s) => histogramSamples('metarr_job_wait_seconds', s.jobs.wait),
    ),
    dbFamily(
      'metarr_job_run_seconds',
      'Run time of finished jobs (last attempt), per type, over the jobs the table holds',
      'histogram',
      snapshot,
      (s) => histogramSamples('metarr_job_run_seconds', s.jobs.run),
    ),
    dbFamily(
      'metarr_job_retries_total',
      'Job retries per type and last error code',
      'counter',
      snapshot,
      (s) => s.jobs.retries.map((r) => ({ labels: { type: r.type, code: r.code }, value: r.n })),
    ),
    dbFamily(
      'metarr_job_dead_letters_total',
      'Dead-lettered jobs per type and error code',
      'counter',
      snapshot,
      (s) => s.jobs.deadLetters.map((r) => ({ labels: { type: r.type, code: r.code }, value: r.n })),
    ),
    dbFamily(
      'metarr_webhook_deliveries_total',
      'Webhook deliveries kept, per source and outcome (queued, ignored, test)',
      'counter',
      snapshot,
      (s) => s.deliveries.map((d) => ({ labels: { source: d.source, outcome: d.status }, value: d.n })),
    ),
    dbFamily(
      'metarr_webhook_to_player_seconds',
      `Webhook received to a player group told, over the latest ${WEBHOOK_TO_PLAYER_WINDOW} notified groups`,
      'histogram',
      snapshot,
      (s) => histogramSamples('metarr_webhook_to_player_seconds', s.jobs.webhookToPlayer, 'source'),
    ),
    dbFamily(
      'metarr_player_calls_total',
      'Player calls per player type and result, from notify-group jobs the table holds',
      'counter',
      snapshot,
      (s) => {
        const sums = new Map<string, number>();
        for (const c of s.jobs.playerCalls) {
          const k = `${s.groupTypes.get(c.groupId) ?? 'unknown'}\t${c.result}`;
          sums.set(k, (sums.get(k) ?? 0) + c.n);
        }
        return [...sums].map(([k, n]) => {
          const [type = 'unknown', result = 'unknown'] = k.split('\t');
          return { labels: { type, result }, value: n };
        });
      },
    ),
    dbFamily(
      'metarr_provider_requests_total',
      'Provider API requests per provider and status (2xx, an HTTP status such as 404 or 429, error when no answer came, cache_hit when the shared cache answered)',
      'counter',
      snapshot,
      (s) =>
        s.providerRequests.map((r) => ({ labels: { provider: r.provider, status: r.status }, value: r.n })),
    ),
    dbFamily('metarr_library_items', 'Library items per kind and state', 'gauge', snapshot, (s) =>
      s.items.map((i) => ({ labels: { kind: i.kind, state: i.state }, value: i.n })),
    ),
  ];
  for (const f of families) registry.registerMetric(f);
  const webhookAck = new Histogram({
    name: 'metarr_webhook_ack_seconds',
    help: 'Time this API replica took to answer a webhook delivery, per source',
    labelNames: ['source'] as const,
    buckets: ACK_BUCKETS,
    registers: [registry],
  });
  return { registry, webhookAck };
}
