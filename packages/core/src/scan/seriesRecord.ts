/**
 * The write half of a series scan (services/scanSeries.ts reads the folder): the series row, its
 * seasons, episodes and files, each written only where it differs from what is recorded.
 */
import nodePath from 'node:path';
import type { Db } from '../db/connect.ts';
import { type EpisodeVideo, parseSeriesFolderName, type SeriesFolderListing } from '../tv/names.ts';

export interface ScanSeriesInput {
  libraryId: number;
  libraryPath: string;
  /** The series folder, in Metarr's form. */
  path: string;
  /** Ids Sonarr sent: they win over the folder name's tokens. */
  tmdbId?: number;
  tvdbId?: number;
  imdbId?: string;
  title?: string;
  year?: number;
  sonarrId?: number;
  /** Sonarr deleted the series: it is marked removed, whatever is left on disk. */
  removed?: boolean;
}

export interface ScanSeriesResult {
  seriesId: number | null;
  /** `unchanged`: the folder was read and nothing differed from what was recorded. */
  status: 'created' | 'updated' | 'unchanged' | 'missing' | 'removed';
  seasons: number;
  episodes: number;
  files: number;
  added: { seasons: number; episodes: number; files: number };
  /** Files whose episodes or place changed, and files that are gone. */
  changedFiles: number;
  removedFiles: number;
  unparseable: { file: string; reason: string }[];
}

