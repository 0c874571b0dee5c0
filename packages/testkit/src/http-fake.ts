/**
 * Plumbing shared by the fake media servers: a node:http server on 127.0.0.1 (port 0), failure modes,
 * socket tracking so that `close()` never waits for a hanging request.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * - `ok`: behave like the real server;
 * - `500`: answer 500 to everything;
 * - `hang`: accept the request and never answer;
 * - `reset`: reset the TCP connection (ECONNRESET on the client);
 * - `401`: reject every request as unauthenticated;
 * - `redirect`: answer 302 to the https form of the same URL.
 */
export type FakeMode = 'ok' | '500' | 'hang' | 'reset' | '401' | 'redirect';

export interface FakeServerBase {
  url: string;
  host: string;
  port: number;
  setMode(mode: FakeMode): void;
  readonly mode: FakeMode;
  /** Answers (in `ok` mode) only after this many ms, as a remote or busy server would (benchmarks). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export interface FakeRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: string;
}

export type Headers = Record<string, string | string[] | undefined>;

export function copyHeaders(h: IncomingHttpHeaders): Headers {
  return { ...h };
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Starts a fake. `record` runs for every request (whatever the mode) before the mode applies;
 * `handle` runs only in `ok` mode.
 */
export async function startFake(handlers: {
  record: (r: FakeRequest) => void;
  handle: (r: FakeRequest) => void | Promise<void>;
  realm?: string;
}): Promise<FakeServerBase> {
  let mode: FakeMode = 'ok';
  let latencyMs = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: FakeRequest = {
        req,
        res,
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        body: Buffer.concat(chunks).toString('utf8'),
      };
      handlers.record(r);
      switch (mode) {
        case 'hang':
          return;
        case 'reset':
          req.socket.resetAndDestroy();
          return;
        case '500':
          sendText(res, 500, 'Internal Server Error');
          return;
        case '401':
          res.setHeader('www-authenticate', `Basic realm="${handlers.realm ?? 'fake'}"`);
          sendText(res, 401, 'Unauthorized');
          return;
        case 'redirect':
          res.writeHead(302, { location: `https://127.0.0.1:${port}${req.url ?? '/'}`, 'content-length': 0 });
          res.end();
          return;
        default: {
          const answer = () =>
            Promise.resolve(handlers.handle(r)).catch((err: unknown) => {
              if (!res.headersSent) sendText(res, 500, String(err));
              else res.destroy();
            });
          if (latencyMs > 0) setTimeout(answer, latencyMs);
          else void answer();
        }
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    get mode() {
      return mode;
    },
    setMode(m) {
      mode = m;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
    },
  };
}
