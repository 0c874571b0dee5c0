/**
 * Artwork downloads: only from the configured provider image hosts, never following a redirect
 * (a 3xx could point anywhere), bounded in bytes and pixels, and typed by magic bytes rather than by
 * the URL or Content-Type.
 */
import { type Dispatcher, request } from 'undici';
import { AppError } from '../errors.ts';

export type ImageType = 'jpeg' | 'png';

export interface ImageInfo {
  type: ImageType;
  width: number;
  height: number;
}

export interface DownloadedImage extends ImageInfo {
  bytes: Buffer;
}

export interface ImageDownloadPolicy {
  /** Host names (with port when not default) a download may come from. */
  allowedHosts: string[];
  maxBytes: number;
  maxPixels: number;
  timeoutMs?: number;
}

export const DEFAULT_IMAGE_POLICY = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };

/** Reads type and size from the header bytes; null when it is neither PNG nor baseline/progressive JPEG. */
export function sniffImage(b: Buffer): ImageInfo | null {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) {
    if (b.toString('latin1', 12, 16) !== 'IHDR') return null;
    return { type: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1] as number;
      if (marker === 0xff) {
        i++;
        continue;
      }
      const len = b.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: 'jpeg', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      }
      if (marker === 0xda) return null;
      i += 2 + len;
    }
  }
  return null;
}

export function imageExtension(type: ImageType): string {
  return type === 'png' ? 'png' : 'jpg';
}

function fail(code: string, message: string, retryable: boolean, cause?: unknown): AppError {
  return new AppError(code, message, { retryable, ...(cause !== undefined && { cause }) });
}

export async function downloadImage(
  rawUrl: string,
  policy: ImageDownloadPolicy,
  opts: { signal?: AbortSignal; dispatcher?: Dispatcher } = {},
): Promise<DownloadedImage> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw fail('IMAGE_BAD_URL', 'an artwork URL is not a valid URL', false);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !policy.allowedHosts.includes(url.host)) {
    throw fail(
      'IMAGE_HOST_NOT_ALLOWED',
      `artwork host ${url.host} is not a configured provider image host`,
      false,
    );
  }
  const timeout = AbortSignal.timeout(policy.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      headers: { 'user-agent': 'Metarr' },
      signal,
      // undici's request() follows no redirect unless told to; a 3xx is rejected below.
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    });
  } catch (cause) {
    throw fail('IMAGE_NETWORK', `artwork download from ${url.host} failed`, true, cause);
  }
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    const s = res.statusCode;
    if (s >= 300 && s < 400)
      throw fail('IMAGE_REDIRECT', `artwork host ${url.host} redirected (HTTP ${s}); not followed`, false);
    throw fail(
      'IMAGE_HTTP_ERROR',
      `artwork download from ${url.host} answered HTTP ${s}`,
      s >= 500 || s === 429,
    );
  }
  const declared = Number(res.headers['content-length'] ?? 0);
  if (declared > policy.maxBytes) {
    res.body.on('error', () => {});
    res.body.destroy();
    throw fail('IMAGE_TOO_LARGE', `artwork from ${url.host} is larger than ${policy.maxBytes} bytes`, false);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > policy.maxBytes) {
        res.body.on('error', () => {});
        res.body.destroy();
        throw fail(
          'IMAGE_TOO_LARGE',
          `artwork from ${url.host} is larger than ${policy.maxBytes} bytes`,
          false,
        );
      }
      chunks.push(chunk as Buffer);
    }
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw fail('IMAGE_NETWORK', `artwork download from ${url.host} was cut off`, true, cause);
  }
  const bytes = Buffer.concat(chunks);
  const info = sniffImage(bytes);
  if (!info) throw fail('IMAGE_BAD_TYPE', `artwork from ${url.host} is not a PNG or JPEG image`, false);
  if (info.width < 1 || info.height < 1 || info.width * info.height > policy.maxPixels) {
    throw fail(
      'IMAGE_TOO_LARGE',
      `artwork from ${url.host} is ${info.width}×${info.height}, over the pixel cap`,
      false,
    );
  }
  return { ...info, bytes };
}
