import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { startStack } from './support/stack.ts';

/**
 * The OpenAPI document as a client's tooling reads it. Validated by @seriousme/openapi-schema-validator
 * (the OpenAPI Initiative's own JSON Schemas for 3.0 and 3.1, checked with Ajv), then checked for what
 * the schemas cannot say: every operation tagged and summarised, errors as the one shared shape,
 * enums as `enum`, and defaults that are what the server really does.
 */

type Schema = Record<string, any>;
interface Operation {
  tags?: string[];
  summary?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
  security?: Record<string, string[]>[];
}

/** Every schema object in the document (nested ones included), with where it is. */
function* schemas(node: unknown, at = ''): Generator<[string, Schema]> {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) yield* schemas(n, `${at}/${i}`);
    return;
  }
  const obj = node as Schema;
  if ('type' in obj || 'anyOf' in obj || 'enum' in obj || '$ref' in obj) yield [at, obj];
  for (const [k, v] of Object.entries(obj)) yield* schemas(v, `${at}/${k}`);
}

t.test('the OpenAPI document', async (t) => {
  const media = t.testdir({ movies: {} });
  const stack = await startStack(t, { worker: false, basePath: '/metarr' });
  const doc = (await stack.api('GET', '/api/docs/json')).json;
  const ops = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([p, methods]) =>
    Object.entries(methods).map(([m, op]) => ({ name: `${m.toUpperCase()} ${p}`, ...op })),
  );
  const body = (path: string, method = 'post') =>
    doc.paths[path][method].requestBody.content['application/json'].schema as Schema;

  await t.test('is valid OpenAPI 3.0', async (t) => {
    const result = await new Validator().validate(doc);
    t.same(result.errors ?? [], [], 'no schema errors');
    t.equal(result.valid, true);
    t.equal(doc.openapi, '3.0.3');
  });

  await t.test('every operation has one known tag and a summary; every tag is used', async (t) => {
    const tags = new Set((doc.tags as { name: string }[]).map((tag) => tag.name));
    t.same(
      ops.filter((o) => o.tags?.length !== 1 || !tags.has(o.tags[0] as string)).map((o) => o.name),
      [],
      'tagged',
    );
    t.same(
      ops.filter((o) => !o.summary?.trim()).map((o) => o.name),
      [],
      'summarised',
    );
    t.same(
      [...tags].filter((tag) => !ops.some((o) => o.tags?.[0] === tag)),
      [],
      'no empty tag',
    );
    const repeated = ops.map((o) => o.summary).filter((s, i, all) => all.indexOf(s) !== i);
    t.same(
      repeated,
      ['Receive a Radarr webhook', 'Receive a Sonarr webhook', 'Receive a Lidarr webhook'],
      'summaries tell operations apart (a webhook route takes POST and PUT alike)',
    );
  });

  await t.test('every response is described; every error is the shared Error', async (t) => {
    const errorRef = '#/components/schemas/Error';
    t.ok(doc.components.schemas.Error, 'Error is a component');
    const problems: string[] = [];
    for (const o of ops) {
      for (const [status, r] of Object.entries(o.responses)) {
        if (!r.description?.trim()) problems.push(`${o.name} ${status}: no description`);
        const ownHealthShape = o.name.startsWith('GET /metarr/api/health') && status === '503';
        if (Number(status) >= 400 && !ownHealthShape) {
          const ref = r.content?.['application/json']?.schema?.$ref;
          if (ref !== errorRef) problems.push(`${o.name} ${status}: not the Error schema`);
        }
      }
      if (!Object.keys(o.responses).some((s) => /^[12]\d\d$/.test(s))) problems.push(`${o.name}: no success`);
    }
    t.same(problems, []);
  });

  await t.test('enums are enums, not anyOf lists of single values', async (t) => {
    const singleValueUnions = [...schemas(doc)]
      .filter(([, s]) => Array.isArray(s.anyOf) && s.anyOf.length > 1)
      .filter(([, s]) => s.anyOf.every((m: Schema) => Array.isArray(m.enum) && m.enum.length === 1))
      .map(([at]) => at);
    t.same(singleValueUnions, []);
    t.same(body('/metarr/api/libraries').properties.type.enum, ['movie', 'tv', 'music']);
  });

  await t.test('the key is a security scheme, never a parameter; health needs none', async (t) => {
    t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'apiKeyQuery', 'webhookBasic']);
    t.same(
      ops.filter((o) => o.parameters?.some((p) => p.name.toLowerCase() === 'apikey')).map((o) => o.name),
      [],
      'no route lists apikey as a parameter',
    );
    t.same(doc.paths['/metarr/api/health'].get.security, [], 'health is open');
    t.same(
      doc.paths['/metarr/api/webhooks/radarr'].post.security,
      [{ apiKey: [] }, { apiKeyQuery: [] }, { webhookBasic: [] }],
      'webhooks also take Basic',
    );
    t.same(doc.security, [{ apiKey: [] }, { apiKeyQuery: [] }], 'the rest take the key');
  });

  await t.test('no page or page asset is listed as an operation', async (t) => {
    const pages = Object.keys(doc.paths).filter(
      (p) =>
        p === '/metarr/' ||
        p === '/metarr' ||
        p.startsWith('/metarr/ui/') ||
        p.startsWith('/metarr/api/docs/static'),
    );
    t.same(pages, []);
    t.same(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/metarr/api/docs'))
        .sort(),
      ['/metarr/api/docs/json', '/metarr/api/docs/yaml'],
    );
  });

  await t.test('webhook routes document the bodies the *arr apps send', async (t) => {
    const radarr = body('/metarr/api/webhooks/radarr');
    const events = (radarr.anyOf as Schema[]).map((s) => s.title);
    t.same(events.slice(0, 2), ['Download', 'Rename']);
    t.equal(events.at(-1), 'Any other event');
    const download = (radarr.anyOf as Schema[])[0] as Schema;
    t.same(download.properties.movie.required, ['folderPath']);
    t.ok(body('/metarr/api/webhooks/sonarr', 'put').anyOf, 'PUT too');
  });

  await t.test('defaults in the document are what the server does when a field is left out', async (t) => {
    const lib = await stack.api('POST', '/api/libraries', {
      name: 'M',
      type: 'movie',
      path: `${media}/movies`,
    });
    const groupSchema = body('/metarr/api/player-groups').properties as Record<string, Schema>;
    const group = await stack.api('POST', '/api/player-groups', { name: 'G', type: 'kodi' });
    t.equal(group.status, 201);
    const groupDefaults = Object.entries(groupSchema).filter(([, s]) => 'default' in s);
    t.same(
      groupDefaults.map(([k]) => k).sort(),
      [
        'cleanAfterDelete',
        'debounceSeconds',
        'libraryIds',
        'pathMappings',
        'scanWhilePlaying',
        'sharedLibrary',
      ],
      'every optional group setting documents its default',
    );
    for (const [field, s] of groupDefaults) t.same(group.json[field], s.default, `player group ${field}`);

    const playerSchema = body('/metarr/api/players').properties as Record<string, Schema>;
    const player = await stack.api('POST', '/api/players', {
      groupId: group.json.id,
      name: 'P',
      type: 'kodi',
      host: '127.0.0.1',
      port: 8080,
    });
    t.equal(player.status, 201);
    for (const [field, s] of Object.entries(playerSchema).filter(([, s]) => 'default' in s))
      t.same(player.json[field], s.default, `player ${field}`);

    const schedules = await stack.api('GET', '/api/schedules');
    const shown = doc.paths['/metarr/api/schedules'].get.responses['200'].content['application/json'].schema;
    t.equal(schedules.json.timezone, shown.properties.timezone.default, 'schedule timezone');
    for (const part of ['fileScan', 'providerUpdate'])
      for (const [field, s] of Object.entries(shown.properties[part].properties as Record<string, Schema>))
        if ('default' in s) t.same(schedules.json[part][field], s.default, `${part}.${field}`);

    const minutes = doc.paths['/metarr/api/jobs/timeline'].get.parameters.find(
      (p: { name: string }) => p.name === 'minutes',
    );
    t.equal((await stack.api('GET', '/api/jobs/timeline')).json.minutes, minutes.schema.default, 'timeline');

    // A page size left out: more rows than the default, and exactly the default come back.
    const limit = doc.paths['/metarr/api/movies'].get.parameters.find(
      (p: { name: string }) => p.name === 'limit',
    );
    const rows = Array.from({ length: limit.schema.default + 1 }, (_, i) => ({
      library_id: lib.json.id,
      path: `${media}/movies/M${i}`,
    }));
    await stack.db.insertInto('movies').values(rows).execute();
    t.equal((await stack.api('GET', '/api/movies')).json.length, limit.schema.default, 'movies page size');
  });
});
