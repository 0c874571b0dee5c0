/** Counters of provider API requests per provider and outcome, shared by every worker (for `/metrics`). */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { AppError } from '../errors.ts';

/**
 * One request's outcome as `/metrics` labels it: `cache_hit` (answered by the shared cache, no
 * request sent), `2xx`, the HTTP status of any other answer (`404`, `429`, `503` …), or `error` when
 * none came (timeout, reset, refused connection).
 */
export function providerOutcome(err: unknown): string {
  const status = err instanceof AppError ? err.details?.status : undefined;
  return typeof status === 'number' ? String(status) : 'error';
}

/** Outcomes seen during one piece of work, written in one statement when it ends. */
export class ProviderRequestTally {
  readonly #counts = new Map<string, { provider: string; status: string; n: number }>();
  add(provider: string, status: string): void {
    const k = `${provider}\t${status}`;
    const c = this.#counts.get(k);
    if (c) c.n++;
    else this.#counts.set(k, { provider, status, n: 1 });
  }
  entries(): { provider: string; status: string; n: number }[] {
    return [...this.#counts.values()];
  }
}

/** Adds a tally to the shared counters (one upsert; counters only ever grow). */
export async function addProviderRequestCounts(db: Db, tally: ProviderRequestTally): Promise<void> {
  const rows = tally.entries();
  if (!rows.length) return;
  const values = sql.join(rows.map((r) => sql`(${r.provider}, ${r.status}, ${r.n}::bigint)`));
  await sql`
    insert into provider_request_counts (provider, status, n) values ${values}
    on conflict (provider, status) do update set n = provider_request_counts.n + excluded.n`.execute(db);
}

export async function providerRequestCounts(
  db: Db,
): Promise<{ provider: string; status: string; n: number }[]> {
  const rows = await db
    .selectFrom('provider_request_counts')
    .select(['provider', 'status', 'n'])
    .orderBy('provider')
    .orderBy('status')
    .execute();
  return rows.map((r) => ({ provider: r.provider, status: r.status, n: Number(r.n) }));
}
