import {
  ALERT_CHANNEL_TYPES,
  ALERT_DEFAULTS,
  ALERT_EVENT_TYPES,
  type AlertChannelRecord,
  createAlertChannel,
  deleteAlertChannel,
  getAlertChannel,
  listAlertChannels,
  playerHostAllowed,
  redactUrl,
  replaceAlertChannel,
  testAlertChannel,
  urlHost,
} from '@metarr/core';
import Type from 'typebox';
import type { RoutePlugin } from '../deps.ts';
import { httpError } from '../errors.ts';
import type { Tag } from '../openapi.ts';
import { failure, IdParams, NoContent, Nullable, StringEnum } from '../schemas.ts';

const tags: Tag[] = ['Alerts'];

const ChannelType = StringEnum(ALERT_CHANNEL_TYPES, {
  description:
    '`webhook`: POST of a JSON digest to `url`; `discord`: a Discord webhook URL (`{content, embeds}`); `ntfy`: the server URL, with `topic` (and an optional access `token`); `apprise`: an Apprise API URL, with the configuration key in `token` (POST `{url}/notify/{token}`)',
});
const EventType = StringEnum(ALERT_EVENT_TYPES, {
  description:
    '`job-dead-lettered`, `player-unreachable` (for `unreachableMinutes`), `provider-key-rejected`, `disk-full`, `item-healed` (accepted; nothing emits it yet), `publish-done`',
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, examples: ['Discord #media'] }),
  type: ChannelType,
  url: Type.String({
    minLength: 1,
    maxLength: 2048,
    description:
      'http(s) URL of the receiver; write-only (a Discord or webhook URL holds its token): answered with everything after the host cut off',
    examples: ['https://discord.com/api/webhooks/123/abc'],
  }),
  token: Type.Optional(
    Nullable(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'ntfy access token (sent as Bearer) or Apprise configuration key; write-only, `null` removes it',
      }),
    ),
  ),
  topic: Type.Optional(
    Nullable(
      Type.String({
        pattern: '^[-_A-Za-z0-9]{1,64}$',
        description: 'ntfy topic (required for ntfy)',
        examples: ['metarr'],
      }),
    ),
  ),
  enabled: Type.Optional(
    Type.Boolean({ default: ALERT_DEFAULTS.enabled, description: 'A disabled channel is sent nothing' }),
  ),
  events: Type.Optional(
    Type.Array(EventType, {
      maxItems: ALERT_EVENT_TYPES.length,
      default: [...ALERT_DEFAULTS.events],
      description: 'What the channel is told about (default: everything but `publish-done`)',
    }),
  ),
  unreachableMinutes: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 1440,
      default: ALERT_DEFAULTS.unreachableMinutes,
      description: '`player-unreachable` is sent once a player has failed to answer for this long',
    }),
  ),
  digestSeconds: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: ALERT_DEFAULTS.digestSeconds,
      description: 'Events within this window go out as one digest message',
    }),
  ),
};

const ChannelBody = Type.Object(fields);
/** PUT replaces the settings; the write-only `url` and `token` left out keep what is stored. */
const ChannelReplace = Type.Object({ ...fields, url: Type.Optional(fields.url) });

const AlertChannel = Type.Object({
  id: Type.Integer({ examples: [1] }),
  name: Type.String({ examples: ['Discord #media'] }),
  type: ChannelType,
  url: Type.String({
    description: 'The URL with everything after the host cut off (`…`)',
    examples: ['https://discord.com/…'],
  }),
  hasToken: Type.Boolean(),
  topic: Nullable(Type.String()),
  enabled: Type.Boolean(),
  events: Type.Array(EventType),
  unreachableMinutes: Type.Integer(),
  digestSeconds: Type.Integer(),
});

const TestResult = Type.Object({
  ok: Type.Boolean({ examples: [true] }),
  status: Type.Integer({ description: "The receiver's HTTP status", examples: [204] }),
  message: Type.String({ examples: ['Delivered to Discord (discord.com) (HTTP 204).'] }),
});

const channelOut = (c: AlertChannelRecord) => ({
  id: c.id,
  name: c.name,
  type: c.type,
  url: redactUrl(c.url),
  hasToken: Boolean(c.token),
  topic: c.topic,
  enabled: c.enabled,
  events: c.events,
  unreachableMinutes: c.unreachableMinutes,
  digestSeconds: c.digestSeconds,
});

