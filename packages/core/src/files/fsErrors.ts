import { AppError } from '../errors.ts';

/** How long a publish that hit a full disk waits before its retry. */
export const DISK_FULL_RETRY_SECONDS = 15 * 60;
/** How long a full disk is waited out (retries not counted) before the job's own retry limit applies. */
export const DISK_FULL_PATIENCE_SECONDS = 24 * 60 * 60;

/**
 * A file-system failure while writing into `folder`, as an AppError saying what to do: a full disk
 * is retried later, a folder Metarr may not write is a permanent failure (retrying cannot help).
 */
export function publishFsError(err: unknown, folder: string): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new AppError(
      'DISK_FULL',
      `No space left on the disk of ${folder} (${code}): free some space there; publishing is retried every ${DISK_FULL_RETRY_SECONDS / 60} minutes for up to a day`,
      {
        retryable: true,
        cause: err,
        retryAfterSeconds: DISK_FULL_RETRY_SECONDS,
        patienceSeconds: DISK_FULL_PATIENCE_SECONDS,
        details: { folder, errno: code },
      },
    );
  if (code === 'EROFS')
    return new AppError(
      'FOLDER_NOT_WRITABLE',
      `Metarr cannot write to ${folder}: it is on a read-only file system (EROFS); mount it read-write`,
      { retryable: false, cause: err, details: { folder, errno: code } },
    );
  if (code === 'EACCES' || code === 'EPERM')
    return new AppError(
      'FOLDER_NOT_WRITABLE',
      `Metarr cannot write to ${folder} (${code}): check the folder's owner and permissions (PUID/PGID) or mount it read-write`,
      { retryable: false, cause: err, details: { folder, errno: code } },
    );
  return err;
}

/** For a best-effort file operation: ignores its file-system error, never a refusal (UNSAFE_PATH). */
export function unlessAppError(err: unknown): void {
  if (err instanceof AppError) throw err;
}
