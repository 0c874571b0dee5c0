/** A handler's result, stored as the job's output: what it did, or why it skipped. */
export type JobOutput = Record<string, unknown>;

/** The output a failed attempt stores (the worker writes it; the job list and detail read it). */
export interface JobFailureOutput {
  error: string;
  code: string;
  retryable?: boolean;
}

/** The attempt no longer held its lease: a newer attempt owns the job. */
export const LEASE_LOST = 'LEASE_LOST';

/** The error a failed attempt stored (the worker's `JobFailureOutput`, or pg-boss's own shapes). */
export function jobErrorOf(output: unknown): string | null {
  if (!output || typeof output !== 'object') return null;
  const o = output as { error?: unknown; message?: unknown; value?: { message?: unknown } };
  if (typeof o.error === 'string') return o.error;
  if (typeof o.message === 'string') return o.message;
  if (typeof o.value?.message === 'string') return o.value.message;
  return null;
}
