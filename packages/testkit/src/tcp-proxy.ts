import net from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  /** Drops every open connection; new ones are refused (closed port) or blackholed (accepted, never answered). */
  cut(mode?: CutMode): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on 127.0.0.1 for fault tests: put it between a client and a real server (e.g.
 * PostgreSQL) and cut the line the way a crashed database or a dead network does.
 */
export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let mode: CutMode | null = null;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    // Blackholed: the connection is accepted and then nothing ever comes back.
    if (mode === 'blackhole') return;
    const upstream = net.connect(target.port, host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };

  return {
    port,
    rewrite(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut(next = 'refuse') {
      mode = next;
      dropAll();
      // Refused: the port is closed, so connects fail with ECONNREFUSED at once.
      if (next === 'refuse' && server.listening) await closeServer();
      if (next === 'blackhole' && !server.listening) await listen(port);
    },
    async restore() {
      mode = null;
      dropAll();
      if (!server.listening) await listen(port);
    },
    async close() {
      mode = 'refuse';
      dropAll();
      if (server.listening) await closeServer();
    },
  };
}
