import WebSocket from 'ws';
import { API_KEY } from './stack.ts';

export interface FeedMessage {
  event: string;
  data: Record<string, any>;
}

export interface FeedClient {
  ws: WebSocket;
  messages: FeedMessage[];
  /** Resolves with the first message (already received or future) matching `pred`. */
  next(pred: (m: FeedMessage) => boolean, timeoutMs?: number, what?: string): Promise<FeedMessage>;
  close(): void;
}

/** A WebSocket client on `{base}/api/ws`; resolves once the server said `feed:ready`. */
export async function openFeed(
  base: string,
  query = '',
  opts: { apiKey?: string; headers?: Record<string, string> } = {},
): Promise<FeedClient> {
  const url = `${base.replace(/^http/, 'ws')}/api/ws?apikey=${encodeURIComponent(opts.apiKey ?? API_KEY)}${query}`;
  const ws = new WebSocket(url, { headers: opts.headers ?? {} });
  const messages: FeedMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (raw) => {
    messages.push(JSON.parse(raw.toString()));
    for (const w of waiters) w();
  });
  const client: FeedClient = {
    ws,
    messages,
    next(pred, timeoutMs = 15_000, what = 'a feed message') {
      return new Promise((resolve, reject) => {
        let from = 0;
        const check = () => {
          for (; from < messages.length; from++) {
            const m = messages[from] as FeedMessage;
            if (pred(m)) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => ws.terminate(),
  };
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('open', () => resolve());
  });
  await client.next((m) => m.event === 'feed:ready', 10_000, 'feed:ready');
  return client;
}

/** Status code of a refused upgrade (or 101 when it was accepted). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}
