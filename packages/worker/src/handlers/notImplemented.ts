import type { JobName } from '@metarr/core';
import type { JobHandler } from '../context.ts';

/**
 * Job types whose real work belongs to a later issue. They complete honestly as skipped — the
 * output says so — and enqueue nothing, so nothing pretends to have happened.
 */
export function notImplemented<N extends JobName>(name: N): JobHandler<N> {
  return async (ctx) => {
    ctx.log.warn({ service: 'JobHandler', reason: `${name} is not implemented yet` }, 'Job skipped');
    return { skipped: 'not implemented yet' };
  };
}
