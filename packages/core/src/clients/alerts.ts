/**
 * Transport for alert messages: one POST to a generic webhook, a Discord webhook, an ntfy topic or
 * an Apprise API, in the shape each one documents. Redirects are never followed, only http(s), every
 * call bounded by a timeout. Failures are AppErrors (`ALERT_…`, `retryable`) whose message names the
 * receiver's type and host only: the URL's path and the token are secrets.
 */
import { request } from 'undici';
import type { AlertChannelType } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { assertPlayerHostAllowed, urlHost } from './address.ts';

export const ALERT_TIMEOUT_MS = 10_000;

export type AlertLevel = 'info' | 'success' | 'warning' | 'failure';

/** One message: a digest of events, or a test. */
export interface AlertMessage {
  title: string;
  /** Plain text, lines separated by `\n`. */
  body: string;
  level: AlertLevel;
  /** For the generic webhook: the digest's figures and its first events. */
  data: {
    total: number;
    counts: Record<string, number>;
    events: { type: string; message: string; at: string; details: Record<string, unknown> }[];
    test?: boolean;
  };
}

/** What a send needs of a channel (opened secrets). */
export interface AlertTarget {
  name: string;
  type: AlertChannelType;
  url: string;
  token: string | null;
  topic: string | null;
}

const TYPE_NAME: Record<AlertChannelType, string> = {
  webhook: 'Webhook',
  discord: 'Discord',
  ntfy: 'ntfy',
  apprise: 'Apprise',
};

const DISCORD_COLOR: Record<AlertLevel, number> = {
  info: 0x3498db,
  success: 0x2ecc71,
  warning: 0xf1c40f,
  failure: 0xe74c3c,
};
const NTFY_PRIORITY: Record<AlertLevel, string> = { failure: '4', warning: '3', info: '3', success: '2' };
const NTFY_TAGS: Record<AlertLevel, string> = {
  failure: 'rotating_light,metarr',
  warning: 'warning,metarr',
  info: 'information_source,metarr',
  success: 'white_check_mark,metarr',
};

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** An HTTP header value must be Latin-1: anything else goes as an RFC 2047 encoded word (ntfy reads it). */
const headerText = (s: string) =>
  /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;

const join = (base: string, ...parts: string[]) =>
  [base.replace(/\/+$/, ''), ...parts.map((p) => encodeURIComponent(p))].join('/');

/** The request each receiver type documents. */
export function alertRequest(
  target: AlertTarget,
  m: AlertMessage,
): { url: string; headers: Record<string, string>; body: string } {
  const json = { 'content-type': 'application/json' };
  switch (target.type) {
    case 'discord':
      // Execute Webhook: `content` up to 2,000 characters, an embed description up to 4,096.
      return {
        url: target.url,
        headers: json,
        body: JSON.stringify({
          content: clip(m.title, 2000),
          embeds: [
            { title: clip(m.title, 256), description: clip(m.body, 4096), color: DISCORD_COLOR[m.level] },
          ],
        }),
      };
    case 'ntfy': {
      const headers: Record<string, string> = {
        'content-type': 'text/plain; charset=utf-8',
        title: headerText(clip(m.title, 250)),
        priority: NTFY_PRIORITY[m.level],
        tags: NTFY_TAGS[m.level],
      };
      if (target.token) headers['authorization'] = `Bearer ${target.token}`;
      return { url: join(target.url, target.topic ?? ''), headers, body: m.body };
    }
    case 'apprise':
      // Apprise API's stateful endpoint: POST /notify/{KEY} with {title, body, type}.
      return {
        url: join(target.url, 'notify', target.token ?? ''),
        headers: json,
        body: JSON.stringify({ title: m.title, body: m.body, type: m.level }),
      };
    default:
      return {
        url: target.url,
        headers: json,
        body: JSON.stringify({
          source: 'metarr',
          title: m.title,
          message: m.body,
          level: m.level,
          ...m.data,
        }),
      };
  }
}

/** The receiver's type and host, for messages: never the path or query (they hold secrets). */
export function alertPeer(target: AlertTarget): string {
  return `${TYPE_NAME[target.type]} (${urlHost(target.url) ?? 'invalid URL'})`;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

/** Sends one message; resolves with the receiver's status, rejects with an `ALERT_…` AppError. */
export async function sendAlertMessage(
  target: AlertTarget,
  m: AlertMessage,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ status: number }> {
  const peer = alertPeer(target);
  const req = alertRequest(target, m);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new AppError(
      'ALERT_BAD_URL',
      `${TYPE_NAME[target.type]} channel ${target.name} has an invalid URL`,
      {
        retryable: false,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AppError('ALERT_BAD_URL', `${peer}: only http and https are supported`, { retryable: false });
  await assertPlayerHostAllowed(target.name, req.url).catch(() => {
    throw new AppError(
      'ALERT_FORBIDDEN_ADDRESS',
      `${peer} is a link-local, metadata or unspecified address`,
      {
        retryable: false,
      },
    );
  });
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? ALERT_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let status: number;
  try {
    const res = await request(url, { method: 'POST', headers: req.headers, body: req.body, signal });
    status = res.statusCode;
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const timedOut = timeout.aborted || code === 'ABORT_ERR' || code.includes('TIMEOUT');
    throw new AppError(
      timedOut ? 'ALERT_TIMEOUT' : 'ALERT_UNREACHABLE',
      timedOut
        ? `${peer} did not answer within ${Math.round((opts.timeoutMs ?? ALERT_TIMEOUT_MS) / 1000)} s`
        : `${peer} could not be reached (${code || 'connection failed'})`,
      { retryable: true },
    );
  }
  if (status >= 200 && status < 300) return { status };
  if (status >= 300 && status < 400)
    throw new AppError(
      'ALERT_REDIRECT',
      `${peer} answered with a redirect (HTTP ${status}), which is not followed; check the URL`,
      {
        retryable: false,
      },
    );
  const retryable = status >= 500 || RETRYABLE_STATUS.has(status);
  const hint =
    status === 401 || status === 403
      ? '; check the token or key'
      : status === 404
        ? '; check the URL (and topic or key)'
        : '';
  throw new AppError(
    retryable ? 'ALERT_RECEIVER_ERROR' : 'ALERT_REJECTED',
    `${peer} answered HTTP ${status}${hint}`,
    { retryable, details: { status } },
  );
}
