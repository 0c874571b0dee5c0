import nodeFs from 'node:fs/promises';
import { mapLimit } from '../async.ts';
import type { Db } from '../db/connect.ts';
import { type Fence, fencedWrite } from '../fence.ts';
import type { Logger } from '../log.ts';
import { type FolderProbe, probeFolder, resolveRoot, type ScanFs } from '../scan/probe.ts';
import { type BatchItem, recordScan, recordScans, type ScanInput, type ScanResult } from '../scan/record.ts';

/**
 * ScanService — reads one movie folder and records what it found (reading: scan/probe.ts;
 * writing: scan/record.ts).
 */

export { findMainVideo, type ScanFs } from '../scan/probe.ts';
export type { ScanInput, ScanResult, ScanStatus } from '../scan/record.ts';

export interface ScanDeps {
  db: Db;
  fs?: ScanFs;
  log: Logger;
  clock?: () => Date;
  /** The job attempt's write fence (see fence.ts); the single scan's writes run behind it. */
  fence?: Fence;
}

export async function scanMovieDirectory(deps: ScanDeps, input: ScanInput): Promise<ScanResult> {
  const fs = deps.fs ?? nodeFs;
  const now = (deps.clock ?? (() => new Date()))();
  const log = deps.log.child({ service: 'ScanService', operation: 'scanMovieDirectory' });
  log.info({ libraryId: input.libraryId, path: input.path }, 'Starting movie scan');
  const probe = await probeFolder(fs, input, resolveRoot(fs));
  // The movie is recorded under the folder's own spelling, as a library scan lists it.
  const at = { ...input, path: probe.path };
  if (!deps.fence) return recordScan(deps.db, log, now, at, probe);
  return fencedWrite(deps.db, deps.fence, (trx) => recordScan(trx, log, now, at, probe));
}

export type ScanBatchOutcome =
  | { status: 'scanned'; result: ScanResult }
  /** This folder's read failed (e.g. PATH_OUTSIDE_LIBRARY); nothing was written for it. */
  | { status: 'error'; error: unknown }
  /** `fenceEach` withheld it: nothing was written for it. */
  | { status: 'fenced' };

export interface ScanBatchOptions {
  /**
   * Runs first inside the batch's transaction, before any write; resolves with the indexes of the
   * inputs that may still be written (a caller fencing stale job attempts locks their rows here).
   */
  fenceEach?: (trx: Db) => Promise<ReadonlySet<number>>;
}

/** Folders read at once by a batch. */
const BATCH_FS_CONCURRENCY = 32;

/**
 * Many folders at once (a bulk batch of a library scan's `scan-movie` jobs): the same reads and the
 * same rows as `scanMovieDirectory` on each input in order, but one transaction for the batch, a
 * handful of set-based statements instead of 2–4 per folder. Inputs that could affect each other
 * (one path twice, a TMDB/Radarr id shared within the batch, a move onto a row another input
 * updates) are recorded one by one, in order, inside the same transaction, exactly as single scans.
 */
export async function scanMovieDirectories(
  deps: ScanDeps,
  inputs: ScanInput[],
  opts: ScanBatchOptions = {},
): Promise<ScanBatchOutcome[]> {
  const fs = deps.fs ?? nodeFs;
  const now = (deps.clock ?? (() => new Date()))();
  const log = deps.log.child({ service: 'ScanService', operation: 'scanMovieDirectories' });
  const started = Date.now();
  const realRoot = resolveRoot(fs);
  const probes = await mapLimit(inputs, BATCH_FS_CONCURRENCY, (input) =>
    probeFolder(fs, input, realRoot).then(
      (ok): { ok: FolderProbe } | { error: unknown } => ({ ok }),
      (error: unknown) => ({ error }),
    ),
  );

  const out: ScanBatchOutcome[] = probes.map((p) =>
    'error' in p ? { status: 'error', error: p.error } : { status: 'fenced' },
  );
  await deps.db.transaction().execute(async (trx) => {
    await deps.fence?.(trx);
    const allowed = opts.fenceEach ? await opts.fenceEach(trx) : null;
    const items: BatchItem[] = [];
    for (const [i, p] of probes.entries()) {
      if ('ok' in p && (allowed === null || allowed.has(i))) {
        items.push({ index: i, input: { ...(inputs[i] as ScanInput), path: p.ok.path }, probe: p.ok });
      }
    }
    const results = await recordScans(trx, log, now, items);
    for (const [k, item] of items.entries()) {
      out[item.index] = { status: 'scanned', result: results[k] as ScanResult };
    }
  });
  const count = (s: string) => out.filter((o) => o.status === 'scanned' && o.result.status === s).length;
  log.info(
    {
      folders: inputs.length,
      created: count('created'),
      updated: count('updated'),
      moved: count('moved'),
      missing: count('missing'),
      failed: out.filter((o) => o.status === 'error').length,
      fenced: out.filter((o) => o.status === 'fenced').length,
      durationMs: Date.now() - started,
    },
    'Movie batch scan completed',
  );
  return out;
}
