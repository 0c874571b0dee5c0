/**
 * The API's shapes, from core's own types (type-only imports: nothing of core is bundled). Over JSON a
 * Date is an ISO string, which `Wire` says.
 */
import type {
  ARTWORK_TYPES,
  ArtworkCandidate,
  EditableField,
  MovieMetadata,
  MovieRecord,
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
