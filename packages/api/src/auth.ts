import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Constant-time comparison; hashing first makes the lengths equal so length leaks nothing. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface AuthConfig {
  apiKey: string;
  webhookUsername?: string | undefined;
  webhookPassword?: string | undefined;
}

function presentedApiKey(req: FastifyRequest): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const q = (req.query as Record<string, unknown> | undefined)?.apikey;
  return typeof q === 'string' && q ? q : undefined;
}

export function hasApiKey(req: FastifyRequest, auth: AuthConfig): boolean {
  const key = presentedApiKey(req);
  return key !== undefined && safeEqual(key, auth.apiKey);
}

/** Webhook routes also take HTTP Basic with the webhook credentials, as the *arr apps can send. */
export function hasWebhookCredentials(req: FastifyRequest, auth: AuthConfig): boolean {
  if (hasApiKey(req, auth)) return true;
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
