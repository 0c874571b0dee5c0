import Type, { type Static } from 'typebox';
import {
  compact,
  defineEvent,
  envelope,
  FileRef,
  fileToken,
  fileTokens,
  Int,
  label,
  Opt,
  positiveId,
  Str,
} from './common.ts';
import type { AppEvents, EventIdentity, PathUse, WebhookAction } from './types.ts';

/**
 * Radarr (`src/NzbDrone.Core/Notifications/Webhook`): every movie event carries `movie`
 * (WebhookMovie: id, title, year, folderPath, tmdbId, imdbId, …). We act on `movie.folderPath`.
 */
const Movie = Type.Object({
  id: Opt(Int),
  title: Opt(Str),
  year: Opt(Int),
  folderPath: Str,
  tmdbId: Opt(Int),
  imdbId: Opt(Str),
});
type MovieBody = Static<typeof Movie>;

const IMDB_ID = /^tt[0-9]+$/;
const MAX_YEAR = 3000;

function movieFacts(movie: MovieBody) {
  return {
    tmdbId: positiveId(movie.tmdbId),
    imdbId: movie.imdbId !== undefined && IMDB_ID.test(movie.imdbId) ? movie.imdbId : undefined,
    title: label(movie.title),
    year: movie.year !== undefined && movie.year > 0 && movie.year <= MAX_YEAR ? movie.year : undefined,
    radarrId: positiveId(movie.id),
  };
}

function movieTitle(movie: MovieBody): string | undefined {
  const title = movie.title?.trim();
  if (!title) return undefined;
  return label(movie.year && movie.year > 0 ? `${title} (${movie.year})` : title);
}

function moviePath(body: { movie: MovieBody }): PathUse[] {
  return [{ pointer: '/movie/folderPath', value: body.movie.folderPath }];
}

function movieEntity(movie: MovieBody): string {
  return movie.id !== undefined ? `movie#${movie.id}` : `movie@${movie.folderPath}`;
}

function scanMovie(movie: MovieBody, eventType: string): WebhookAction {
  return compact({
    action: 'scan-movie' as const,
    folderPath: movie.folderPath,
    ...movieFacts(movie),
    eventType,
  });
}

const Download = Type.Object({
  ...envelope,
  movie: Movie,
  movieFile: Opt(FileRef),
  /** Files replaced by an upgrade (`isUpgrade: true`). */
  deletedFiles: Opt(Type.Array(FileRef)),
  downloadId: Opt(Str),
});

const Rename = Type.Object({
  ...envelope,
  movie: Movie,
  renamedMovieFiles: Opt(Type.Array(FileRef)),
});

const MovieFileDelete = Type.Object({
  ...envelope,
  movie: Movie,
  movieFile: Opt(FileRef),
  /** DeleteMediaFileReason, camelCase: missingFromDisk, manual, upgrade, noLinkedEpisodes, manualOverride. */
  deleteReason: Opt(Str),
});

const MovieDelete = Type.Object({
  ...envelope,
  movie: Movie,
  /** Whether Radarr deleted the movie's files from disk too. */
  deletedFiles: Opt(Type.Boolean()),
});

const MovieAdded = Type.Object({ ...envelope, movie: Movie });

const identity = (movie: MovieBody, files: string[], downloadId?: string): EventIdentity => ({
  entity: movieEntity(movie),
  files,
  downloadId,
});

export const radarrEvents: AppEvents = {
  ignored: new Map([
    ['Grab', 'a grab only queues a download; the Download event follows when a file is imported'],
    ['Health', 'health notifications need no library work'],
    ['HealthRestored', 'health notifications need no library work'],
    ['ApplicationUpdate', 'application updates need no library work'],
    ['ManualInteractionRequired', 'the import waits for a person in Radarr; nothing changed on disk yet'],
  ]),
  actionable: new Map([
    [
      'Download',
      defineEvent(Download, {
        paths: moviePath,
        identity: (b) =>
          identity(
            b.movie,
            [...fileToken('movieFile', b.movieFile), ...fileTokens('deleted', b.deletedFiles)],
            b.downloadId,
          ),
        title: (b) => movieTitle(b.movie),
        plan: (b, eventType) => [scanMovie(b.movie, eventType)],
      }),
    ],
    [
      'Rename',
      defineEvent(Rename, {
        paths: moviePath,
        identity: (b) =>
          identity(
            b.movie,
            (b.renamedMovieFiles ?? []).map((f) => `renamed#${f.id ?? ''}@${f.path ?? ''}`),
          ),
        title: (b) => movieTitle(b.movie),
        plan: (b, eventType) => [scanMovie(b.movie, eventType)],
      }),
    ],
    [
      'MovieFileDelete',
      defineEvent(MovieFileDelete, {
        paths: moviePath,
        identity: (b) =>
          identity(b.movie, [...fileToken('movieFile', b.movieFile), `reason=${b.deleteReason ?? ''}`]),
        title: (b) => movieTitle(b.movie),
        // An upgrade deletes the old file right before importing the new one; that Download rescans.
        plan: (b, eventType) => (b.deleteReason === 'upgrade' ? [] : [scanMovie(b.movie, eventType)]),
      }),
    ],
    [
      'MovieDelete',
      defineEvent(MovieDelete, {
        paths: moviePath,
        identity: (b) => identity(b.movie, [`deletedFiles=${b.deletedFiles === true}`]),
        title: (b) => movieTitle(b.movie),
        plan: (b) => {
          const facts = movieFacts(b.movie);
          return [
            compact({
              action: 'movie-removed' as const,
              folderPath: b.movie.folderPath,
              radarrId: facts.radarrId,
              tmdbId: facts.tmdbId,
              filesDeleted: b.deletedFiles === true,
            }),
          ];
        },
      }),
    ],
    [
      'MovieAdded',
      defineEvent(MovieAdded, {
        paths: moviePath,
        identity: (b) => identity(b.movie, []),
        title: (b) => movieTitle(b.movie),
        plan: (b) => [
          compact({ action: 'movie-added' as const, folderPath: b.movie.folderPath, ...movieFacts(b.movie) }),
        ],
      }),
    ],
  ]),
};
