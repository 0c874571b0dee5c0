import { backoffDelay, JOB_EVENTS_CHANNEL, type Logger } from '@metarr/core';
import pg from 'pg';

export interface ListenerOptions {
  url: string;
  log: Logger;
  /** Set on the connection so an operator (or a test) can find it in pg_stat_activity. */
  applicationName: string;
  /** Raw NOTIFY payload, as published by `publishJobEvent`. */
  onPayload(payload: string): void;
  /** Called once LISTEN is back after the connection dropped: events in between were missed. */
  onResync(gapMs: number): void;
  /** Called when the connection drops (clients may show "reconnecting"). */
  onDown?(): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often an idle connection is probed, so a half-open TCP connection is noticed. */
  probeIntervalMs?: number;
}

export interface JobEventListener {
  readonly listening: boolean;
  close(): Promise<void>;
}

/**
 * One dedicated connection per API process, outside the pool: a pooled client would be handed back
 * and its LISTEN lost. When it drops it reconnects with capped exponential backoff, re-LISTENs and
 * tells the feed to resync (NOTIFYs sent while nobody listened are gone for good).
 */
export function startJobEventListener(opts: ListenerOptions): JobEventListener {
  const log = opts.log.child({ service: 'JobFeed' });
  const minBackoff = opts.minBackoffMs ?? 100;
  const maxBackoff = opts.maxBackoffMs ?? 5000;
  let client: pg.Client | null = null;
  let listening = false;
  let closed = false;
  let attempt = 0;
  let downSince: number | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let probeTimer: NodeJS.Timeout | null = null;
  let everConnected = false;

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    const delay = backoffDelay(attempt, { baseMs: minBackoff, maxMs: maxBackoff, jitter: 'equal' });
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void connect();
    }, delay);
  };

  const onLost = (c: pg.Client, reason: string) => {
    if (client !== c) return;
    client = null;
    if (probeTimer) clearInterval(probeTimer);
    probeTimer = null;
    c.removeAllListeners('notification');
    c.end().catch(() => {});
    if (closed) return;
    if (listening) {
      listening = false;
      downSince = Date.now();
      log.warn({ reason }, 'Job event LISTEN connection lost; reconnecting');
      opts.onDown?.();
    }
    scheduleReconnect();
  };

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({
      connectionString: opts.url,
      application_name: opts.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: 3000,
    });
    client = c;
    // Without an error listener a terminated backend would crash the process.
    c.on('error', (err) => onLost(c, err.message));
    c.on('end', () => onLost(c, 'connection ended'));
    c.on('notification', (msg) => {
      if (msg.channel === JOB_EVENTS_CHANNEL && msg.payload) opts.onPayload(msg.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    } catch (err) {
      if (client === c) {
        if (attempt === 0 || attempt % 10 === 0)
          log.warn(
            { err: { message: (err as Error).message }, attempt },
            'Job event LISTEN failed; retrying',
          );
        onLost(c, (err as Error).message);
        if (!retryTimer) scheduleReconnect();
      }
      return;
    }
    if (client !== c || closed) return;
    listening = true;
    attempt = 0;
    probeTimer = setInterval(() => {
      c.query('select 1').catch((err: Error) => onLost(c, err.message));
    }, opts.probeIntervalMs ?? 15_000);
    probeTimer.unref();
    if (everConnected) {
      const gapMs = downSince ? Date.now() - downSince : 0;
      downSince = null;
      log.info({ gapMs }, 'Job event LISTEN restored; telling clients to resync');
      opts.onResync(gapMs);
    } else {
      log.info({}, 'Listening for job events');
    }
    everConnected = true;
  };

  void connect();

  return {
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (probeTimer) clearInterval(probeTimer);
      const c = client;
      client = null;
      listening = false;
      if (c) await c.end().catch(() => {});
    },
  };
}
