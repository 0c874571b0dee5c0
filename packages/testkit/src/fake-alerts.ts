/**
 * A fake alert receiver on 127.0.0.1: it answers as a Discord webhook (204), ntfy (200 with the
 * message JSON), Apprise API (200) or a generic webhook (200) would, and records every request per
 * path, so a test checks the exact method, headers and body Metarr sent.
 */
import {
  copyHeaders,
  type FakeServerBase,
  type Headers,
  sendJson,
  sendText,
  startFake,
} from './http-fake.ts';

export interface AlertRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read the receiver's JSON as they expect it
  json: any;
}

export interface FakeAlertReceiver extends FakeServerBase {
  /** Every request, in arrival order. */
  readonly requests: AlertRequest[];
  /** The requests to one path (`/api/webhooks/1/abc`, `/metarr`, `/notify/key`). */
  at(path: string): AlertRequest[];
  /** The next `n` requests are answered 500 (after being recorded), then it works again. */
  failNext(n: number): void;
}

export async function startFakeAlertReceiver(): Promise<FakeAlertReceiver> {
  const requests: AlertRequest[] = [];
  let failing = 0;
  const base = await startFake({
    record: ({ req, url, body }) => {
      let json: unknown = null;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {}
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        headers: copyHeaders(req.headers),
        body,
        json,
      });
    },
    handle: ({ req, res, url, body }) => {
      if (failing > 0) {
        failing -= 1;
        return sendText(res, 500, 'receiver failing');
      }
      if (req.method !== 'POST') return sendText(res, 405, 'method not allowed');
      if (url.pathname.startsWith('/api/webhooks/')) {
        // Discord's Execute Webhook without ?wait=true: 204, no body.
        res.writeHead(204);
        res.end();
        return;
      }
      if (url.pathname.startsWith('/notify/')) return sendJson(res, 200, { success: true });
      const title = req.headers['title'];
      return sendJson(res, 200, {
        id: 'fake',
        event: 'message',
        topic: url.pathname.slice(1),
        title,
        message: body,
      });
    },
  });
  return Object.assign(base, {
    requests,
    at: (path: string) => requests.filter((r) => r.path === path),
    failNext: (n: number) => {
      failing = n;
    },
  });
}
