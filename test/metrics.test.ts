import fs from 'node:fs/promises';
import path from 'node:path';
import { startFakeKodi } from '@metarr/testkit';
import t from 'tap';
import { kodiGroup, movieLibrary, radarrFixture } from './support/notify.ts';
import { ROOT, request, startStack, waitFor } from './support/stack.ts';

interface Family {
  help?: string;
  type?: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|[+-]?[Ii][Nn][Ff]|[Nn][Aa][Nn]))(?: -?[0-9]+)?$`,
);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/** The Prometheus text format 0.0.4, strictly: every line a HELP, a TYPE or a sample of a declared family. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const fam = (name: string) => {
    const f = families.get(name) ?? { samples: [] };
    families.set(name, f);
    return f;
  };
  const familyOf = (sample: string) => {
    for (const suffix of ['_bucket', '_sum', '_count', '']) {
      const base = suffix && sample.endsWith(suffix) ? sample.slice(0, -suffix.length) : sample;
      const f = families.get(base);
      if (f && (suffix === '' || f.type === 'histogram' || f.type === 'summary')) return f;
    }
    throw new Error(`sample ${sample} belongs to no declared family`);
  };
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    let m = HELP.exec(line);
    if (m) {
      const f = fam(m[1] as string);
      if (f.help !== undefined || f.samples.length) throw new Error(`HELP after samples or twice: ${line}`);
      f.help = m[2] as string;
      continue;
    }
    m = TYPE.exec(line);
    if (m) {
      const f = fam(m[1] as string);
      if (f.type !== undefined || f.samples.length) throw new Error(`TYPE after samples or twice: ${line}`);
      f.type = m[2] as string;
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment: ${line}`);
    m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a valid sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if ((lm[1] as string) in labels) throw new Error(`duplicate label in ${line}`);
      labels[lm[1] as string] = lm[2] as string;
    }
    const raw = m[3] as string;
    // Go's ParseFloat, as Prometheus reads values: Inf and NaN in any case.
    const value = /^[+-]?inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    familyOf(m[1] as string).samples.push({ name: m[1] as string, labels, value });
  }
  for (const [name, f] of families) {
    if (f.help === undefined || f.type === undefined) throw new Error(`${name} lacks HELP or TYPE`);
    if (f.type === 'histogram') checkHistogram(name, f);
    if (f.type === 'counter' && f.samples.some((s) => s.value < 0)) throw new Error(`${name} negative`);
  }
  return families;
}

/** Per label set: `le` buckets ascending with non-decreasing counts, a +Inf bucket equal to `_count`. */
function checkHistogram(name: string, f: Family) {
  const key = (l: Record<string, string>) =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const k = key(s.labels);
    const e = series.get(k) ?? { buckets: [] };
    series.set(k, e);
    if (s.name === `${name}_bucket`) {
      if (s.labels.le === undefined) throw new Error(`${name} bucket without le`);
      e.buckets.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]);
    } else if (s.name === `${name}_count`) e.count = s.value;
    else if (s.name === `${name}_sum`) e.sum = s.value;
    else throw new Error(`${s.name} in histogram ${name}`);
  }
  for (const [k, e] of series) {
    for (let i = 1; i < e.buckets.length; i++) {
      const [pl, pc] = e.buckets[i - 1] as [number, number];
      const [le, c] = e.buckets[i] as [number, number];
      if (!(le > pl)) throw new Error(`${name}${k}: le not ascending`);
      if (c < pc) throw new Error(`${name}${k}: bucket counts decrease`);
    }
    const last = e.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${name}${k}: no +Inf bucket`);
    if (e.count === undefined || e.sum === undefined) throw new Error(`${name}${k}: no _count or _sum`);
    if (last[1] !== e.count) throw new Error(`${name}${k}: +Inf ${last[1]} != count ${e.count}`);
  }
}

const value = (fs: Map<string, Family>, sample: string, labels: Record<string, string> = {}) =>
  (fs.get(sample.replace(/_(bucket|sum|count)$/, '')) ?? fs.get(sample))?.samples
    .filter((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0) ?? 0;

t.test('the strict parser refuses what Prometheus would refuse', async (t) => {
  t.throws(() => parseExposition('metarr_x 1\n'), /no declared family/);
  t.throws(() => parseExposition('# HELP a b\n# TYPE a gauge\na{x=y} 1\n'), /not a valid sample/);
  t.throws(() => parseExposition('# TYPE a gauge\na 1\n'), /lacks HELP/);
  const h = (inf: number) =>
    `# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} ${inf}\nh_sum 1\nh_count 3\n`;
  t.throws(() => parseExposition(h(1)), /decrease/);
  t.throws(() => parseExposition(h(2)), /\+Inf 2 != count 3/);
  t.ok(parseExposition(h(3)).get('h'));
});

