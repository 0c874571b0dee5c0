import { checkArrPath } from '@metarr/core';
import { httpError } from './errors.ts';

/**
 * Checks of request input that no schema can express. Each throws a 400 (or 409) whose message
 * names the field, as the validator's own messages do.
 */

/** A path must be absolute and clean; `posixOnly` paths are on this host (no Windows form). */
export function checkPath(field: string, p: string, opts: { posixOnly?: boolean } = {}): void {
  const problem = checkArrPath(p);
  if (problem) throw httpError(400, `body/${field} ${problem}`);
  if (opts.posixOnly && !p.startsWith('/'))
    throw httpError(400, `body/${field} must be an absolute path on this host`);
}

/** Postgres unique/foreign-key violations are the client's conflict, not a server error. */
export function translateDbError(err: unknown, what: string): never {
  const code = (err as { code?: string }).code;
  if (code === '23505') throw httpError(409, `${what} already exists`);
  if (code === '23503') throw httpError(400, `${what} refers to something that does not exist`);
  throw err;
}
