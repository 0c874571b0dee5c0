import Type, { type Static } from 'typebox';
import { parentFolder, trimTrailingSeparators } from '../paths.ts';
import {
  defineEvent,
  distinct,
  envelope,
  FileRef,
  fileToken,
  fileTokens,
  Int,
  label,
  Opt,
  Str,
} from './common.ts';
import type { AppEvents, EventIdentity, PathUse, WebhookAction } from './types.ts';

/**
 * Lidarr (`src/NzbDrone.Core/Notifications/Webhook`): events carry `artist` (WebhookArtist: id, name,
 * path, mbId, …). Imports (AlbumDownload) carry `album` and `trackFiles` with absolute `path`s; a retag
 * carries one `trackFile`. Albums have no path of their own, so album folders come from track files.
 */
const Artist = Type.Object({ id: Opt(Int), name: Opt(Str), path: Str });
type ArtistBody = Static<typeof Artist>;

const Album = Type.Object({ id: Opt(Int), title: Opt(Str) });
type AlbumBody = Static<typeof Album>;

type TrackFileBody = Static<typeof FileRef>;

const Download = Type.Object({
  ...envelope,
  artist: Artist,
  album: Opt(Album),
  trackFiles: Opt(Type.Array(FileRef)),
  deletedFiles: Opt(Type.Array(FileRef)),
  downloadId: Opt(Str),
});

const Retag = Type.Object({ ...envelope, artist: Artist, trackFile: Opt(FileRef) });
const Rename = Type.Object({ ...envelope, artist: Artist, renamedTrackFiles: Opt(Type.Array(FileRef)) });
const ArtistAdd = Type.Object({ ...envelope, artist: Artist });
const ArtistDelete = Type.Object({ ...envelope, artist: Artist, deletedFiles: Opt(Type.Boolean()) });
const AlbumDelete = Type.Object({
  ...envelope,
  artist: Artist,
  album: Opt(Album),
  deletedFiles: Opt(Type.Boolean()),
});

interface LocatedTrack {
  file: TrackFileBody;
  pointer: string;
}

function pathsFor(artist: ArtistBody, files: LocatedTrack[]): PathUse[] {
  const uses: PathUse[] = [{ pointer: '/artist/path', value: artist.path }];
  for (const f of files) {
    if (f.file.path !== undefined) uses.push({ pointer: `${f.pointer}/path`, value: f.file.path });
  }
  return uses;
}

function notify(folderPath: string, change: 'created' | 'modified' | 'deleted'): WebhookAction {
  return { action: 'notify-folder', folderPath, mediaKind: 'music', change };
}

/** One action per distinct album folder; the artist folder (modified) when a file has no path. */
function folderActions(
  artist: ArtistBody,
  files: LocatedTrack[],
  change: 'created' | 'modified',
): WebhookAction[] {
  const folders = files.flatMap((f) => (f.file.path !== undefined ? [parentFolder(f.file.path)] : []));
  const actions = distinct(folders, (f) => f).map((folder) => notify(folder, change));
  const artistFolder = trimTrailingSeparators(artist.path);
  const unplaced = files.length === 0 || folders.length < files.length;
  if (unplaced && !folders.includes(artistFolder)) actions.push(notify(artistFolder, 'modified'));
  return actions;
}

const trackFilesOf = (b: Static<typeof Download>): LocatedTrack[] =>
  (b.trackFiles ?? []).map((file, i) => ({ file, pointer: `/trackFiles/${i}` }));

const retagged = (b: Static<typeof Retag>): LocatedTrack[] =>
  b.trackFile ? [{ file: b.trackFile, pointer: '/trackFile' }] : [];

function artistTitle(artist: ArtistBody, album?: AlbumBody): string | undefined {
  const name = artist.name?.trim();
  const title = album?.title?.trim();
  return label(name && title ? `${name} – ${title}` : (name ?? title));
}

const identity = (artist: ArtistBody, files: string[], downloadId?: string): EventIdentity => ({
  entity: artist.id !== undefined ? `artist#${artist.id}` : `artist@${artist.path}`,
  files,
  downloadId,
});

export const lidarrEvents: AppEvents = {
  ignored: new Map([
    ['Grab', 'a grab only queues a download; the Download event follows when tracks are imported'],
    ['DownloadFailure', 'a failed download changed nothing on disk'],
    ['ImportFailure', 'a failed import changed nothing in the library'],
    ['Health', 'health notifications need no library work'],
    ['HealthRestored', 'health notifications need no library work'],
    ['ApplicationUpdate', 'application updates need no library work'],
    ['ManualInteractionRequired', 'the import waits for a person in Lidarr; nothing changed on disk yet'],
  ]),
  actionable: new Map([
    [
      'Download',
      defineEvent(Download, {
        paths: (b) => pathsFor(b.artist, trackFilesOf(b)),
        identity: (b) =>
          identity(
            b.artist,
            [
              ...(b.album?.id !== undefined ? [`album#${b.album.id}`] : []),
              ...fileTokens('trackFile', b.trackFiles),
              ...fileTokens('deleted', b.deletedFiles),
            ],
            b.downloadId,
          ),
        title: (b) => artistTitle(b.artist, b.album),
        plan: (b) => folderActions(b.artist, trackFilesOf(b), 'created'),
      }),
    ],
    [
      'Retag',
      defineEvent(Retag, {
        paths: (b) => pathsFor(b.artist, retagged(b)),
        identity: (b) => identity(b.artist, fileToken('trackFile', b.trackFile)),
        title: (b) => artistTitle(b.artist),
        plan: (b) => folderActions(b.artist, retagged(b), 'modified'),
      }),
    ],
    [
      'Rename',
      defineEvent(Rename, {
        paths: (b) => pathsFor(b.artist, []),
        identity: (b) =>
          identity(
            b.artist,
            (b.renamedTrackFiles ?? []).map((f) => `renamed#${f.id ?? ''}@${f.path ?? ''}`),
          ),
        title: (b) => artistTitle(b.artist),
        plan: (b) => [notify(trimTrailingSeparators(b.artist.path), 'modified')],
      }),
    ],
    [
      'ArtistAdd',
      defineEvent(ArtistAdd, {
        paths: (b) => pathsFor(b.artist, []),
        identity: (b) => identity(b.artist, []),
        title: (b) => artistTitle(b.artist),
        plan: (b) => [notify(trimTrailingSeparators(b.artist.path), 'created')],
      }),
    ],
    [
      'ArtistDelete',
      defineEvent(ArtistDelete, {
        paths: (b) => pathsFor(b.artist, []),
        identity: (b) => identity(b.artist, [`deletedFiles=${b.deletedFiles === true}`]),
        title: (b) => artistTitle(b.artist),
        plan: (b) => [notify(trimTrailingSeparators(b.artist.path), 'deleted')],
      }),
    ],
    [
      'AlbumDelete',
      defineEvent(AlbumDelete, {
        paths: (b) => pathsFor(b.artist, []),
        identity: (b) =>
          identity(b.artist, [
            ...(b.album?.id !== undefined ? [`album#${b.album.id}`] : []),
            `deletedFiles=${b.deletedFiles === true}`,
          ]),
        title: (b) => artistTitle(b.artist, b.album),
        // The payload names no album folder, and the artist folder still exists with its other
        // albums: tell the media server the artist folder changed rather than that it is gone.
        plan: (b) => [notify(trimTrailingSeparators(b.artist.path), 'modified')],
      }),
    ],
  ]),
};
