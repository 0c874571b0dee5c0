/** File kinds shared by the services that look inside movie folders. */

/** Extensions Kodi and the *arr apps treat as video. */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mkv',
  '.mp4',
  '.avi',
  '.m4v',
  '.mov',
  '.wmv',
  '.ts',
  '.m2ts',
  '.iso',
  '.mpg',
  '.mpeg',
  '.webm',
]);