const notFound = { 404: failure('No alert channel with this id') };

/** Checks no schema expresses: an http(s) URL on an allowed host, and what each type requires. */
async function checkChannel(c: {
  type: string;
  url?: string | undefined;
  token: string | null;
  topic: string | null;
}) {
  if (c.url !== undefined) {
    let u: URL | null = null;
    try {
      u = new URL(c.url);
    } catch {}
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      throw httpError(400, 'body/url must be an absolute http(s) URL');
    if (!(await playerHostAllowed(urlHost(c.url) ?? '')))
      throw httpError(
        400,
        'body/url must not point at a link-local, metadata or unspecified address (169.254.0.0/16, fe80::/10, 0.0.0.0/8, ::)',
      );
  }
  if (c.type === 'ntfy' && !c.topic) throw httpError(400, 'body/topic is required for an ntfy channel');
  if (c.type === 'apprise' && !c.token)
    throw httpError(400, 'body/token is required for an apprise channel (the Apprise configuration key)');
}

export const alertRoutes: RoutePlugin = async (app, deps) => {
  const db = deps.db;

  app.get(
    '/api/alerts',
    { schema: { tags, summary: 'List alert channels', response: { 200: Type.Array(AlertChannel) } } },
    async () => (await listAlertChannels(db)).map(channelOut),
  );

  app.get(
    '/api/alerts/:id',
    {
      schema: {
        tags,
        summary: 'Get an alert channel',
        params: IdParams,
        response: { 200: AlertChannel, ...notFound },
      },
    },
    async (req) => {
      const c = await getAlertChannel(db, req.params.id);
      if (!c) throw httpError(404, `alert channel ${req.params.id} not found`);
      return channelOut(c);
    },
  );

  app.post(
    '/api/alerts',
    { schema: { tags, summary: 'Add an alert channel', body: ChannelBody, response: { 201: AlertChannel } } },
    async (req, reply) => {
      const b = req.body;
      await checkChannel({ type: b.type, url: b.url, token: b.token ?? null, topic: b.topic ?? null });
      const c = await createAlertChannel(db, b);
      deps.log.info({ service: 'AlertService', channelId: c.id, type: c.type }, 'Alert channel added');
      return reply.code(201).send(channelOut(c));
    },
  );

  app.put(
    '/api/alerts/:id',
    {
      schema: {
        tags,
        summary: 'Replace an alert channel',
        description:
          'Replaces every setting (a field left out gets its default); `url` and `token`, being write-only, keep their stored value when left out.',
        params: IdParams,
        body: ChannelReplace,
        response: { 200: AlertChannel, ...notFound },
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      const current = await getAlertChannel(db, id);
      if (!current) throw httpError(404, `alert channel ${id} not found`);
      await checkChannel({
        type: b.type,
        url: b.url,
        token: b.token === undefined ? current.token : b.token,
        topic: b.topic ?? null,
      });
      const c = await replaceAlertChannel(db, id, b);
      if (!c) throw httpError(404, `alert channel ${id} not found`);
      deps.log.info({ service: 'AlertService', channelId: c.id, type: c.type }, 'Alert channel changed');
      return channelOut(c);
    },
  );

  app.delete(
    '/api/alerts/:id',
    {
      schema: {
        tags,
        summary: 'Remove an alert channel',
        params: IdParams,
        response: { 204: NoContent, ...notFound },
      },
    },
    async (req, reply) => {
      if (!(await deleteAlertChannel(db, req.params.id)))
        throw httpError(404, `alert channel ${req.params.id} not found`);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/alerts/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a test alert',
        description:
          "Sends a test message to the channel now (enabled or not). 200 when the receiver took it; 502 with a sentence naming the receiver's type and host and what it answered (never the URL's path, the token, or the receiver's own text) when it did not.",
        params: IdParams,
        response: {
          200: TestResult,
          ...notFound,
          502: failure('The receiver did not take the test message'),
        },
      },
    },
    async (req, reply) => {
      const c = await getAlertChannel(db, req.params.id);
      if (!c) throw httpError(404, `alert channel ${req.params.id} not found`);
      const r = await testAlertChannel({ log: deps.log }, c);
      if (!r.ok || r.status === null)
        return reply.code(502).send({ statusCode: 502, error: 'Bad Gateway', message: r.message });
      return { ok: true, status: r.status, message: r.message };
    },
  );
};
