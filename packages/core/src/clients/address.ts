import dns from 'node:dns/promises';
import net from 'node:net';
import { AppError } from '../errors.ts';

/**
 * Addresses no media player has: link-local (169.254.0.0/16 holds the cloud metadata service, which
 * hands out credentials to whoever asks), fe80::/10, "this network" 0.0.0.0/8 and the unspecified
 * `::` (both reach the local host). A player configured there is an attempt to make Metarr fetch
 * them, so it is refused at configuration and again at every call (a name may resolve there later).
 */

function v4Forbidden(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 0 || (a === 169 && b === 254);
}

/** The eight 16-bit groups of an IPv6 address (`::`, embedded IPv4 tails and all). */
function v6Groups(ip: string): number[] | null {
  let s = ip.toLowerCase();
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)?.[1];
  if (tail) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    s = `${s.slice(0, -tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  if (groups.length !== 8) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

/** Whether an IP address literal (v4 or v6, any embedding of v4 in v6) is one no player may have. */
export function isForbiddenPlayerIp(ip: string): boolean {
  if (net.isIPv4(ip)) return v4Forbidden(ip);
  if (!net.isIPv6(ip.split('%')[0] ?? '')) return false;
  const g = v6Groups(ip);
  if (!g) return false;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (g.every((x) => x === 0)) return true; // ::
  if ((g0 & 0xffc0) === 0xfe80) return true; // fe80::/10
  const v4 = `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  const zeroHead = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  // IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d (not ::1 and its like: those are IPv6
  // loopback-style addresses), IPv4-translated ::ffff:0:a.b.c.d.
  if (zeroHead && g4 === 0 && g5 === 0xffff) return v4Forbidden(v4);
  if (zeroHead && g4 === 0 && g5 === 0 && g6 !== 0) return v4Forbidden(v4);
  if (zeroHead && g4 === 0xffff && g5 === 0) return v4Forbidden(v4);
  // NAT64 64:ff9b::/96 reaches the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4Forbidden(v4);
  return false;
}

/**
 * The host of a base URL as a connection will use it. The URL parser is what the HTTP client uses,
 * so `2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376` and `169.254.43518` all come out as
 * `169.254.169.254` here exactly as they would on the wire.
 */
export function urlHost(baseUrl: string): string | null {
  try {
    const h = new URL(baseUrl).hostname;
    return h.startsWith('[') ? h.slice(1, -1) : h;
  } catch {
    return null;
  }
}

export function forbiddenAddressError(name: string): AppError {
  return new AppError(
    'PLAYER_FORBIDDEN_ADDRESS',
    `player ${name} points at a link-local, metadata or unspecified address, which is never a media player`,
    { retryable: false },
  );
}

/**
 * At call time: refuses a forbidden literal, and a host name that resolves to a forbidden address.
 * A name that does not resolve is left to the connection attempt (it reports it as unreachable).
 */
export async function assertPlayerHostAllowed(name: string, baseUrl: string): Promise<void> {
  const host = urlHost(baseUrl);
  if (host === null) return;
  if (net.isIP(host)) {
    if (isForbiddenPlayerIp(host)) throw forbiddenAddressError(name);
    return;
  }
  const found = await dns.lookup(host, { all: true, verbatim: true }).catch(() => []);
  if (found.some((a) => isForbiddenPlayerIp(a.address))) throw forbiddenAddressError(name);
}

/** For configuration: whether a player host (a name, an address or a URL) may be saved. */
export async function playerHostAllowed(host: string): Promise<boolean> {
  const raw = host.trim().replace(/\/+$/, '');
  // As the clients build their base URL: a bare IPv6 address gets its brackets.
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)
    ? raw
    : `http://${raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw}`;
  return assertPlayerHostAllowed('', url).then(
    () => true,
    () => false,
  );
}
