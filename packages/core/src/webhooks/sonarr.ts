import Type, { type Static } from 'typebox';
import { folderOfRelative, parentFolder, trimTrailingSeparators } from '../paths.ts';
import {
  defineEvent,
  distinct,
  envelope,
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
 * Sonarr (`src/NzbDrone.Core/Notifications/Webhook`): events carry `series` (WebhookSeries: id, title,
 * path, tvdbId, …); imports carry `episodeFile` (one per delivery) or, with "On Import Complete",
 * `episodeFiles` + `fileCount` + `sourcePath` + `destinationPath`. Files have `path` (absolute) and
 * `relativePath` (under `series.path`). We notify the season folders the files live in.
 */
/**
 * The ids and year are read leniently (Sonarr sends `0` or leaves out what it does not know): a value
 * that is not a usable id is dropped, never a reason to refuse the delivery.
 */
const Series = Type.Object({
  id: Opt(Int),
  title: Opt(Str),
  path: Str,
  year: Opt(Type.Unknown()),
  tvdbId: Opt(Type.Unknown()),
  tmdbId: Opt(Type.Unknown()),
  imdbId: Opt(Type.Unknown()),
});
type SeriesBody = Static<typeof Series>;

const EpisodeFile = Type.Object({ id: Opt(Int), path: Opt(Str), relativePath: Opt(Str) });
type EpisodeFileBody = Static<typeof EpisodeFile>;

const Episodes = Opt(Type.Array(Type.Object({ seasonNumber: Opt(Int), episodeNumber: Opt(Int) })));
type EpisodesBody = Static<typeof Episodes> | undefined;

const Download = Type.Object({
  ...envelope,
  series: Series,
  episodes: Episodes,
  episodeFile: Opt(EpisodeFile),
  episodeFiles: Opt(Type.Array(EpisodeFile)),
  deletedFiles: Opt(Type.Array(EpisodeFile)),
  downloadId: Opt(Str),
});

const EpisodeFileDelete = Type.Object({
  ...envelope,
  series: Series,
  episodes: Episodes,
  episodeFile: Opt(EpisodeFile),
  deleteReason: Opt(Str),
});

const Rename = Type.Object({
  ...envelope,
  series: Series,
  renamedEpisodeFiles: Opt(Type.Array(EpisodeFile)),
});

const SeriesAdd = Type.Object({ ...envelope, series: Series });
const SeriesDelete = Type.Object({ ...envelope, series: Series, deletedFiles: Opt(Type.Boolean()) });

interface LocatedFile {
  file: EpisodeFileBody;
  pointer: string;
}

/** The path we use for a file: its absolute `path`, else its `relativePath` under the series folder. */
function fileSource(f: LocatedFile): PathUse | null {
  if (f.file.path !== undefined) return { pointer: `${f.pointer}/path`, value: f.file.path };
  if (f.file.relativePath !== undefined) {
    return { pointer: `${f.pointer}/relativePath`, value: f.file.relativePath, relative: true };
  }
  return null;
}

function fileFolder(series: SeriesBody, f: LocatedFile): string | null {
  const src = fileSource(f);
  if (!src) return null;
  return src.relative ? folderOfRelative(series.path, src.value) : parentFolder(src.value);
}

function importedFiles(b: Static<typeof Download>): LocatedFile[] {
  const out: LocatedFile[] = [];
  if (b.episodeFile) out.push({ file: b.episodeFile, pointer: '/episodeFile' });
  (b.episodeFiles ?? []).forEach((file, i) => {
    out.push({ file, pointer: `/episodeFiles/${i}` });
  });
  return out;
}

function pathsFor(series: SeriesBody, files: LocatedFile[]): PathUse[] {
  const uses: PathUse[] = [{ pointer: '/series/path', value: series.path }];
  for (const f of files) {
    const src = fileSource(f);
    if (src) uses.push(src);
  }
  return uses;
}

const IMDB_ID = /^tt[0-9]+$/;
const id = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);

/** Record the series (scan-series) with the ids Sonarr sent; its players are told by the other actions. */
function scanSeries(series: SeriesBody, eventType: string): WebhookAction {
  const year = id(series.year);
  const facts = {
    tmdbId: id(series.tmdbId),
    tvdbId: id(series.tvdbId),
    imdbId: typeof series.imdbId === 'string' && IMDB_ID.test(series.imdbId) ? series.imdbId : undefined,
    title: label(series.title),
    year: year !== undefined && year <= 3000 ? year : undefined,
    sonarrId: positiveId(series.id),
  };
  return {
    action: 'scan-series',
    folderPath: trimTrailingSeparators(series.path),
    eventType,
    ...(facts.tmdbId !== undefined && { tmdbId: facts.tmdbId }),
    ...(facts.tvdbId !== undefined && { tvdbId: facts.tvdbId }),
    ...(facts.imdbId !== undefined && { imdbId: facts.imdbId }),
    ...(facts.title !== undefined && { title: facts.title }),
    ...(facts.year !== undefined && { year: facts.year }),
    ...(facts.sonarrId !== undefined && { sonarrId: facts.sonarrId }),
  };
}

function notify(folderPath: string, change: 'created' | 'modified' | 'deleted'): WebhookAction {
  return { action: 'notify-folder', folderPath, mediaKind: 'tv', change };
}

/**
 * One action per distinct season folder. When a file says nothing about where it is (or there is no
 * file at all), the series folder is notified as modified instead, so nothing is missed.
 */
