import net from 'node:net';
import type { Logger } from '@metarr/core';

/**
 * Slows down key guessing: after `maxFailures` failed authentications from one client address within
 * `windowMs`, that address gets 429 until the window ends, whatever it presents (otherwise the
 * 429 itself would tell a right guess from a wrong one). Failures are logged as one line per address
 * when its window closes, plus the first one at once, never one line per request.
 *
 * Counting is per API process: with N replicas an address gets N × `maxFailures` tries per window.
 */
export interface AuthLimit {
  maxFailures: number;
  windowMs: number;
}

export const AUTH_LIMIT: AuthLimit = { maxFailures: 10, windowMs: 60_000 };

/** Bound on tracked addresses, so a flood from many addresses cannot grow memory without limit. */
const MAX_TRACKED = 50_000;

/** IPv4 (also IPv4-mapped IPv6) as is; IPv6 by its /64, the block one subscriber usually holds. */
export function clientGroup(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (net.isIPv6(ip)) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const tl = tail ? tail.split(':') : [];
    const full = ip.includes('::') ? [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl] : h;
    return `${full
      .slice(0, 4)
      .map((x) => Number.parseInt(x || '0', 16).toString(16))
      .join(':')}::/64`;
  }
  return ip;
}

interface Entry {
  start: number;
  failures: number;
  /** Failures after the first, not yet logged. */
  unlogged: number;
  last: { method: string; url: string };
}

export function createAuthLimiter(log: Logger, limit: AuthLimit = AUTH_LIMIT, now = () => Date.now()) {
  const entries = new Map<string, Entry>();

  const flush = (group: string, e: Entry) => {
    if (e.unlogged > 0)
      log.warn(
        { service: 'Api', ip: group, failures: e.failures, windowSeconds: limit.windowMs / 1000, ...e.last },
        'Unauthorized requests',
      );
    e.unlogged = 0;
  };
  const sweep = () => {
    const t = now();
    for (const [group, e] of entries) {
      if (t - e.start < limit.windowMs) continue;
      flush(group, e);
      entries.delete(group);
    }
  };
  const timer = setInterval(sweep, Math.max(250, Math.min(limit.windowMs, 10_000)));
  timer.unref();

  const current = (group: string): Entry | undefined => {
    const e = entries.get(group);
    if (e && now() - e.start >= limit.windowMs) {
      flush(group, e);
      entries.delete(group);
      return undefined;
    }
    return e;
  };

  return {
    /** Seconds until the address may try again, or 0 when it is not blocked. */
    blockedFor(ip: string): number {
      const e = current(clientGroup(ip));
      if (!e || e.failures < limit.maxFailures) return 0;
      return Math.max(1, Math.ceil((e.start + limit.windowMs - now()) / 1000));
    },
    failed(ip: string, method: string, url: string): void {
      const group = clientGroup(ip);
      let e = current(group);
      if (!e) {
        if (entries.size >= MAX_TRACKED) sweep();
        e = { start: now(), failures: 0, unlogged: 0, last: { method, url } };
        if (entries.size < MAX_TRACKED) entries.set(group, e);
        // The first failure of a window is logged at once: a single wrong key is seen without delay.
        log.warn({ service: 'Api', method, url, ip }, 'Unauthorized request');
      } else {
        e.unlogged++;
      }
      e.failures++;
      e.last = { method, url };
    },
    close(): void {
      clearInterval(timer);
      for (const [group, e] of entries) flush(group, e);
      entries.clear();
    },
  };
}
