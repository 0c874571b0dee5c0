/** The files Metarr wrote into movie folders (`movie_published_files`). */

/** `content_hash` of a write-ahead row whose first write has not been confirmed: no sha256 equals it. */
export const UNCONFIRMED_HASH = '';
