/**
 * SelectService — scores each artwork type's candidates and marks the winners. User-placed local
 * artwork and locked types are kept: no remote image is selected for them.
 */
import { sql } from 'kysely';
import { ARTWORK_SPECS, scoreCandidate } from '../artwork.ts';
import type { Db } from '../db/connect.ts';
import { permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import type { DiscoveredFolder } from '../media.ts';
import { movieDocument } from '../records/movies.ts';

export { ARTWORK_SPECS, type ArtworkSpec, type ScoredInput, scoreCandidate } from '../artwork.ts';

export async function selectMovieAssets(
  deps: { db: Db; log: Logger; fence?: Fence },
  movieId: number,
  opts: { language: string; limits?: Partial<Record<string, number>> },
): Promise<{ movieId: number; selected: Record<string, number>; keptLocal: string[]; locked: string[] }> {
  const log = deps.log.child({ service: 'SelectService', operation: 'selectMovieAssets', movieId });
  const movie = await deps.db.selectFrom('movies').select('id').where('id', '=', movieId).executeTakeFirst();
  if (!movie) throw permanent('MOVIE_NOT_FOUND', `movie ${movieId} does not exist`);
  const discovery = await movieDocument<DiscoveredFolder>(deps.db, 'movie_discovery', movieId);
  const published = await deps.db
    .selectFrom('movie_published_files')
    .select(['file', 'kind', 'source_url'])
    .where('movie_id', '=', movieId)
    .execute();
  const ours = new Set(published.map((r) => r.file));
  /** The image a kind was last published from (a locked kind keeps it). */
  const publishedSource = new Map(published.map((r) => [r.kind, r.source_url]));
  const locks = new Set(
    (
      await deps.db.selectFrom('movie_field_locks').select('field').where('movie_id', '=', movieId).execute()
    ).map((r) => r.field),
  );
  // Local artwork Metarr did not write is the user's: it stays, and that type gets no download.
  const userTypes = new Set(
    (discovery?.artwork ?? []).filter((a) => !ours.has(a.file)).map((a) => a.type as string),
  );
  const candidates = await deps.db
    .selectFrom('movie_asset_candidates')
    .selectAll()
    .where('movie_id', '=', movieId)
    .orderBy('id')
    .execute();

  const byType = new Map<string, typeof candidates>();
  for (const c of candidates) {
    const list = byType.get(c.type) ?? [];
    list.push(c);
    byType.set(c.type, list);
  }
  // Fanart candidates beyond the main one feed extrafanart.
  const updates: { id: number; score: number; rank: number; selected: boolean }[] = [];
  const selected: Record<string, number> = {};
  const keptLocal: string[] = [];
  const locked: string[] = [];
  for (const [type, list] of byType) {
    const scored = list
      .map((c) => ({ c, score: scoreCandidate({ ...c, votes: Number(c.votes) }, opts.language) }))
      .sort((a, b) => b.score - a.score || a.c.url.localeCompare(b.c.url));
    const kept = (t: string) => userTypes.has(t) || locks.has(t);
    // A locked type keeps the image it was published from (the user's choice) at rank 0: it is not
    // downloaded again, and for fanart it is not offered once more as an extrafanart.
    const source = locks.has(type) ? publishedSource.get(type) : undefined;
    const keep = source ? scored.findIndex((x) => x.c.url === source) : -1;
    if (keep > 0) scored.unshift(...scored.splice(keep, 1));
    if (userTypes.has(type)) keptLocal.push(type);
    if (locks.has(type)) locked.push(type);
    // Fanart rank 0 is the main fanart; ranks 1..N become extrafanart, each kept or locked on its own.
    const extraN = opts.limits?.extrafanart ?? ARTWORK_SPECS.extrafanart?.limit ?? 0;
    const limit = opts.limits?.[type] ?? ARTWORK_SPECS[type]?.limit ?? 1;
    const pick = (i: number) =>
      type === 'fanart'
        ? (i === 0 && !kept('fanart')) || (i >= 1 && i <= extraN && !kept('extrafanart'))
        : !kept(type) && i < limit;
    let n = 0;
    scored.forEach((s, i) => {
      const sel = pick(i);
      if (sel) n++;
      updates.push({ id: s.c.id, score: s.score, rank: i, selected: sel });
    });
    selected[type] = n;
  }
  if (updates.length) {
    // One statement for all candidates: a per-row UPDATE loop dominated this job's time.
    const values = sql.join(
      updates.map((u) => sql`(${u.id}::int, ${u.score}::float8, ${u.rank}::int, ${u.selected}::boolean)`),
    );
    await fencedWrite(deps.db, deps.fence, (trx) =>
      sql`
      update movie_asset_candidates c set score = v.score, rank = v.rank, selected = v.selected
      from (values ${values}) as v(id, score, rank, selected)
      where c.id = v.id`.execute(trx),
    );
  }
  log.info({ selected, keptLocal, locked }, 'Artwork selected');
  return { movieId, selected, keptLocal, locked };
}
