import t from 'tap';
import { startStack } from './support/stack.ts';

/**
 * Out-of-range numbers in ids and paging parameters: PostgreSQL's `integer` ends at 2^31-1, and a
 * larger value reaching a query fails there (22003) as a 500. Every documented operation with such
 * a parameter is sent values beyond it; each must answer 400 or 404.
 */

interface Param {
  name: string;
  in: 'path' | 'query';
  schema?: { type?: string; maximum?: number; minimum?: number };
}
type Doc = {
  paths: Record<string, Record<string, { parameters?: Param[] }>>;
};

const OUT_OF_RANGE = [
  '2147483648',
  '9007199254740993',
  '1e20',
  '99999999999999999999999',
  '-1',
  '-2147483649',
];

t.test('ids and offsets beyond PostgreSQL integer answer 400 or 404 on every route, never 500', async (t) => {
  const stack = await startStack(t, { worker: false });

  for (const [route, want] of [
    ['/api/movies/2147483648', [400, 404]],
    ['/api/libraries/9007199254740993', [400, 404]],
    ['/api/movies?offset=1e20', [400]],
    ['/api/webhooks/deliveries?offset=1e20', [400]],
  ] as const) {
    const r = await stack.api('GET', route);
    t.ok(
      (want as readonly number[]).includes(r.status),
      `GET ${route} → ${r.status}: ${r.text.slice(0, 120)}`,
    );
  }

  const doc = (await stack.api('GET', '/api/docs/json')).json as Doc;
  let sent = 0;
  const answers = new Map<string, number>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const method = m.toUpperCase();
      const params = (op.parameters ?? []).filter((p) => p.schema?.type === 'integer');
      const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
      // A path with valid ids in every place, so only the parameter under test is out of range.
      const base = pathParams.reduce(
        (p, q) =>
          p.replace(
            `{${q.name}}`,
            q.schema?.type === 'integer' ? '1' : '00000000-0000-4000-8000-000000000000',
          ),
        path,
      );
      for (const param of params) {
        for (const value of OUT_OF_RANGE) {
          const route =
            param.in === 'path'
              ? pathParams.reduce(
                  (p, q) => p.replace(`{${q.name}}`, q.name === param.name ? value : '1'),
                  path,
                )
              : `${base}?${param.name}=${encodeURIComponent(value)}`;
          const r = await stack.api(method, route, method === 'GET' || method === 'DELETE' ? undefined : {});
          answers.set(`${method} ${route}`, r.status);
          sent++;
          t.ok(
            r.status === 400 || r.status === 404,
            `${method} ${path} with ${param.in} ${param.name}=${value} → ${r.status}`,
          );
        }
      }
    }
  }
  t.ok(sent > 100, `${sent} out-of-range requests sent`);
  t.ok(
    [...answers.values()].every((s) => s !== 500),
    'no 500 anywhere',
  );

  // Ids in bodies reach the same queries.
  const group = await stack.api('POST', '/api/player-groups', { name: 'K', type: 'kodi' });
  for (const [method, route, body] of [
    ['POST', '/api/players', { groupId: 2147483648, name: 'x', type: 'kodi', host: '127.0.0.1', port: 1 }],
    ['POST', '/api/player-groups', { name: 'y', type: 'kodi', libraryIds: [2147483648] }],
    ['PATCH', `/api/player-groups/${group.json.id}`, '{"libraryIds":[9007199254740993]}'],
    ['PUT', '/api/schedules', { libraries: [{ libraryId: 2147483648, enabled: false }] }],
  ] as const) {
    const r = await stack.api(method, route, body);
    t.equal(
      r.status,
      400,
      `${method} ${route} with an out-of-range id in the body → 400: ${r.text.slice(0, 120)}`,
    );
  }
});
