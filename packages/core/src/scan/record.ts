/**
 * The write half of a movie scan: one probed folder becomes an inserted, updated, moved or missing
 * movie row; a batch does the same set-based where its items are independent.
 */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { MovieStatus } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import type { MovieIdentity } from '../records/movies.ts';
import type { FolderProbe } from './probe.ts';

export interface ScanInput extends MovieIdentity {
  libraryPath: string;
}

export type ScanStatus = 'created' | 'updated' | 'moved' | 'missing';

export interface ScanResult {
  movieId: number | null;
  status: ScanStatus;
  videoFile: string | null;
  previousPath?: string;
}

/** The columns a scan knows from its input (a field left out keeps what the row has). */
function knownColumns(input: ScanInput) {
  return {
    ...(input.title !== undefined && { title: input.title }),
    ...(input.year !== undefined && { year: input.year }),
    ...(input.tmdbId !== undefined && { tmdb_id: input.tmdbId }),
    ...(input.imdbId !== undefined && { imdb_id: input.imdbId }),
    ...(input.radarrId !== undefined && { radarr_id: input.radarrId }),
  };
}

/** Records one probed folder: update, move or insert its movie row (or mark it missing). */
export async function recordScan(
  db: Db,
  log: Logger,
  now: Date,
  input: ScanInput,
  probe: FolderProbe,
): Promise<ScanResult> {
  const existing = await db
    .selectFrom('movies')
    .selectAll()
    .where('library_id', '=', input.libraryId)
    .where('path', '=', input.path)
    .executeTakeFirst();

  if (probe.real === null) {
    if (existing) {
      await db
        .updateTable('movies')
        .set({ status: 'missing', updated_at: now, last_scanned_at: now })
        .where('id', '=', existing.id)
        .execute();
    }
    log.warn(
      { libraryId: input.libraryId, path: input.path, movieId: existing?.id ?? null },
      'Movie folder is missing',
    );
    return { movieId: existing?.id ?? null, status: 'missing', videoFile: null };
  }

  const { videoFile } = probe;
  const status: MovieStatus = videoFile ? 'present' : 'no_files';
  const known = knownColumns(input);

  if (existing) {
    await db
      .updateTable('movies')
      .set({ ...known, video_file: videoFile, status, updated_at: now, last_scanned_at: now })
      .where('id', '=', existing.id)
      .execute();
    log.info({ movieId: existing.id, status: 'updated', videoFile }, 'Movie scan completed');
    return { movieId: existing.id, status: 'updated', videoFile };
  }

  // Same movie at a new folder (renamed or moved by the *arr) is a move, not a new movie.
  if (input.tmdbId !== undefined || input.radarrId !== undefined) {
    let q = db.selectFrom('movies').select(['id', 'path']).where('library_id', '=', input.libraryId);
    q =
      input.tmdbId !== undefined
        ? q.where('tmdb_id', '=', input.tmdbId)
        : q.where('radarr_id', '=', input.radarrId ?? -1);
    const moved = await q.orderBy('updated_at', 'desc').executeTakeFirst();
    if (moved) {
      await db
        .updateTable('movies')
        .set({
          ...known,
          path: input.path,
          video_file: videoFile,
          status,
          updated_at: now,
          last_scanned_at: now,
        })
        .where('id', '=', moved.id)
        .execute();
      log.info(
        { movieId: moved.id, status: 'moved', previousPath: moved.path, videoFile },
        'Movie scan completed',
      );
      return { movieId: moved.id, status: 'moved', videoFile, previousPath: moved.path };
    }
  }

  // Two scans of one new folder can race (at-least-once delivery): the unique key decides.
  const inserted = await db
    .insertInto('movies')
    .values({
      library_id: input.libraryId,
      path: input.path,
      ...known,
      video_file: videoFile,
      status,
      last_scanned_at: now,
    })
    .onConflict((oc) => oc.columns(['library_id', 'path']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) {
    const row = await db
      .selectFrom('movies')
      .select('id')
      .where('library_id', '=', input.libraryId)
      .where('path', '=', input.path)
      .executeTakeFirstOrThrow();
    return { movieId: row.id, status: 'updated', videoFile };
  }
  log.info({ movieId: inserted.id, status: 'created', videoFile }, 'Movie scan completed');
  return { movieId: inserted.id, status: 'created', videoFile };
}

export interface BatchItem {
  index: number;
  input: ScanInput;
  probe: FolderProbe;
}

interface MovieKeyRow {
  id: number;
  library_id: number;
  path: string;
  tmdb_id: number | null;
  radarr_id: number | null;
  updated_at: Date;
}

/** `recordScan` for many items in one transaction, set-based where the items are independent. */
export async function recordScans(
  trx: Db,
  log: Logger,
  now: Date,
  items: BatchItem[],
): Promise<ScanResult[]> {
  if (items.length === 0) return [];
  const sequential = async () => {
    const results: ScanResult[] = [];
    for (const it of items) results.push(await recordScan(trx, log, now, it.input, it.probe));
    return results;
  };
  if (items.length === 1) return sequential();

  const pathKey = (libraryId: number, path: string) => `${libraryId}\0${path}`;
  const paths = new Set(items.map((it) => pathKey(it.input.libraryId, it.input.path)));
  if (paths.size < items.length) return sequential();

  const { rows: existingRows } = await sql<MovieKeyRow>`
    select m.id, m.library_id, m.path, m.tmdb_id, m.radarr_id, m.updated_at from movies m
    join unnest(${items.map((it) => it.input.libraryId)}::int[], ${items.map((it) => it.input.path)}::text[])
      as u(library_id, path) on m.library_id = u.library_id and m.path = u.path`.execute(trx);
  const existing = new Map(existingRows.map((r) => [pathKey(r.library_id, r.path), r]));
  const existingIds = new Set(existingRows.map((r) => r.id));

  // The move lookup of a new folder (by TMDB id, else Radarr id), as recordScan does it.
  const moveKey = (it: BatchItem) =>
    it.input.tmdbId !== undefined
      ? `${it.input.libraryId}|t${it.input.tmdbId}`
      : it.input.radarrId !== undefined
        ? `${it.input.libraryId}|r${it.input.radarrId}`
        : null;
  const fresh = items.filter(
    (it) => it.probe.real !== null && !existing.has(pathKey(it.input.libraryId, it.input.path)),
  );
  const movers = fresh.filter((it) => moveKey(it) !== null);
  // An id another input also carries could be written by it first: order matters, go one by one.
  const idKeys = new Map<string, number>();
  for (const it of items) {
    for (const k of [
      it.input.tmdbId !== undefined ? `${it.input.libraryId}|t${it.input.tmdbId}` : null,
      it.input.radarrId !== undefined ? `${it.input.libraryId}|r${it.input.radarrId}` : null,
    ]) {
      if (k) idKeys.set(k, (idKeys.get(k) ?? 0) + 1);
    }
  }
  if (movers.some((it) => (idKeys.get(moveKey(it) as string) ?? 0) > 1)) return sequential();

  const candidates = new Map<string, MovieKeyRow>();
  if (movers.length) {
    const byTmdb = movers.filter((it) => it.input.tmdbId !== undefined);
    const byRadarr = movers.filter((it) => it.input.tmdbId === undefined);
    const { rows } = await sql<MovieKeyRow & { key: string }>`
      select m.id, m.library_id, m.path, m.tmdb_id, m.radarr_id, m.updated_at, u.key from movies m
      join unnest(${byTmdb.map((it) => it.input.libraryId)}::int[], ${byTmdb.map((it) => it.input.tmdbId)}::int[],
                  ${byTmdb.map((it) => moveKey(it))}::text[]) as u(library_id, tmdb_id, key)
        on m.library_id = u.library_id and m.tmdb_id = u.tmdb_id
      union all
      select m.id, m.library_id, m.path, m.tmdb_id, m.radarr_id, m.updated_at, u.key from movies m
      join unnest(${byRadarr.map((it) => it.input.libraryId)}::int[], ${byRadarr.map((it) => it.input.radarrId)}::int[],
                  ${byRadarr.map((it) => moveKey(it))}::text[]) as u(library_id, radarr_id, key)
        on m.library_id = u.library_id and m.radarr_id = u.radarr_id`.execute(trx);
    // A candidate another input updates (or that two inputs would move) depends on the order.
    if (rows.some((r) => existingIds.has(r.id))) return sequential();
    for (const r of rows) {
      const best = candidates.get(r.key);
      if (!best || new Date(r.updated_at).getTime() > new Date(best.updated_at).getTime()) {
        candidates.set(r.key, r);
      }
    }
    const chosen = [...candidates.values()].map((r) => r.id);
    if (new Set(chosen).size < chosen.length) return sequential();
    // Ties on updated_at: the database's own `order by updated_at desc limit 1` decides, so ask it.
    const tied = rows.some(
      (r) =>
        r.id !== candidates.get(r.key)?.id &&
        new Date(r.updated_at).getTime() === new Date(candidates.get(r.key)?.updated_at ?? 0).getTime(),
    );
    if (tied) return sequential();
  }

  const results: ScanResult[] = new Array(items.length);
  const missingIds: number[] = [];
  const updates: { id: number; it: BatchItem }[] = [];
  const inserts: { k: number; it: BatchItem }[] = [];
  for (const [k, it] of items.entries()) {
    const row = existing.get(pathKey(it.input.libraryId, it.input.path));
    const videoFile = it.probe.videoFile;
    if (it.probe.real === null) {
      if (row) missingIds.push(row.id);
      log.warn(
        { libraryId: it.input.libraryId, path: it.input.path, movieId: row?.id ?? null },
        'Movie folder is missing',
      );
      results[k] = { movieId: row?.id ?? null, status: 'missing', videoFile: null };
    } else if (row) {
      updates.push({ id: row.id, it });
      results[k] = { movieId: row.id, status: 'updated', videoFile };
    } else {
      const key = moveKey(it);
      const moved = key === null ? undefined : candidates.get(key);
      if (moved) {
        updates.push({ id: moved.id, it });
        results[k] = { movieId: moved.id, status: 'moved', videoFile, previousPath: moved.path };
      } else {
        inserts.push({ k, it });
      }
    }
  }

  if (missingIds.length) {
    await trx
      .updateTable('movies')
      .set({ status: 'missing', updated_at: now, last_scanned_at: now })
      .where('id', 'in', missingIds)
      .execute();
  }
  // A column the input leaves out keeps what the row has (null in the arrays = not given).
  const col = <T>(list: { it: BatchItem }[], f: (i: ScanInput) => T | undefined) =>
    list.map(({ it }) => f(it.input) ?? null);
  if (updates.length) {
    await sql`update movies m set
        title = coalesce(u.title, m.title), year = coalesce(u.year, m.year),
        tmdb_id = coalesce(u.tmdb_id, m.tmdb_id), imdb_id = coalesce(u.imdb_id, m.imdb_id),
        radarr_id = coalesce(u.radarr_id, m.radarr_id),
        path = u.path, video_file = u.video_file, status = u.status,
        updated_at = ${now}, last_scanned_at = ${now}
      from unnest(${updates.map((u) => u.id)}::int[], ${col(updates, (i) => i.path)}::text[],
                  ${updates.map((u) => u.it.probe.videoFile)}::text[],
                  ${updates.map((u) => (u.it.probe.videoFile ? 'present' : 'no_files'))}::text[],
                  ${col(updates, (i) => i.title)}::text[], ${col(updates, (i) => i.year)}::int[],
                  ${col(updates, (i) => i.tmdbId)}::int[], ${col(updates, (i) => i.imdbId)}::text[],
                  ${col(updates, (i) => i.radarrId)}::int[])
        as u(id, path, video_file, status, title, year, tmdb_id, imdb_id, radarr_id)
      where m.id = u.id`.execute(trx);
  }
  if (inserts.length) {
    const { rows } = await sql<{ id: number; library_id: number; path: string }>`
      insert into movies (library_id, path, title, year, tmdb_id, imdb_id, radarr_id, video_file, status,
                          last_scanned_at)
      select u.library_id, u.path, u.title, u.year, u.tmdb_id, u.imdb_id, u.radarr_id, u.video_file, u.status,
             ${now}::timestamptz
      from unnest(${col(inserts, (i) => i.libraryId)}::int[], ${col(inserts, (i) => i.path)}::text[],
                  ${col(inserts, (i) => i.title)}::text[], ${col(inserts, (i) => i.year)}::int[],
                  ${col(inserts, (i) => i.tmdbId)}::int[], ${col(inserts, (i) => i.imdbId)}::text[],
                  ${col(inserts, (i) => i.radarrId)}::int[],
                  ${inserts.map((x) => x.it.probe.videoFile)}::text[],
                  ${inserts.map((x) => (x.it.probe.videoFile ? 'present' : 'no_files'))}::text[])
        as u(library_id, path, title, year, tmdb_id, imdb_id, radarr_id, video_file, status)
      on conflict (library_id, path) do nothing
      returning id, library_id, path`.execute(trx);
    const created = new Map(rows.map((r) => [pathKey(r.library_id, r.path), r.id]));
    // Two scans of one new folder can race (at-least-once delivery): the unique key decided.
    const lost = inserts.filter(({ it }) => !created.has(pathKey(it.input.libraryId, it.input.path)));
    const { rows: others } = lost.length
      ? await sql<{ id: number; library_id: number; path: string }>`
          select m.id, m.library_id, m.path from movies m
          join unnest(${col(lost, (i) => i.libraryId)}::int[], ${col(lost, (i) => i.path)}::text[])
            as u(library_id, path) on m.library_id = u.library_id and m.path = u.path`.execute(trx)
      : { rows: [] };
    const raced = new Map(others.map((r) => [pathKey(r.library_id, r.path), r.id]));
    for (const { k, it } of inserts) {
      const key = pathKey(it.input.libraryId, it.input.path);
      const id = created.get(key);
      const videoFile = it.probe.videoFile;
      results[k] =
        id !== undefined
          ? { movieId: id, status: 'created', videoFile }
          : { movieId: raced.get(key) ?? null, status: 'updated', videoFile };
    }
  }
  return results;
}
