import t from 'tap';
import type { TSchema } from 'typebox';
import { compileSchema } from '../../src/schema.ts';
import { parseWebhook, type WebhookSource, webhookBodySchema } from '../../src/webhooks/index.ts';
import { fixture, fixtureNames } from '../fixtures/webhooks/load.ts';

/** The documented branch for an event type: its own, or the catch-all for events without work. */
function branchFor(source: WebhookSource, eventType: string): TSchema & { title: string } {
  const { anyOf } = webhookBodySchema(source) as { anyOf: (TSchema & { title: string })[] };
  return anyOf.find((b) => b.title === eventType) ?? (anyOf.at(-1) as TSchema & { title: string });
}

t.test('the documented body of each source accepts every real delivery, under its event type', async (t) => {
  for (const name of fixtureNames()) {
    const source = name.split('-')[0] as WebhookSource;
    const body = fixture(name);
    const parsed = parseWebhook(source, body);
    const branch = branchFor(source, String(body.eventType));
    t.equal(
      branch.title === 'Any other event',
      parsed.kind !== 'actionable',
      `${name}: ${parsed.kind} is documented under "${branch.title}"`,
    );
    t.ok(compileSchema(branch).check(body), `${name} matches its documented schema`);
  }
});

t.test('the documented schema requires what the intake requires', async (t) => {
  const body = fixture('radarr-download');
  delete (body.movie as Record<string, unknown>).folderPath;
  t.equal(parseWebhook('radarr', body).kind, 'invalid');
  t.notOk(compileSchema(branchFor('radarr', 'Download')).check(body), 'movie.folderPath is required');
});