type Listed = Extract<EpisodeVideo, { kind: 'episodes' }>;

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The write half: series, seasons, episodes and files, each written only where it differs. */
export async function recordSeries(
  trx: Db,
  now: Date,
  input: ScanSeriesInput,
  listing: SeriesFolderListing,
): Promise<ScanSeriesResult> {
  const name = parseSeriesFolderName(nodePath.basename(input.path));
  const ids = {
    tmdb_id: input.tmdbId ?? name.ids.tmdbId ?? null,
    tvdb_id: input.tvdbId ?? name.ids.tvdbId ?? null,
    imdb_id: input.imdbId ?? name.ids.imdbId ?? null,
  };
  const title = input.title ?? name.title;
  const year = input.year ?? name.year;
  const unparseable = listing.unparseable;

  let status: ScanSeriesResult['status'] = 'unchanged';
  const existing = await trx
    .selectFrom('series')
    .selectAll()
    .where('library_id', '=', input.libraryId)
    .where('path', '=', input.path)
    .executeTakeFirst();
  let seriesId: number;
  if (!existing) {
    const row = await trx
      .insertInto('series')
      .values({
        library_id: input.libraryId,
        path: input.path,
        title,
        year,
        ...ids,
        sonarr_id: input.sonarrId ?? null,
        unparseable: JSON.stringify(unparseable),
        last_scanned_at: now,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    seriesId = row.id;
    status = 'created';
  } else {
    seriesId = existing.id;
    // Ids Sonarr sent replace ours; a folder-name token only fills a gap. The title and year are the
    // scan's until enrichment stored metadata (then they are the provider's).
    const set: Record<string, unknown> = {};
    const fill = (col: 'tmdb_id' | 'tvdb_id' | 'imdb_id', given: unknown, parsed: unknown) => {
      if (given !== undefined && given !== existing[col]) set[col] = given;
      else if (given === undefined && existing[col] === null && parsed !== undefined) set[col] = parsed;
    };
    fill('tmdb_id', input.tmdbId, name.ids.tmdbId);
    fill('tvdb_id', input.tvdbId, name.ids.tvdbId);
    fill('imdb_id', input.imdbId, name.ids.imdbId);
    if (input.sonarrId !== undefined && input.sonarrId !== existing.sonarr_id) set.sonarr_id = input.sonarrId;
    if (existing.metadata === null) {
      if (title !== null && title !== existing.title) set.title = title;
      if (year !== null && year !== existing.year) set.year = year;
    }
    if (existing.status !== 'present') set.status = 'present';
    if (!sameJson(existing.unparseable, unparseable)) set.unparseable = JSON.stringify(unparseable);
    if (Object.keys(set).length) {
      set.updated_at = now;
      status = 'updated';
    }
    await trx
      .updateTable('series')
      .set({ ...set, last_scanned_at: now })
      .where('id', '=', seriesId)
      .execute();
  }

  const videos = listing.videos.filter((v): v is Listed => v.kind === 'episodes');
  const daily = listing.videos.filter((v) => v.kind === 'daily');

  // Seasons: every season folder and every season a file names.
  const folderOf = new Map<number, string>();
  for (const s of listing.seasons) if (!folderOf.has(s.season)) folderOf.set(s.season, s.folder);
  const wantedSeasons = new Set<number>([...folderOf.keys(), ...videos.map((v) => v.season)]);
  for (const v of daily) if (v.folderSeason !== null) wantedSeasons.add(v.folderSeason);
  const seasonRows = await trx
    .selectFrom('seasons')
    .select(['id', 'number', 'folder'])
    .where('series_id', '=', seriesId)
    .execute();
  const seasonId = new Map(seasonRows.map((s) => [s.number, s.id]));
  const added = { seasons: 0, episodes: 0, files: 0 };
  const newSeasons = [...wantedSeasons].filter((n) => !seasonId.has(n)).sort((a, b) => a - b);
  if (newSeasons.length) {
    const rows = await trx
      .insertInto('seasons')
      .values(
        newSeasons.map((number) => ({
          series_id: seriesId,
          number,
          folder: folderOf.get(number) ?? null,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning(['id', 'number'])
      .execute();
    for (const r of rows) seasonId.set(r.number, r.id);
    added.seasons = rows.length;
  }
  let changed = newSeasons.length > 0;
  for (const s of seasonRows) {
    const folder = folderOf.get(s.number) ?? null;
    if (folder === s.folder) continue;
    await trx.updateTable('seasons').set({ folder, updated_at: now }).where('id', '=', s.id).execute();
    changed = true;
  }

  // Episodes: every episode a file holds.
  const key = (season: number, number: number) => `${season}x${number}`;
  const episodeRows = await trx
    .selectFrom('episodes')
    .select(['id', 'season_number', 'number'])
    .where('series_id', '=', seriesId)
    .execute();
  const episodeId = new Map(episodeRows.map((e) => [key(e.season_number, e.number), e.id]));
  const wantedEpisodes = new Map<string, { season: number; number: number }>();
  for (const v of videos)
    for (const number of v.episodes) wantedEpisodes.set(key(v.season, number), { season: v.season, number });
  const newEpisodes = [...wantedEpisodes.entries()].filter(([k]) => !episodeId.has(k)).map(([, e]) => e);
  if (newEpisodes.length) {
    const rows = await trx
      .insertInto('episodes')
      .values(
        newEpisodes.map((e) => ({
          series_id: seriesId,
          season_id: seasonId.get(e.season) as number,
          season_number: e.season,
          number: e.number,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning(['id', 'season_number', 'number'])
      .execute();
    for (const r of rows) episodeId.set(key(r.season_number, r.number), r.id);
    added.episodes = rows.length;
    changed = true;
  }

  // Files, and the episodes each holds (in order).
  interface WantedFile {
    file: string;
    season: number | null;
    airDate: string | null;
    episodeIds: number[];
  }
  const wantedFiles: WantedFile[] = listing.videos.map((v) =>
    v.kind === 'episodes'
      ? {
          file: v.file,
          season: v.season,
          airDate: null,
          episodeIds: v.episodes.map((n) => episodeId.get(key(v.season, n)) as number),
        }
      : { file: v.file, season: v.folderSeason, airDate: v.airDate, episodeIds: [] },
  );
  const fileRows = await trx
    .selectFrom('episode_files')
    .select(['id', 'file', 'season_number', 'air_date'])
    .where('series_id', '=', seriesId)
    .execute();
  const links = fileRows.length
    ? await trx
        .selectFrom('episode_file_episodes')
        .select(['file_id', 'episode_id'])
        .where(
          'file_id',
          'in',
          fileRows.map((f) => f.id),
        )
        .orderBy('file_id')
        .orderBy('position')
        .execute()
    : [];
  const linksOf = new Map<number, number[]>();
  for (const l of links) linksOf.set(l.file_id, [...(linksOf.get(l.file_id) ?? []), l.episode_id]);
  const byFile = new Map(fileRows.map((f) => [f.file, f]));
  const listed = new Set(wantedFiles.map((w) => w.file));
  const gone = fileRows.filter((f) => !listed.has(f.file)).map((f) => f.id);
  if (gone.length) await trx.deleteFrom('episode_files').where('id', 'in', gone).execute();

  const relink = async (fileId: number, episodeIds: number[]) => {
    await trx.deleteFrom('episode_file_episodes').where('file_id', '=', fileId).execute();
    if (episodeIds.length)
      await trx
        .insertInto('episode_file_episodes')
        .values(episodeIds.map((episode_id, position) => ({ file_id: fileId, episode_id, position })))
        .execute();
  };
  let changedFiles = 0;
  const newFiles = wantedFiles.filter((w) => !byFile.has(w.file));
  if (newFiles.length) {
    const rows = await trx
      .insertInto('episode_files')
      .values(
        newFiles.map((w) => ({
          series_id: seriesId,
          file: w.file,
          season_number: w.season,
          air_date: w.airDate,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning(['id', 'file'])
      .execute();
    const idOf = new Map(rows.map((r) => [r.file, r.id]));
    const linkRows = newFiles.flatMap((w) =>
      w.episodeIds.map((episode_id, position) => ({
        file_id: idOf.get(w.file) as number,
        episode_id,
        position,
      })),
    );
    if (linkRows.length) await trx.insertInto('episode_file_episodes').values(linkRows).execute();
    added.files = rows.length;
  }
  for (const w of wantedFiles) {
    const row = byFile.get(w.file);
    if (!row) continue;
    const sameLinks = sameJson(linksOf.get(row.id) ?? [], w.episodeIds);
    if (sameLinks && row.season_number === w.season && row.air_date === w.airDate) continue;
    await trx
      .updateTable('episode_files')
      .set({ season_number: w.season, air_date: w.airDate, updated_at: now })
      .where('id', '=', row.id)
      .execute();
    if (!sameLinks) await relink(row.id, w.episodeIds);
    changedFiles++;
  }
  if (added.files || changedFiles || gone.length) changed = true;

  if (changed && status === 'unchanged') {
    status = 'updated';
    await trx.updateTable('series').set({ updated_at: now }).where('id', '=', seriesId).execute();
  }
  return {
    seriesId,
    status,
    seasons: wantedSeasons.size,
    episodes: wantedEpisodes.size,
    files: wantedFiles.length,
    added,
    changedFiles,
    removedFiles: gone.length,
    unparseable,
  };
}
