/**
 * Webhook payloads from Radarr, Sonarr and Lidarr: what a delivery is (`parseWebhook`) and what must
 * be done for it (`planWebhook`). Pure: no I/O; the API stores the delivery, the worker executes the plan.
 *
 * Payload shapes follow the *arr sources (`src/NzbDrone.Core/Notifications/Webhook/*.cs`): camelCase
 * properties, PascalCase `eventType`, nulls omitted. Only the fields we act on are checked; anything
 * else, including fields newer versions add, is accepted untouched.
 */
import { createHash } from 'node:crypto';
import Type, { type TSchema } from 'typebox';
import { permanent } from '../errors.ts';
import { checkArrPath, checkRelativeArrPath } from '../paths.ts';
import { Envelope } from './common.ts';
import { lidarrEvents } from './lidarr.ts';
import { radarrEvents } from './radarr.ts';
import { sonarrEvents } from './sonarr.ts';
import type {
  ActionableEvent,
  AppEvents,
  EventIdentity,
  ParsedWebhook,
  WebhookAction,
  WebhookIssue,
  WebhookSource,
} from './types.ts';

export type { ParsedWebhook, WebhookAction, WebhookIssue, WebhookSource } from './types.ts';

const APPS: Readonly<Record<WebhookSource, AppEvents>> = {
  radarr: radarrEvents,
  sonarr: sonarrEvents,
  lidarr: lidarrEvents,
};

export const WEBHOOK_SOURCES: readonly WebhookSource[] = ['radarr', 'sonarr', 'lidarr'];

/**
 * What a source sends, for the API document: per event type Metarr acts on, the fields it reads
 * (real deliveries carry many more; they are accepted untouched), then every other event, which is
 * answered 200 without a job.
 */
export function webhookBodySchema(source: WebhookSource): TSchema {
  const app = appFor(source);
  const actionable = [...app.actionable].map(([eventType, spec]) => ({
    ...spec.schema,
    title: eventType,
    properties: {
      ...(spec.schema as { properties?: Record<string, TSchema> }).properties,
      eventType: Type.String({ enum: [eventType] }),
    },
  }));
  const other = Type.Object(
    {
      eventType: Type.String({
        minLength: 1,
        maxLength: 100,
        description: `\`Test\`, ${[...app.ignored.keys()].map((e) => `\`${e}\``).join(', ')} or any other event type`,
        examples: ['Test'],
      }),
      instanceName: Type.Optional(Type.String()),
    },
    {
      title: 'Any other event',
      description: 'Stored and answered 200 (`success` for a Test, else `ignored`)',
    },
  );
  return Type.Unsafe({ anyOf: [...actionable, other] });
}

function appFor(source: WebhookSource): AppEvents {
  if (!Object.hasOwn(APPS, source)) throw new TypeError(`unknown webhook source: ${String(source)}`);
  return APPS[source];
}

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

function ownString(body: Record<string, unknown>, key: string): string | undefined {
  const v = Object.hasOwn(body, key) ? body[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

const withInstance = (instanceName: string | undefined) =>
  instanceName === undefined ? {} : { instanceName };

/** Issues in the paths an event's plan would act on (only called once its schema accepted the body). */
function pathIssues(spec: ActionableEvent, body: unknown): WebhookIssue[] {
  const issues: WebhookIssue[] = [];
  for (const use of spec.paths(body)) {
    const problem = use.relative ? checkRelativeArrPath(use.value) : checkArrPath(use.value);
    if (problem) issues.push({ path: use.pointer, message: problem });
  }
  return issues;
}

/**
 * *arr deliveries carry no id, so the key comes from content: the same logical event (a retried
 * delivery) gives the same key; another file or download gives another.
 */
function idempotencyKey(
  source: WebhookSource,
  instanceName: string | undefined,
  eventType: string,
  id: EventIdentity,
): string {
  const files = [...new Set(id.files)].sort();
  const raw = `${source}:${instanceName ?? ''}:${eventType}:${JSON.stringify([id.entity, files, id.downloadId ?? ''])}`;
  return createHash('sha256').update(raw).digest('hex');
}

type Resolved =
  | { parsed: Exclude<ParsedWebhook, { kind: 'actionable' }> }
  | { parsed: Extract<ParsedWebhook, { kind: 'actionable' }>; spec: ActionableEvent };

function resolve(source: WebhookSource, body: unknown): Resolved {
  const app = appFor(source);
  if (!isObject(body))
    return { parsed: { kind: 'invalid', issues: [{ path: '', message: 'must be object' }] } };
  if (!Envelope.check(body)) return { parsed: { kind: 'invalid', issues: Envelope.errors(body) } };

  const eventType = body.eventType as string;
  const instanceName = ownString(body, 'instanceName');

  // Test deliveries carry placeholder data (`C:\testpath`, tmdbId 0): answer them, never judge them.
  if (eventType === 'Test')
    return { parsed: { kind: 'test', eventType: 'Test', ...withInstance(instanceName) } };

  const spec = app.actionable.get(eventType);
  if (!spec) {
    const reason =
      app.ignored.get(eventType) ?? `${source} event type ${JSON.stringify(eventType)} is not handled`;
    return { parsed: { kind: 'ignored', eventType, reason, ...withInstance(instanceName) } };
  }

  if (!spec.check(body)) return { parsed: { kind: 'invalid', issues: spec.errors(body) } };
  const issues = pathIssues(spec, body);
  if (issues.length) return { parsed: { kind: 'invalid', issues } };

  const title = spec.title(body);
  return {
    spec,
    parsed: {
      kind: 'actionable',
      eventType,
      idempotencyKey: idempotencyKey(source, instanceName, eventType, spec.identity(body)),
      ...(title === undefined ? {} : { title }),
      ...withInstance(instanceName),
    },
  };
}

/** Classifies a delivery: invalid (with JSON-pointer issues), a Test, ignored, or actionable. */
export function parseWebhook(source: WebhookSource, body: unknown): ParsedWebhook {
  return resolve(source, body).parsed;
}

/**
 * What the `webhook` job handler must do for an accepted delivery. The body is judged again, so a
 * stored delivery that is not actionable fails permanently (`WEBHOOK_NOT_ACTIONABLE`) instead of
 * being acted on half-understood. Some actionable deliveries need nothing (a file deleted by an
 * upgrade, whose Download event follows): the plan is then `[]`.
 */
export function planWebhook(source: WebhookSource, body: unknown): WebhookAction[] {
  const r = resolve(source, body);
  if (!('spec' in r)) {
    throw permanent('WEBHOOK_NOT_ACTIONABLE', `${source} delivery is ${r.parsed.kind}, not actionable`, {
      parsed: r.parsed,
    });
  }
  return r.spec.plan(body, r.parsed.eventType);
}