function folderActions(
  series: SeriesBody,
  files: LocatedFile[],
  change: 'created' | 'deleted',
): WebhookAction[] {
  const folders = files.map((f) => fileFolder(series, f)).filter((f): f is string => f !== null);
  const actions = distinct(folders, (f) => f).map((folder) => notify(folder, change));
  const seriesFolder = trimTrailingSeparators(series.path);
  const unplaced = files.length === 0 || folders.length < files.length;
  if (unplaced && !folders.includes(seriesFolder)) actions.push(notify(seriesFolder, 'modified'));
  return actions;
}

function seriesEntity(series: SeriesBody): string {
  return series.id !== undefined ? `series#${series.id}` : `series@${series.path}`;
}

const two = (n: number) => String(n).padStart(2, '0');

/** `S02E01`, `S02E01-E24` for a run in one season, `S02 (3 episodes)`, or `(5 episodes)` across seasons. */
function episodeLabel(episodes: EpisodesBody): string | undefined {
  const eps = (episodes ?? []).filter(
    (e): e is { seasonNumber: number; episodeNumber: number } =>
      e.seasonNumber !== undefined && e.episodeNumber !== undefined,
  );
  const first = eps[0];
  if (!first) return undefined;
  if (eps.some((e) => e.seasonNumber !== first.seasonNumber)) return `(${eps.length} episodes)`;
  const numbers = [...new Set(eps.map((e) => e.episodeNumber))].sort((a, b) => a - b);
  const low = numbers[0] ?? first.episodeNumber;
  const high = numbers[numbers.length - 1] ?? low;
  const season = `S${two(first.seasonNumber)}`;
  if (numbers.length === 1) return `${season}E${two(low)}`;
  if (high - low + 1 === numbers.length) return `${season}E${two(low)}-E${two(high)}`;
  return `${season} (${numbers.length} episodes)`;
}

function seriesTitle(series: SeriesBody, episodes?: EpisodesBody): string | undefined {
  const name = series.title?.trim();
  const eps = episodeLabel(episodes);
  return label([name, eps].filter(Boolean).join(' '));
}

const identity = (series: SeriesBody, files: string[], downloadId?: string): EventIdentity => ({
  entity: seriesEntity(series),
  files,
  downloadId,
});

export const sonarrEvents: AppEvents = {
  ignored: new Map([
    ['Grab', 'a grab only queues a download; the Download event follows when files are imported'],
    ['Health', 'health notifications need no library work'],
    ['HealthRestored', 'health notifications need no library work'],
    ['ApplicationUpdate', 'application updates need no library work'],
    ['ManualInteractionRequired', 'the import waits for a person in Sonarr; nothing changed on disk yet'],
  ]),
  actionable: new Map([
    [
      'Download',
      defineEvent(Download, {
        paths: (b) => pathsFor(b.series, importedFiles(b)),
        identity: (b) =>
          identity(
            b.series,
            [
              ...fileToken('episodeFile', b.episodeFile),
              ...fileTokens('episodeFile', b.episodeFiles),
              ...fileTokens('deleted', b.deletedFiles),
            ],
            b.downloadId,
          ),
        title: (b) => seriesTitle(b.series, b.episodes),
        plan: (b, eventType) => [
          ...folderActions(b.series, importedFiles(b), 'created'),
          scanSeries(b.series, eventType),
        ],
      }),
    ],
    [
      'EpisodeFileDelete',
      defineEvent(EpisodeFileDelete, {
        paths: (b) =>
          pathsFor(b.series, b.episodeFile ? [{ file: b.episodeFile, pointer: '/episodeFile' }] : []),
        identity: (b) =>
          identity(b.series, [...fileToken('episodeFile', b.episodeFile), `reason=${b.deleteReason ?? ''}`]),
        title: (b) => seriesTitle(b.series, b.episodes),
        // An upgrade deletes the old file right before importing the new one; that Download notifies.
        plan: (b, eventType) =>
          b.deleteReason === 'upgrade'
            ? []
            : [
                ...folderActions(
                  b.series,
                  b.episodeFile ? [{ file: b.episodeFile, pointer: '/episodeFile' }] : [],
                  'deleted',
                ),
                scanSeries(b.series, eventType),
              ],
      }),
    ],
    [
      'Rename',
      defineEvent(Rename, {
        paths: (b) => pathsFor(b.series, []),
        identity: (b) =>
          identity(
            b.series,
            (b.renamedEpisodeFiles ?? []).map(
              (f) => `renamed#${f.id ?? ''}@${f.path ?? f.relativePath ?? ''}`,
            ),
          ),
        title: (b) => seriesTitle(b.series),
        plan: (b, eventType) => [
          notify(trimTrailingSeparators(b.series.path), 'modified'),
          scanSeries(b.series, eventType),
        ],
      }),
    ],
    [
      'SeriesAdd',
      defineEvent(SeriesAdd, {
        paths: (b) => pathsFor(b.series, []),
        identity: (b) => identity(b.series, []),
        title: (b) => seriesTitle(b.series),
        plan: (b, eventType) => [
          notify(trimTrailingSeparators(b.series.path), 'created'),
          scanSeries(b.series, eventType),
        ],
      }),
    ],
    [
      'SeriesDelete',
      defineEvent(SeriesDelete, {
        paths: (b) => pathsFor(b.series, []),
        identity: (b) => identity(b.series, [`deletedFiles=${b.deletedFiles === true}`]),
        title: (b) => seriesTitle(b.series),
        plan: (b, eventType) => [
          notify(trimTrailingSeparators(b.series.path), 'deleted'),
          scanSeries(b.series, eventType),
        ],
      }),
    ],
  ]),
};