t.test('GET /metrics needs the key, and takes it as X-Api-Key, ?apikey= or a bearer token', async (t) => {
  const stack = await startStack(t, { worker: false });
  t.equal((await request(stack.url, 'GET', '/metrics')).status, 401);
  t.equal(
    (await request(stack.url, 'GET', '/metrics', undefined, { authorization: 'Bearer nope' })).status,
    401,
  );
  const ways: [string, string, Record<string, string>][] = [
    ['X-Api-Key', '/metrics', { 'x-api-key': stack.apiKey }],
    ['?apikey=', `/metrics?apikey=${stack.apiKey}`, {}],
    ['Bearer', '/metrics', { authorization: `Bearer ${stack.apiKey}` }],
  ];
  for (const [how, route, headers] of ways) {
    const r = await request(stack.url, 'GET', route, undefined, headers);
    t.equal(r.status, 200, how);
    t.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/, how);
    const fams = parseExposition(r.text);
    t.ok(fams.get('metarr_api_process_cpu_user_seconds_total'), `${how}: process metrics`);
  }
});

t.test('families move after a Radarr webhook is acknowledged and its jobs reach Kodi', async (t) => {
  const stack = await startStack(t);
  const kodi = await startFakeKodi({ username: 'kodi', password: 'secret-pass' });
  t.teardown(() => kodi.close());
  const lib = await movieLibrary(t, stack);
  await kodiGroup(t, stack, lib, [
    { name: 'Kodi', port: kodi.port, username: 'kodi', password: 'secret-pass' },
  ]);

  const scrape = async () => {
    const r = await stack.api('GET', '/metrics');
    t.equal(r.status, 200);
    return parseExposition(r.text);
  };
  const before = await scrape();
  t.equal(value(before, 'metarr_webhook_deliveries_total', { source: 'radarr' }), 0);
  t.equal(value(before, 'metarr_webhook_ack_seconds_count'), 0);
  t.equal(value(before, 'metarr_webhook_to_player_seconds_count'), 0);

  const body = await radarrFixture('radarr-download.json');
  const ack = await stack.api('POST', '/api/webhooks/radarr', body);
  t.equal(ack.status, 200);
  await waitFor('Kodi VideoLibrary.Scan', async () =>
    kodi.calls.find((c) => c.method === 'VideoLibrary.Scan'),
  );
  const after = await waitFor('the notify jobs completed', async () => {
    const s = await scrape();
    return value(s, 'metarr_job_run_seconds_count', { type: 'notify-group' }) >= 1 ? s : null;
  });

  t.equal(value(after, 'metarr_webhook_deliveries_total', { source: 'radarr', outcome: 'queued' }), 1);
  t.equal(value(after, 'metarr_webhook_ack_seconds_count', { source: 'radarr' }), 1);
  t.ok(value(after, 'metarr_webhook_ack_seconds_sum', { source: 'radarr' }) > 0);
  for (const type of ['webhook', 'scan-movie', 'notify-players']) {
    t.equal(value(after, 'metarr_job_run_seconds_count', { type }), 1, `${type} run counted`);
    t.equal(value(after, 'metarr_job_wait_seconds_count', { type }), 1, `${type} wait counted`);
  }
  t.equal(value(after, 'metarr_webhook_to_player_seconds_count', { source: 'radarr' }), 1);
  t.equal(value(after, 'metarr_player_calls_total', { type: 'kodi', result: 'ok' }), 1);
  t.equal(value(after, 'metarr_player_calls_total', { type: 'kodi', result: 'failed' }), 0);
  t.equal(value(after, 'metarr_jobs_failed'), 0);
  t.equal(value(after, 'metarr_library_items', { kind: 'movie', state: 'present' }), 1);
  t.ok(after.get('metarr_jobs_queued') && after.get('metarr_jobs_active'), 'queue gauges declared');
});

t.test('every expression of the Grafana dashboard uses a family /metrics exports', async (t) => {
  const stack = await startStack(t, { worker: false });
  const fams = parseExposition((await stack.api('GET', '/metrics')).text);
  const dashboard = JSON.parse(
    await fs.readFile(path.join(ROOT, 'deploy', 'grafana-dashboard.json'), 'utf8'),
  );
  const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
    p.targets.map((x) => x.expr),
  );
  t.ok(exprs.length >= 10);
  for (const expr of exprs) {
    const names = [...expr.matchAll(/\bmetarr_[a-z0-9_]+/g)].map((m) => m[0]);
    t.ok(names.length, `${expr} names a family`);
    for (const n of names) {
      const base = n.replace(/_(bucket|sum|count)$/, '');
      t.ok(fams.has(n) || fams.get(base)?.type === 'histogram', `${n} is exported`);
    }
  }
});
