import type { Db } from '../db/connect.ts';
import type { AuditFindingKind } from '../db/schema.ts';

/** Player audits (issue 16): one row per audit, its findings in their own table, read in pages. */

export interface PlayerAuditRecord {
  id: number;
  playerId: number;
  jobId: string | null;
  repair: boolean;
  status: 'running' | 'done' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  playerItems: number;
  matched: number;
  outside: number;
  counts: Record<AuditFindingKind, number>;
  staleChecked: boolean;
  notes: string[];
  error: string | null;
}

export interface AuditFinding {
  id: string;
  kind: AuditFindingKind;
  movieId: number | null;
  libraryId: number | null;
  itemId: string | null;
  keepItemId: string | null;
  playerPath: string | null;
  metarrPath: string | null;
  /** The folder of the movie the finding is about (Metarr form), when it is one of Metarr's. */
  moviePath: string | null;
  detail: string;
}

/**
 * A new running audit of a player. An earlier attempt of the same job (a retry) leaves its rows,
 * which are removed first, so a job has one audit. Only the audit before this one is kept besides
 * it (the last report stays readable while this one runs): findings do not pile up.
 */
export async function startPlayerAudit(
  db: Db,
  input: { playerId: number; jobId: string; repair: boolean },
): Promise<number> {
  await db.deleteFrom('player_audits').where('job_id', '=', input.jobId).execute();
  const row = await db
    .insertInto('player_audits')
    .values({ player_id: input.playerId, job_id: input.jobId, repair: input.repair, status: 'running' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const previous = await db
    .selectFrom('player_audits')
    .select('id')
    .where('player_id', '=', input.playerId)
    .where('id', '<', row.id)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (previous)
    await db
      .deleteFrom('player_audits')
      .where('player_id', '=', input.playerId)
      .where('id', '<', previous.id)
      .execute();
  return row.id;
}

export async function failPlayerAudit(db: Db, id: number, error: string): Promise<void> {
  await db
    .updateTable('player_audits')
    .set({ status: 'failed', finished_at: new Date(), error: error.slice(0, 1000) })
    .where('id', '=', id)
    .execute();
  await db.deleteFrom('player_audit_items').where('audit_id', '=', id).execute();
}

/** The player's latest audit (whatever its state), or undefined when it was never audited. */
export async function lastPlayerAudit(db: Db, playerId: number): Promise<PlayerAuditRecord | undefined> {
  const r = await db
    .selectFrom('player_audits')
    .selectAll()
    .where('player_id', '=', playerId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!r) return undefined;
  return {
    id: r.id,
    playerId: r.player_id,
    jobId: r.job_id,
    repair: r.repair,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    playerItems: r.player_items,
    matched: r.matched,
    outside: r.outside,
    counts: { missing: r.missing, gone: r.gone, duplicate: r.duplicate, stale: r.stale },
    staleChecked: r.stale_checked,
    notes: r.notes,
    error: r.error,
  };
}

/** One page of an audit's findings (oldest first), with how many there are in all for the filter. */
export async function playerAuditFindings(
  db: Db,
  auditId: number,
  q: { kind?: AuditFindingKind | undefined; limit: number; offset: number; afterId?: string | undefined },
): Promise<{ total: number; findings: AuditFinding[] }> {
  let base = db.selectFrom('player_audit_findings').where('audit_id', '=', auditId);
  if (q.kind) base = base.where('kind', '=', q.kind);
  const [count, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    (q.afterId ? base.where('id', '>', q.afterId) : base)
      .leftJoin('movies as m', 'm.id', 'player_audit_findings.movie_id')
      .selectAll('player_audit_findings')
      .select('m.path as movie_path')
      .orderBy('player_audit_findings.id')
      .limit(q.limit)
      .offset(q.offset)
      .execute(),
  ]);
  return {
    total: Number(count.n),
    findings: rows.map((f) => ({
      id: String(f.id),
      kind: f.kind,
      movieId: f.movie_id,
      libraryId: f.library_id,
      itemId: f.item_id,
      keepItemId: f.keep_item_id,
      playerPath: f.player_path,
      metarrPath: f.metarr_path,
      moviePath: f.movie_path,
      detail: f.detail,
    })),
  };
}
