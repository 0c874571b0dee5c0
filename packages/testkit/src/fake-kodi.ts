/**
 * A fake Kodi speaking JSON-RPC 2.0 over HTTP (`POST /jsonrpc`), with the request/response shapes and
 * error codes of the real one (xbmc/interfaces/json-rpc/schema/methods.json).
 */
import {
  copyHeaders,
  type FakeServerBase,
  type Headers,
  header,
  sendJson,
  sendText,
  startFake,
} from './http-fake.ts';

export interface FakeKodiOptions {
  /** When set, every request must carry Basic auth with these credentials. */
  username?: string;
  password?: string;
  version?: { major: number; minor: number; patch: number };
}

export interface FakeKodiCall {
  /** The JSON-RPC method ('' when the body was not a valid request). */
  method: string;
  params: unknown;
  id: unknown;
  /** The raw request body (shared by every call of a batch). */
  body: string;
  headers: Headers;
  at: number;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface FakeKodi extends FakeServerBase {
  calls: FakeKodiCall[];
  /** `true` plays a video; `'audio'` plays music. */
  setPlaying(playing: boolean | 'audio'): void;
  /** Makes every method answer with this JSON-RPC error (null: back to normal). */
  setRpcError(error: RpcErrorObject | null): void;
}

/** Parameter names (in positional order) each supported method accepts. */
const METHODS: Record<
  string,
  { params: Record<string, 'string' | 'boolean'>; result: (k: KodiState) => unknown }
> = {
  'JSONRPC.Ping': { params: {}, result: () => 'pong' },
  'JSONRPC.Version': { params: {}, result: (k) => ({ version: k.version }) },
  'VideoLibrary.Scan': { params: { directory: 'string', showdialogs: 'boolean' }, result: () => 'OK' },
  'VideoLibrary.Clean': {
    params: { showdialogs: 'boolean', content: 'string', directory: 'string' },
    result: () => 'OK',
  },
  'AudioLibrary.Scan': { params: { directory: 'string', showdialogs: 'boolean' }, result: () => 'OK' },
  'AudioLibrary.Clean': { params: { showdialogs: 'boolean' }, result: () => 'OK' },
  'Player.GetActivePlayers': {
    params: {},
    result: (k) =>
      k.playing === 'audio'
        ? [{ playerid: 0, type: 'audio', playertype: 'internal' }]
        : k.playing
          ? [{ playerid: 1, type: 'video', playertype: 'internal' }]
          : [],
  },
};

interface KodiState {
  version: { major: number; minor: number; patch: number };
  playing: boolean | 'audio';
  rpcError: RpcErrorObject | null;
}

type RpcResponse =
  | { jsonrpc: '2.0'; id: unknown; result: unknown }
  | { jsonrpc: '2.0'; id: unknown; error: RpcErrorObject };

function rpcError(id: unknown, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

function checkParams(
  method: string,
  spec: Record<string, 'string' | 'boolean'>,
  params: unknown,
): string | null {
  if (params === undefined || params === null) return null;
  let named: Record<string, unknown>;
  if (Array.isArray(params)) {
    const names = Object.keys(spec);
    if (params.length > names.length) return `Too many parameters for ${method}`;
    named = Object.fromEntries(params.map((v, i) => [names[i], v]));
  } else if (typeof params === 'object') {
    named = params as Record<string, unknown>;
  } else {
    return 'Invalid type for params';
  }
  for (const [k, v] of Object.entries(named)) {
    const type = spec[k];
    if (!type) return `Unknown parameter "${k}"`;
    if (typeof v !== type) return `Invalid type ${typeof v} received for "${k}"`;
  }
  return null;
}

export async function startFakeKodi(opts: FakeKodiOptions = {}): Promise<FakeKodi> {
  const calls: FakeKodiCall[] = [];
  const state: KodiState = {
    version: opts.version ?? { major: 21, minor: 1, patch: 0 },
    playing: false,
    rpcError: null,
  };
  const expectedAuth = opts.username
    ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
    : null;

  function parse(body: string): unknown {
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  }

  function answer(msg: unknown): RpcResponse | null {
    if (!msg || typeof msg !== 'object' || Array.isArray(msg))
      return rpcError(null, -32600, 'Invalid request.');
    const req = msg as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const isNotification = !('id' in req);
    const id = req.id ?? null;
    if (req.jsonrpc !== '2.0' || typeof req.method !== 'string')
      return rpcError(id, -32600, 'Invalid request.');
    const spec = METHODS[req.method];
    let res: RpcResponse;
    if (!spec) res = rpcError(id, -32601, 'Method not found.');
    else if (state.rpcError) res = { jsonrpc: '2.0', id, error: state.rpcError };
    else {
      const problem = checkParams(req.method, spec.params, req.params);
      res = problem
        ? rpcError(id, -32602, 'Invalid params.', {
            method: req.method,
            stack: { message: problem, name: 'params' },
          })
        : { jsonrpc: '2.0', id, result: spec.result(state) };
    }
    return isNotification ? null : res;
  }

  const base = await startFake({
    realm: 'Kodi',
    record({ req, body }) {
      const parsed = parse(body);
      const list = Array.isArray(parsed) ? parsed : [parsed];
      for (const m of list) {
        const msg = (m && typeof m === 'object' ? m : {}) as {
          method?: unknown;
          params?: unknown;
          id?: unknown;
        };
        calls.push({
          method: typeof msg.method === 'string' ? msg.method : '',
          params: msg.params,
          id: msg.id,
          body,
          headers: copyHeaders(req.headers),
          at: Date.now(),
        });
      }
    },
    handle({ req, res, url, body }) {
      if (url.pathname !== '/jsonrpc') return sendText(res, 404, 'Not Found');
      if (expectedAuth && header(req, 'authorization') !== expectedAuth) {
        res.setHeader('www-authenticate', 'Basic realm="Kodi"');
        return sendText(res, 401, 'Unauthorized');
      }
      if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
      if (!(header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) {
        return sendText(res, 415, 'Unsupported Media Type');
      }
      const parsed = parse(body);
      if (parsed === undefined) return sendJson(res, 200, rpcError(null, -32700, 'Parse error.'));
      if (Array.isArray(parsed)) {
        const out = parsed.map(answer).filter((r) => r !== null);
        if (out.length === 0) {
          res.writeHead(204).end();
          return;
        }
        return sendJson(res, 200, out);
      }
      const out = answer(parsed);
      if (out === null) {
        res.writeHead(204).end();
        return;
      }
      sendJson(res, 200, out);
    },
  });

  return Object.assign(base, {
    calls,
    setPlaying(playing: boolean | 'audio') {
      state.playing = playing;
    },
    setRpcError(error: RpcErrorObject | null) {
      state.rpcError = error;
    },
  }) as FakeKodi;
}
