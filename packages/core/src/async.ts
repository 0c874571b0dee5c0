/** Small async helpers shared by every package: one backoff formula, one concurrency pool. */

export interface BackoffOptions {
  /** The delay of attempt 0; each attempt doubles it. */
  baseMs: number;
  /** The doubling stops here. */
  maxMs?: number;
  /**
   * `none`: the delay itself; `full`: anywhere in [0, delay]; `equal`: in [delay/2, delay]. Jitter
   * keeps clients that failed together from coming back together.
   */
  jitter?: 'none' | 'full' | 'equal';
  random?: () => number;
}

/** Capped exponential backoff: `min(maxMs, baseMs · 2^attempt)`, jittered as asked. */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const delay = Math.min(o.maxMs ?? Number.POSITIVE_INFINITY, o.baseMs * 2 ** attempt);
  const r = (o.random ?? Math.random)();
  switch (o.jitter ?? 'none') {
    case 'none':
      return delay;
    case 'full':
      return Math.round(r * delay);
    case 'equal':
      return Math.round(delay / 2 + (r * delay) / 2);
  }
}

/**
 * `fn` over `items` with at most `limit` calls in flight; results in input order. The first
 * rejection rejects the whole (calls already started still run to their end).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/**
 * A concurrency gate: `limit(fn)` runs `fn` when fewer than `n` gated calls are in flight, in the
 * order they were asked for.
 */
export function limiter(n: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return <R>(fn: () => Promise<R>) =>
    new Promise<R>((resolve, reject) => {
      const start = () => {
        active++;
        fn().then(resolve, reject).finally(release);
      };
      if (active < n) start();
      else waiting.push(start);
    });
}
