/**
 * SelectService — scores each artwork type's candidates and marks the winners. User-placed local
 * artwork and locked types are kept: no remote image is selected for them.
 */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { permanent } from '../errors.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import type { DiscoveredFolder } from '../media.ts';
import { movieDocument } from '../records/movies.ts';

export interface ArtworkSpec {
  width: number;
  height: number;
  limit: number;
}

/** Ideal sizes (Kodi/fanart.tv conventions) and how many of each to keep. */
export const ARTWORK_SPECS: Record<string, ArtworkSpec> = {
  poster: { width: 1000, height: 1500, limit: 1 },
  fanart: { width: 1920, height: 1080, limit: 1 },
  extrafanart: { width: 1920, height: 1080, limit: 4 },
  clearlogo: { width: 800, height: 310, limit: 1 },
  clearart: { width: 1000, height: 562, limit: 1 },
  banner: { width: 1000, height: 185, limit: 1 },
  landscape: { width: 1000, height: 562, limit: 1 },
  discart: { width: 1000, height: 1000, limit: 1 },
  keyart: { width: 1000, height: 1500, limit: 1 },
};

export interface ScoredInput {
  type: string;
  provider: string;
  language: string | null;
  width: number | null;
  height: number | null;
  votes: number;
}

/**
 * 0–100: resolution against the ideal (40), aspect ratio (15), language preferred > none > other (30),
 * votes/likes (10), provider fit (5). Text-bearing types prefer the language; fanart prefers none.
 */
export function scoreCandidate(c: ScoredInput, preferredLanguage: string): number {
  const spec = ARTWORK_SPECS[c.type] ?? ARTWORK_SPECS.poster;
  const s = spec as ArtworkSpec;
  const w = c.width ?? s.width;
  const h = c.height ?? s.height;
  const resolution = 40 * Math.min(1, (w * h) / (s.width * s.height));
  const aspectErr = Math.abs(Math.log(w / h / (s.width / s.height)));
  const aspect = 15 * Math.max(0, 1 - aspectErr * 4);
  const textless = c.type === 'fanart' || c.type === 'extrafanart';
  const lang =
    c.language === preferredLanguage ? (textless ? 20 : 30) : c.language === null ? (textless ? 30 : 20) : 0;
  const votes = 10 * Math.min(1, Math.log10(1 + Math.max(0, c.votes)) / 2);
  const fanartTypes = new Set(['clearlogo', 'clearart', 'discart', 'banner', 'landscape']);
  const provider = c.provider === 'fanart' ? (fanartTypes.has(c.type) ? 5 : 3) : 4;
  return Math.round((resolution + aspect + lang + votes + provider) * 1000) / 1000;
}

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
