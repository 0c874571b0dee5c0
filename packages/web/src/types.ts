/**
 * The API's shapes, from core's own types (type-only imports: nothing of core is bundled). Over JSON a
 * Date is an ISO string, which `Wire` says.
 */
import type {
  ARTWORK_TYPES,
  ArtworkCandidate,
  SeriesDetail as CoreSeriesDetail,
  SeriesListItem as CoreSeriesListItem,
  EditableField,
  EPISODE_LOCKABLE,
  EpisodeFileRecord,
  EpisodeRecord,
  MovieMetadata,
  MovieRecord,
  SERIES_LOCKABLE,
  SeasonRecord,
  SeriesMetadata,
  SeriesSort,
} from '@metarr/core';

export type Wire<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

export type Movie = Wire<MovieRecord>;
export type ArtworkKind = (typeof ARTWORK_TYPES)[number];
export type Candidate = ArtworkCandidate;
export type { EditableField, MovieMetadata };

export interface MovieDetail extends Movie {
  metadata: (Partial<MovieMetadata> & { updatedAt: string }) | null;
  locks: string[];
}

export interface PublishedFile {
  file: string;
  kind: string;
  publishedAt: string;
  sourceUrl: string | null;
  hash: string;
}

export type { IdentifyMatch } from '@metarr/core';

export interface JobSummary {
  id: string;
  type: string;
  state: string;
  error: string | null;
  createdAt: string;
  completedAt: string | null;
}

export type MovieSort = 'title' | 'year' | 'added';

// ---- Series (GET /api/series, GET /api/series/:id) ----
export type SeriesListItem = Wire<CoreSeriesListItem>;
export type Episode = Wire<EpisodeRecord>;
export interface Season extends Omit<SeasonRecord, 'episodes'> {
  episodes: Episode[];
}
export interface SeriesDetail extends Wire<Omit<CoreSeriesDetail, 'metadata' | 'seasons'>> {
  /** What enrichment stored, null before it ran. */
  metadata: Partial<SeriesMetadata> | null;
  seasons: Season[];
  files: EpisodeFileRecord[];
}
export type SeriesLockable = (typeof SERIES_LOCKABLE)[number];
export type EpisodeLockable = (typeof EPISODE_LOCKABLE)[number];
export type { SeriesSort };
