/**
 * Every failure a service reports carries a stable code and whether trying again can help.
 * The worker runtime turns `retryable: false` into a dead-letter without burning retries.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  /**
   * For a retryable error: the least time worth waiting before the next attempt (a full disk does
   * not empty in seconds). The worker runtime schedules the retry no sooner than this.
   */
  readonly retryAfterSeconds: number | undefined;
  /**
   * For a retryable error that waits on the user (a full disk): for this long after the job was
   * created, an attempt failing with it does not use up one of the job's retries, so a disk that
   * stays full overnight does not dead-letter the job after its usual few attempts.
   */
  readonly patienceSeconds: number | undefined;

  constructor(
    code: string,
    message: string,
    opts: {
      retryable: boolean;
      cause?: unknown;
      details?: Record<string, unknown>;
      retryAfterSeconds?: number;
      patienceSeconds?: number;
    },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = opts.retryable;
    this.details = opts.details;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.patienceSeconds = opts.patienceSeconds;
  }
}

export const permanent = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, message, { retryable: false, details });

export const retryable = (code: string, message: string, cause?: unknown) =>
  new AppError(code, message, { retryable: true, cause });

/**
 * Errors without an AppError that trying again cannot fix: a name too long for the file system,
 * and text PostgreSQL refuses (a NUL or bad Unicode escape 22P05, an invalid byte sequence 22021).
 */
const PERMANENT_CODES = new Set(['ENAMETOOLONG', '22P05', '22021']);

export function isRetryable(err: unknown): boolean {
  if (err instanceof AppError) return err.retryable;
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && PERMANENT_CODES.has(code));
}

/** A message safe to store on a job or show to a client: no stack, no cause chain. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function errorCode(err: unknown): string {
  if (err instanceof AppError) return err.code;
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return 'INTERNAL';
}
