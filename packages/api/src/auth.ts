import { createHash, timingSafeEqual } from 'node:crypto';
import { apiKeyMatchesHash, type Db, readApiKeyHash } from '@metarr/core';
import type { FastifyRequest } from 'fastify';

/** Constant-time comparison; hashing first makes the lengths equal so length leaks nothing. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface AuthConfig {
  /** A key fixed by `METARR_API_KEY`. Unset: the key is the one whose hash the database stores. */
  apiKey?: string | undefined;
  webhookUsername?: string | undefined;
  webhookPassword?: string | undefined;
}

function presentedApiKey(req: FastifyRequest, bearer: boolean): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  // Prometheus' `authorization` (and most HTTP tools) send the key as a bearer token. Not on webhook
  // routes: there `Authorization` is the *arr's HTTP Basic, and anything else is refused.
  const authz = req.headers.authorization;
  if (bearer && authz?.startsWith('Bearer ')) {
    const token = authz.slice(7).trim();
    if (token) return token;
  }
  const q = (req.query as Record<string, unknown> | undefined)?.apikey;
  return typeof q === 'string' && q ? q : undefined;
}

/** How long a request waits for the stored hash before the last one read is used instead. */
const HASH_READ_WAIT_MS = 1500;

/**
 * Checks presented keys. A stored key is read from the database for every check (concurrent checks
 * share one read), so a rotation on any replica takes effect on all of them at once and no process
 * holds state another needs. When the database does not answer, the last hash read is used: a
 * rotation cannot have committed without the database either.
 */
export function createKeyCheck(db: Db, auth: AuthConfig) {
  let lastHash: string | null = null;
  let inflight: Promise<string | null> | null = null;

  const readHash = (): Promise<string | null> => {
    inflight ??= readApiKeyHash(db)
      .then((h) => {
        lastHash = h;
        return h;
      })
      .finally(() => {
        inflight = null;
      });
    const read = inflight;
    if (lastHash === null) return read;
    let timer: NodeJS.Timeout | undefined;
    const fallback = new Promise<string | null>((resolve) => {
      timer = setTimeout(() => resolve(lastHash), HASH_READ_WAIT_MS);
    });
    return Promise.race([read.catch(() => lastHash), fallback]).finally(() => clearTimeout(timer));
  };

  const keyOk = async (req: FastifyRequest, bearer: boolean): Promise<boolean> => {
    const key = presentedApiKey(req, bearer);
    if (key === undefined) return false;
    if (auth.apiKey) return safeEqual(key, auth.apiKey);
    const hash = await readHash();
    return hash !== null && apiKeyMatchesHash(key, hash);
  };

  /** API routes: `X-Api-Key`, `?apikey=` or `Authorization: Bearer`. */
  const apiKeyOk = (req: FastifyRequest) => keyOk(req, true);

  /** Webhook routes also take HTTP Basic with the webhook credentials, as the *arr apps can send. */
  const webhookOk = async (req: FastifyRequest): Promise<boolean> => {
    if (basicOk(req, auth)) return true;
    return keyOk(req, false);
  };

  return { apiKeyOk, webhookOk };
}

function basicOk(req: FastifyRequest, auth: AuthConfig): boolean {
  if (!auth.webhookUsername || !auth.webhookPassword) return false;
  const h = req.headers.authorization;
  if (!h?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const idx = decoded.indexOf(':');
  if (idx < 0) return false;
  const userOk = safeEqual(decoded.slice(0, idx), auth.webhookUsername);
  const passOk = safeEqual(decoded.slice(idx + 1), auth.webhookPassword);
  return userOk && passOk;
}
