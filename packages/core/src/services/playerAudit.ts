/**
 * PlayerAuditService — compares one player's movie library with Metarr's movies (issue 16) through
 * the group's path mappings, and records what differs:
 *
 * - `missing`: a present movie of a linked library the player holds no item for;
 * - `gone`: a player item whose file is gone from disk (the library root itself is there);
 * - `duplicate`: a second (third…) item for the same movie;
 * - `stale`: an item whose metadata is older than Metarr's last publish that changed the movie's
 *   files — only where the player says when an item last changed (Plex `updatedAt`); Kodi and
 *   Jellyfin/Emby expose no such date, and the report says so instead of guessing.
 *
 * Bounded memory: the library is read in pages (one request each); each page's paths are looked up
 * in one query and what was seen goes to `player_audit_items`, so "missing" and "duplicate" are
 * computed in SQL at the end. No more than one page is held at a time.
 */

import { sql } from 'kysely';
import { AUDIT_PAGE_SIZE, type PlayerLibrary } from '../clients/playerLibrary.ts';
import type { Db } from '../db/connect.ts';
import { type Logger, serviceLogger } from '../log.ts';
import { containsPath, mapGroupPath, splitPath, unmapGroupPath } from '../paths.ts';
import type { PlayerConn } from '../records/players.ts';

export const PLAYER_AUDIT_SERVICE = 'PlayerAuditService';

export interface AuditLibrary {
  id: number;
  /** The library root, in Metarr's form. */
  path: string;
}

export interface AuditInput {
  auditId: number;
  player: PlayerConn;
  /** The group's path mappings (Metarr → player). */
  mappings: { from: string; to: string }[];
  /** The movie libraries linked to the player's group. */
  libraries: AuditLibrary[];
  pageSize?: number;
  signal?: AbortSignal;
  /** Called after each page with the items read so far and the total of the list being read. */
  progress?: (read: number, total: number) => Promise<void>;
}

export interface AuditSummary {
  auditId: number;
  playerItems: number;
  matched: number;
  outside: number;
  missing: number;
  gone: number;
  duplicate: number;
  stale: number;
  staleChecked: boolean;
  notes: string[];
}

export interface AuditDeps {
  db: Db;
  log: Logger;
  library: PlayerLibrary;
  /** Whether a path exists on this host (false only for a clean "not found"). */
  exists(path: string): Promise<boolean>;
}

const slashFree = (p: string) => p.replace(/\/+$/, '') || '/';

/** The deepest library whose root holds `path` (Metarr form). */
function libraryOf(path: string, libraries: AuditLibrary[]): AuditLibrary | null {
  let best: { lib: AuditLibrary; depth: number } | null = null;
  for (const lib of libraries) {
    const depth = containsPath(lib.path, path);
    if (depth >= 0 && (!best || depth > best.depth)) best = { lib, depth };
  }
  return best?.lib ?? null;
}

/** The folders that could be the movie's folder for a file: its parent up to (not including) the root. */
function candidateFolders(file: string, root: string): string[] {
  const segs = splitPath(file).segments;
  const rootDepth = splitPath(root).segments.length;
  const out: string[] = [];
  for (let n = segs.length - 1; n > rootDepth; n--) out.push(`/${segs.slice(0, n).join('/')}`);
  return out;
}

/**
 * Reads the player's library page by page and records the audit's findings in
 * `player_audit_findings`; the audit row (`player_audits`, created by the caller) gets the counts.
 */
