import type { Logger } from '@metarr/core';
import type { WebSocket } from 'ws';

/** What a client asked to see; empty sets mean "everything". */
export interface FeedFilter {
  types: Set<string>;
  /** Job ids; a job whose parent is followed is followed too, so a webhook's whole chain shows. */
  jobIds: Set<string>;
}

export interface FeedHubOptions {
  log: Logger;
  /** A client whose unsent bytes pass this is dropped: it stopped reading, we stop buffering. */
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
  /** Followed ids per client, so a `jobId` filter cannot grow without bound. */
  maxFollowedIds?: number;
}

interface Client {
  socket: WebSocket;
  filter: FeedFilter;
  alive: boolean;
}

export interface FeedHub {
  add(socket: WebSocket, filter: FeedFilter): Client;
  setFilter(socket: WebSocket, filter: FeedFilter): void;
  /** Fans one NOTIFY payload out; the text is encoded once for every client. */
  publish(payload: string): void;
  /** Sends a feed-level message (resync, down) to every client regardless of filter. */
  broadcast(message: object): void;
  readonly size: number;
  readonly dropped: number;
  close(): void;
}

export const RESYNC_EVENT = 'feed:resync';

export function createFeedHub(opts: FeedHubOptions): FeedHub {
  const log = opts.log.child({ service: 'JobFeed' });
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const maxFollowed = opts.maxFollowedIds ?? 1000;
  const clients = new Map<WebSocket, Client>();
  let dropped = 0;

  const drop = (c: Client, reason: string) => {
    clients.delete(c.socket);
    dropped++;
    log.warn({ reason, bufferedBytes: c.socket.bufferedAmount }, 'Feed client dropped');
    // terminate, not close: a close frame would queue behind the bytes the client never read.
    c.socket.terminate();
  };

  const send = (c: Client, data: Buffer | string) => {
    if (c.socket.readyState !== 1) return;
    if (c.socket.bufferedAmount > maxBuffered) return drop(c, 'slow consumer');
    c.socket.send(data, { binary: false });
  };

  const pingTimer = setInterval(() => {
    for (const c of clients.values()) {
      if (!c.alive) {
        drop(c, 'no pong');
        continue;
      }
      c.alive = false;
      try {
        c.socket.ping();
      } catch {}
    }
  }, opts.pingIntervalMs ?? 30_000);
  pingTimer.unref();

  return {
    add(socket, filter) {
      const c: Client = { socket, filter, alive: true };
      clients.set(socket, c);
      socket.on('pong', () => {
        c.alive = true;
      });
      socket.on('close', () => clients.delete(socket));
      return c;
    },
    setFilter(socket, filter) {
      const c = clients.get(socket);
      if (c) c.filter = filter;
    },
    publish(payload) {
      if (clients.size === 0) return;
      let evt: { data?: { jobId?: string; type?: string; parentId?: string | null } };
      try {
        evt = JSON.parse(payload);
      } catch {
        return;
      }
      const data = evt.data ?? {};
      const buf = Buffer.from(payload, 'utf8');
      for (const c of clients.values()) {
        const f = c.filter;
        if (f.types.size && !f.types.has(String(data.type))) continue;
        if (f.jobIds.size) {
          const id = String(data.jobId);
          if (!f.jobIds.has(id)) {
            if (!data.parentId || !f.jobIds.has(data.parentId)) continue;
            if (f.jobIds.size < maxFollowed) f.jobIds.add(id);
          }
        }
        send(c, buf);
      }
    },
    broadcast(message) {
      const buf = Buffer.from(JSON.stringify(message), 'utf8');
      for (const c of clients.values()) send(c, buf);
    },
    get size() {
      return clients.size;
    },
    get dropped() {
      return dropped;
    },
    close() {
      clearInterval(pingTimer);
      for (const c of clients.values()) c.socket.close(1001, 'server shutting down');
      clients.clear();
    },
  };
}
