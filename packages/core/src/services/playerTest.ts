/**
 * Player connection test — reachability, version and credentials of one player, as a status and a
 * sentence for the admin. The sentence is Metarr's own: the remote's error text is never echoed, so
 * the test cannot be used to read what some other server on the network answers.
 */
import { createJellyfinClient } from '../clients/jellyfin.ts';
import { type ClientOptions, createKodiClient } from '../clients/kodi.ts';
import { createPlexClient } from '../clients/plex.ts';
import { errorCode } from '../errors.ts';
import type { PlayerConn } from '../records/players.ts';

/** What a test needs of a player: the same connection a notification uses. */
export type TestedPlayer = PlayerConn;

/**
 * `ok`: reachable and the credentials work; `auth_failed`: reachable, credentials missing or
 * refused; `unreachable`: no answer; `refused`: an address no player may have; `error`: it answered,
 * but not as a media server does.
 */
export type PlayerTestStatus = 'ok' | 'auth_failed' | 'unreachable' | 'refused' | 'error';

export interface PlayerTestResult {
  status: PlayerTestStatus;
  reachable: boolean;
  version: string | null;
  authOk: boolean;
  message: string;
}

function where(player: PlayerConn): string {
  return `${player.useTls ? 'https' : 'http'}://${player.host}:${player.port}`;
}

/** A sentence for a failed step: what went wrong and what to check. Never contains a secret. */
function explain(
  player: PlayerConn,
  err: unknown,
): { status: PlayerTestStatus; reachable: boolean; message: string } {
  const code = errorCode(err);
  const at = `${player.name} (${where(player)})`;
  switch (code) {
    case 'PLAYER_AUTH':
      return {
        status: 'auth_failed',
        reachable: true,
        message: `${at} rejected the credentials; check the ${player.type === 'kodi' ? 'username and password' : 'API key'} of player ${player.name}.`,
      };
    case 'PLAYER_UNREACHABLE':
      return {
        status: 'unreachable',
        reachable: false,
        message: `${at} refused or did not accept the connection; check the host and port and that the server is running.`,
      };
    case 'PLAYER_TIMEOUT':
      return {
        status: 'unreachable',
        reachable: false,
        message: `${at} did not answer within 10 seconds; check the host, port and firewall.`,
      };
    case 'PLAYER_CONNECTION_RESET':
      return {
        status: 'unreachable',
        reachable: false,
        message: `${at} closed the connection; check the port and the TLS setting.`,
      };
    case 'PLAYER_TLS':
      return {
        status: 'unreachable',
        reachable: false,
        message: `${at}: the TLS handshake failed; check the TLS setting and the certificate.`,
      };
    case 'PLAYER_REDIRECT':
      return {
        status: 'error',
        reachable: true,
        message: `${at} answered with a redirect, which Metarr does not follow; check the port and the TLS setting.`,
      };
    case 'PLAYER_BAD_URL':
      return {
        status: 'error',
        reachable: false,
        message: `${player.name} has an invalid address; check the host.`,
      };
    case 'PLAYER_FORBIDDEN_ADDRESS':
      return {
        status: 'refused',
        reachable: false,
        message: `${player.name} points at a link-local, metadata or unspecified address, which is never a media player; check the host.`,
      };
    case 'PLAYER_SERVER_ERROR':
      return {
        status: 'error',
        reachable: true,
        message: `${at} failed with a server error; check the server's own log.`,
      };
    default:
      return {
        status: 'error',
        reachable: true,
        message: `${at} answered, but not as a ${player.type} server does; check the type, host and port.`,
      };
  }
}

/**
 * Reachability, version and credentials of one player: Kodi `JSONRPC.Version` (which needs the
 * credentials), Jellyfin/Emby `/System/Info/Public` then `/System/Info`, Plex `/identity` then
 * `/library/sections`.
 */
export async function testPlayer(
  player: PlayerConn,
  opts: ClientOptions & { signal?: AbortSignal } = {},
): Promise<PlayerTestResult> {
  const signal = opts.signal;
  const clientOpts: ClientOptions = {
    ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
    ...(opts.dispatcher !== undefined && { dispatcher: opts.dispatcher }),
  };
  const fail = (err: unknown, version: string | null): PlayerTestResult => {
    const e = explain(player, err);
    return { status: e.status, reachable: e.reachable, version, authOk: false, message: e.message };
  };
  if (player.type === 'kodi') {
    const kodi = createKodiClient(player, clientOpts);
    try {
      const v = await kodi.version(signal);
      const version = `${v.major}.${v.minor}.${v.patch}`;
      return {
        status: 'ok',
        reachable: true,
        version,
        authOk: true,
        message: `Connected to Kodi (JSON-RPC ${version}).`,
      };
    } catch (err) {
      return fail(err, null);
    }
  }
  // The version endpoints are public: probe with whatever key is set, then prove the key.
  const conn = { ...player, apiKey: player.apiKey || 'unset' };
  // Both probe a public version endpoint first (reachable?), then an authenticated one (key right?).
  const probe = async (
    product: string,
    keyName: string,
    publicVersion: () => Promise<string>,
    authCheck: () => Promise<unknown>,
  ) => {
    let version: string;
    try {
      version = await publicVersion();
    } catch (err) {
      return fail(err, null);
    }
    if (!player.apiKey)
      return {
        status: 'auth_failed' as const,
        reachable: true,
        version,
        authOk: false,
        message: `No ${keyName} is set for player ${player.name}.`,
      };
    try {
      await authCheck();
      return {
        status: 'ok' as const,
        reachable: true,
        version,
        authOk: true,
        message: `Connected to ${product} ${version}.`,
      };
    } catch (err) {
      return fail(err, version);
    }
  };
  if (player.type === 'plex') {
    const plex = createPlexClient(conn, clientOpts);
    return probe(
      'Plex Media Server',
      'Plex token',
      async () => (await plex.identity(signal)).version,
      () => plex.sections(signal),
    );
  }
  const jf = createJellyfinClient(conn, player.type, clientOpts);
  return probe(
    player.type === 'emby' ? 'Emby' : 'Jellyfin',
    'API key',
    async () => (await jf.publicInfo(signal)).version,
    () => jf.systemInfo(signal),
  );
}