export async function auditPlayerLibrary(deps: AuditDeps, input: AuditInput): Promise<AuditSummary> {
  const log = serviceLogger(deps.log, PLAYER_AUDIT_SERVICE);
  const { db, library } = deps;
  const { auditId, player } = input;
  const pageSize = input.pageSize ?? AUDIT_PAGE_SIZE;
  const notes: string[] = [];
  const libraries = input.libraries.map((l) => ({ ...l, path: slashFree(l.path) }));
  const roots = libraries.map((l) => mapGroupPath(l.path, input.mappings));

  // A root that is not there (an unmounted share) would make every item look gone: not judged.
  const rootPresent = new Map<number, boolean>();
  for (const lib of libraries) {
    const present = await deps.exists(lib.path);
    rootPresent.set(lib.id, present);
    if (!present) notes.push(`library root ${lib.path} is not reachable: its items were not judged gone`);
  }
  // Plex: a library outside every movie section cannot be held; its movies are not "missing".
  let covered = libraries;
  if (library.coveredRoots) {
    const ok = new Set(await library.coveredRoots(roots, input.signal));
    covered = libraries.filter((_l, i) => ok.has(roots[i] as string));
    for (const [i, lib] of libraries.entries())
      if (!ok.has(roots[i] as string))
        notes.push(`no movie section of the player holds ${roots[i]} (library ${lib.path}): not audited`);
  }
  if (!library.hasUpdateDates && library.noDatesReason)
    notes.push(`stale not checked: ${library.noDatesReason}`);

  let playerItems = 0;
  let outside = 0;
  for await (const { items: page, total } of library.pages(roots, pageSize, input.signal)) {
    playerItems += page.length;
    const rows: {
      itemId: string;
      playerPath: string;
      metarrPath: string;
      lib: AuditLibrary;
      updatedAt: Date | null;
    }[] = [];
    for (const item of page) {
      let inLibrary = false;
      for (const file of item.files) {
        const metarrPath = unmapGroupPath(file, input.mappings);
        const lib = metarrPath === null ? null : libraryOf(metarrPath, libraries);
        if (metarrPath === null || !lib) continue;
        inLibrary = true;
        rows.push({ itemId: item.id, playerPath: file, metarrPath, lib, updatedAt: item.updatedAt });
      }
      if (!inLibrary) outside++;
    }
    if (!rows.length) {
      await input.progress?.(playerItems, total);
      continue;
    }
    // One query per page: the movies whose folder holds each file (the deepest wins).
    const candidates = [...new Set(rows.flatMap((r) => candidateFolders(r.metarrPath, r.lib.path)))];
    const movies = candidates.length
      ? await db
          .selectFrom('movies')
          .select(['id', 'library_id', 'path', 'video_file', 'status'])
          .where(
            'library_id',
            'in',
            libraries.map((l) => l.id),
          )
          .where('path', 'in', candidates)
          .execute()
      : [];
    const byFolder = new Map(movies.map((m) => [`${m.library_id}:${slashFree(m.path)}`, m]));
    const seen: {
      audit_id: number;
      item_id: string;
      player_path: string;
      metarr_path: string;
      library_id: number;
      movie_id: number | null;
      is_video: boolean;
      updated_at: Date | null;
    }[] = [];
    const gone: {
      audit_id: number;
      kind: 'gone';
      movie_id: number | null;
      library_id: number;
      item_id: string;
      player_path: string;
      metarr_path: string;
      detail: string;
    }[] = [];
    for (const r of rows) {
      const movie = candidateFolders(r.metarrPath, r.lib.path)
        .map((f) => byFolder.get(`${r.lib.id}:${f}`))
        .find((m) => m !== undefined);
      if (rootPresent.get(r.lib.id) && !(await deps.exists(r.metarrPath))) {
        gone.push({
          audit_id: auditId,
          kind: 'gone',
          movie_id: movie?.id ?? null,
          library_id: r.lib.id,
          item_id: r.itemId,
          player_path: r.playerPath,
          metarr_path: r.metarrPath,
          detail: `the player holds ${r.playerPath}, but ${r.metarrPath} is gone from disk`,
        });
        continue;
      }
      const base = r.metarrPath.slice(r.metarrPath.lastIndexOf('/') + 1);
      seen.push({
        audit_id: auditId,
        item_id: r.itemId,
        player_path: r.playerPath,
        metarr_path: r.metarrPath,
        library_id: r.lib.id,
        movie_id: movie?.id ?? null,
        is_video:
          !!movie?.video_file && base === movie.video_file.slice(movie.video_file.lastIndexOf('/') + 1),
        updated_at: r.updatedAt,
      });
    }
    if (seen.length) await db.insertInto('player_audit_items').values(seen).execute();
    if (gone.length) await db.insertInto('player_audit_findings').values(gone).execute();
    await input.progress?.(playerItems, total);
  }

  const coveredIds = covered.map((l) => l.id);
  // Duplicates: every item beyond the first for one movie (the item of the current video file first,
  // then the lowest id). One row per item first (a Plex item may list several files), then numbered.
  await sql`
    insert into player_audit_findings
      (audit_id, kind, movie_id, library_id, item_id, player_path, metarr_path, keep_item_id, detail)
    select ${auditId}, 'duplicate', movie_id, library_id, item_id, player_path, metarr_path, keep,
      'the player also holds this movie as item ' || keep
    from (
      select i.*,
        row_number() over w as rn,
        first_value(item_id) over w as keep
      from (
        select distinct on (movie_id, item_id) movie_id, library_id, item_id, player_path, metarr_path, is_video
        from player_audit_items
        where audit_id = ${auditId} and movie_id is not null
        order by movie_id, item_id, is_video desc
      ) i
      window w as (partition by movie_id order by is_video desc, item_id)
    ) d
    where rn > 1`.execute(db);

  // Stale: the item's metadata is older than the last publish that changed the movie's files.
  if (library.hasUpdateDates) {
    await sql`
      insert into player_audit_findings
        (audit_id, kind, movie_id, library_id, item_id, player_path, metarr_path, detail)
      select distinct on (s.movie_id, s.item_id) ${auditId}, 'stale', s.movie_id, s.library_id, s.item_id,
        s.player_path, s.metarr_path,
        'the player last updated this item before Metarr last published the movie ('
          || to_char(p.published at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
      from player_audit_items s
      join (select movie_id, max(published_at) as published from movie_published_files group by movie_id) p
        on p.movie_id = s.movie_id
      where s.audit_id = ${auditId} and s.updated_at < date_trunc('second', p.published)
        -- a duplicate is reported (and repaired) as such, not twice
        and not exists (select 1 from player_audit_findings f
          where f.audit_id = ${auditId} and f.kind = 'duplicate' and f.item_id = s.item_id)`.execute(db);
  }

  // Missing: present movies of the audited libraries that no item (its file on disk) stands for.
  if (coveredIds.length) {
    await sql`
      insert into player_audit_findings (audit_id, kind, movie_id, library_id, metarr_path, detail)
      select ${auditId}, 'missing', m.id, m.library_id, m.path, 'Metarr has this movie; the player holds no item for it'
      from movies m
      where m.library_id in (${sql.join(coveredIds)}) and m.status = 'present'
        and not exists (select 1 from player_audit_items s where s.audit_id = ${auditId} and s.movie_id = m.id)`.execute(
      db,
    );
  }

  const matched = await db
    .selectFrom('player_audit_items')
    .select((eb) => eb.fn.count<string>('item_id').distinct().as('n'))
    .where('audit_id', '=', auditId)
    .where('movie_id', 'is not', null)
    .executeTakeFirstOrThrow();
  const counts = await db
    .selectFrom('player_audit_findings')
    .select(['kind', (eb) => eb.fn.countAll<string>().as('n')])
    .where('audit_id', '=', auditId)
    .groupBy('kind')
    .execute();
  const count = (k: string) => Number(counts.find((c) => c.kind === k)?.n ?? 0);
  const summary: AuditSummary = {
    auditId,
    playerItems,
    matched: Number(matched.n),
    outside,
    missing: count('missing'),
    gone: count('gone'),
    duplicate: count('duplicate'),
    stale: count('stale'),
    staleChecked: library.hasUpdateDates,
    notes,
  };
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('player_audit_items').where('audit_id', '=', auditId).execute();
    await trx
      .updateTable('player_audits')
      .set({
        status: 'done',
        finished_at: new Date(),
        player_items: summary.playerItems,
        matched: summary.matched,
        outside: summary.outside,
        missing: summary.missing,
        gone: summary.gone,
        duplicate: summary.duplicate,
        stale: summary.stale,
        stale_checked: summary.staleChecked,
        notes,
      })
      .where('id', '=', auditId)
      .execute();
  });
  log.info({ playerId: player.id, playerName: player.name, ...summary }, 'Player library audited');
  return summary;
}
