import {
  type JobPayload,
  type LibrariesTable,
  permanent,
  type ScanInput,
  type ScanResult,
  scanMovieDirectories,
  scanMovieDirectory,
} from '@metarr/core';
import type { Selectable } from 'kysely';
import type { BatchJobHandler, BatchJobOutcome, JobContext, JobHandler, JobOutput } from '../context.ts';
import { providerSettingsFor } from './providers.ts';

/** How long a library scan's folders fold into one notification of the library root. */
const LIBRARY_NOTIFY_WINDOW_SECONDS = 10;

type Library = Selectable<LibrariesTable>;

function scanInput(library: Library, p: JobPayload<'scan-movie'>): ScanInput {
  return {
    libraryId: library.id,
    libraryPath: library.path,
    path: p.path,
    ...(p.tmdbId !== undefined && { tmdbId: p.tmdbId }),
    ...(p.imdbId !== undefined && { imdbId: p.imdbId }),
    ...(p.title !== undefined && { title: p.title }),
    ...(p.year !== undefined && { year: p.year }),
    ...(p.radarrId !== undefined && { radarrId: p.radarrId }),
  };
}

/** What follows a scanned folder; the single and the batch handler both decide it here. */
type FollowUp =
  | { kind: 'none'; output: JobOutput }
  | { kind: 'discover'; payload: JobPayload<'discover-assets'> }
  | { kind: 'library-root'; payload: JobPayload<'notify-players'> }
  | { kind: 'notify'; payload: JobPayload<'notify-players'> };

function followUpOf(
  p: JobPayload<'scan-movie'>,
  library: Library,
  result: ScanResult,
  tmdbKey: boolean,
): FollowUp {
  if (result.status === 'missing')
    return { kind: 'none', output: { ...result, skipped: `${p.path} does not exist` } };
  // With a TMDB key the metadata pipeline runs (discover → fetch → enrich → select → publish →
  // notify); without one there is no metadata to fetch, so a scanned folder goes straight to the players.
  // Disc folders (BDMV, VIDEO_TS) have no top-level video but are movies too: discover decides.
  if (tmdbKey && result.movieId !== null) return { kind: 'discover', payload: { movieId: result.movieId } };
  // A library scan changes many folders at once: the players rescan the library root, and every
  // folder of the scan folds into the one waiting notification (a debounce in Postgres, so it holds
  // across workers) instead of a notification per folder.
  if (p.trigger === 'library-scan') {
    return {
      kind: 'library-root',
      payload: { libraryId: library.id, path: library.path, change: 'modified' },
    };
  }
  return {
    kind: 'notify',
    payload: {
      libraryId: library.id,
      path: p.path,
      change: result.status === 'created' ? 'created' : 'modified',
      ...(result.movieId !== null && { movieId: result.movieId }),
    },
  };
}

/**
 * A folder that turned out to be a known movie's new home (Radarr moved it): the players still list
 * the movie under its old folder, so they are told that one is gone (Kodi cleans it when the group
 * allows cleaning, Jellyfin/Emby get a `Deleted` update, Plex a partial scan of its parent) while the
 * new folder is scanned as usual — one entry, not two.
 */
function oldFolderGone(library: Library, result: ScanResult): JobPayload<'notify-players'> | null {
  if (result.status !== 'moved' || !result.previousPath || result.movieId === null) return null;
  return { libraryId: library.id, path: result.previousPath, change: 'deleted', movieId: result.movieId };
}

const libraryRootCoalesce = (libraryId: number) => ({
  coalesce: {
    key: `library-scan:${libraryId}`,
    seconds: LIBRARY_NOTIFY_WINDOW_SECONDS,
    mode: 'debounce' as const,
  },
});

function outputOf(
  result: ScanResult,
  f: FollowUp,
  jobId: string | null,
  cleanJobId?: string | null,
): JobOutput {
  if (cleanJobId !== undefined) return { ...outputOf(result, f, jobId), oldFolderNotifyJobId: cleanJobId };
  switch (f.kind) {
    case 'none':
      return f.output;
    case 'discover':
      return { ...result, discoverJobId: jobId };
    case 'library-root':
      return { ...result, notifyJobId: jobId, notified: 'library root' };
    case 'notify':
      return { ...result, notifyJobId: jobId };
  }
}

export const handleScanMovie: JobHandler<'scan-movie'> = async (ctx, deps) => {
  const p = ctx.payload;
  const library = await deps.db
    .selectFrom('libraries')
    .selectAll()
    .where('id', '=', p.libraryId)
    .executeTakeFirst();
  if (!library) throw permanent('LIBRARY_NOT_FOUND', `library ${p.libraryId} no longer exists`);

  const result = await scanMovieDirectory(
    { db: ctx.db, log: ctx.log, clock: deps.clock },
    scanInput(library, p),
  );
  // The key is the one in force now (environment, else stored through the API), not the one at start.
  const tmdbKey = result.status !== 'missing' && Boolean((await providerSettingsFor(deps)).tmdbApiKey);
  const f = followUpOf(p, library, result, tmdbKey);
  if (f.kind === 'none') return f.output;
  const job =
    f.kind === 'discover'
      ? await ctx.enqueue('discover-assets', f.payload)
      : f.kind === 'library-root'
        ? await ctx.enqueue('notify-players', f.payload, libraryRootCoalesce(library.id))
        : await ctx.enqueue('notify-players', f.payload);
  const gone = oldFolderGone(library, result);
  const cleanJob = gone ? await ctx.enqueue('notify-players', gone) : undefined;
  return outputOf(result, f, job?.id ?? null, cleanJob === undefined ? undefined : (cleanJob?.id ?? null));
};

/**
 * A bulk-lane batch of `scan-movie` jobs (a library scan's fan-out): one library lookup per distinct
 * library, every folder read and every movie row written in ONE transaction (`scanMovieDirectories`),
 * fenced per job (a job whose attempt lost its lease gets nothing written and is `superseded`), the
 * follow-ups in one insert with the same deterministic ids as `ctx.enqueue`, and one coalesced
 * library-root notification per library — the same rows, jobs and outputs as running each job alone.
 */
export const handleScanMovieBatch: BatchJobHandler<'scan-movie'> = async (batch, deps) => {
  const jobs = batch.jobs;
  const out: BatchJobOutcome[] = jobs.map(() => ({ status: 'superseded' }));
  const ids = [...new Set(jobs.map((j) => j.payload.libraryId))];
  const rows = await deps.db.selectFrom('libraries').selectAll().where('id', 'in', ids).execute();
  const libraries = new Map(rows.map((l) => [l.id, l]));

  const scanned: number[] = [];
  for (const [i, j] of jobs.entries()) {
    if (libraries.has(j.payload.libraryId)) scanned.push(i);
    else {
      const error = permanent('LIBRARY_NOT_FOUND', `library ${j.payload.libraryId} no longer exists`);
      out[i] = { status: 'failed', error };
    }
  }
  const libraryOf = (i: number) =>
    libraries.get((jobs[i] as JobContext<'scan-movie'>).payload.libraryId) as Library;
  const outcomes = await scanMovieDirectories(
    { db: deps.db, log: deps.log, clock: deps.clock },
    scanned.map((i) => scanInput(libraryOf(i), (jobs[i] as JobContext<'scan-movie'>).payload)),
    {
      fenceEach: async (trx) => {
        const live = await batch.fence(trx);
        return new Set(
          scanned.flatMap((i, k) => (live.has((jobs[i] as JobContext<'scan-movie'>).id) ? [k] : [])),
        );
      },
    },
  );

  const tmdbKey = outcomes.some((o) => o.status === 'scanned' && o.result.status !== 'missing')
    ? Boolean((await providerSettingsFor(deps)).tmdbApiKey)
    : false;
  type Done = { i: number; result: ScanResult; f: FollowUp };
  const done: Done[] = [];
  for (const [k, o] of outcomes.entries()) {
    const i = scanned[k] as number;
    if (o.status === 'error') out[i] = { status: 'failed', error: o.error };
    else if (o.status === 'fenced') out[i] = { status: 'superseded' };
    else {
      const j = jobs[i] as JobContext<'scan-movie'>;
      done.push({ i, result: o.result, f: followUpOf(j.payload, libraryOf(i), o.result, tmdbKey) });
    }
  }

  const jobIds = new Map<number, string | null>();
  // Library-root notifications: one enqueue per library per batch (the rest would fold into it).
  // Should that job's enqueue fail (its lease lost, say), the next job of the library tries.
  const roots = new Map<number, Done[]>();
  for (const d of done) {
    if (d.f.kind !== 'library-root') continue;
    const id = libraryOf(d.i).id;
    roots.set(id, [...(roots.get(id) ?? []), d]);
  }
  for (const [libraryId, list] of roots) {
    for (const d of list) {
      if (d.f.kind !== 'library-root') continue;
      try {
        const job = await (jobs[d.i] as JobContext<'scan-movie'>).enqueue(
          'notify-players',
          d.f.payload,
          libraryRootCoalesce(libraryId),
        );
        jobIds.set(d.i, job?.id ?? null);
        break;
      } catch (error) {
        out[d.i] = { status: 'failed', error };
      }
    }
  }
  // Discover and per-folder notifications: one insert per type.
  const discover: { d: Done; payload: JobPayload<'discover-assets'> }[] = [];
  const notify: { d: Done; payload: JobPayload<'notify-players'> }[] = [];
  for (const d of done) {
    if (d.f.kind === 'discover') discover.push({ d, payload: d.f.payload });
    if (d.f.kind === 'notify') notify.push({ d, payload: d.f.payload });
  }
  const parent = (d: Done) => jobs[d.i] as JobContext<'scan-movie'>;
  if (discover.length) {
    const sent = await batch.enqueueFollowUps(
      'discover-assets',
      discover.map((x) => ({ parent: parent(x.d), payload: x.payload })),
    );
    for (const [k, x] of discover.entries()) jobIds.set(x.d.i, sent[k]?.id ?? null);
  }
  if (notify.length) {
    const sent = await batch.enqueueFollowUps(
      'notify-players',
      notify.map((x) => ({ parent: parent(x.d), payload: x.payload })),
    );
    for (const [k, x] of notify.entries()) jobIds.set(x.d.i, sent[k]?.id ?? null);
  }
  const cleanIds = new Map<number, string | null>();
  const cleans = done.flatMap((d) => {
    const payload = oldFolderGone(libraryOf(d.i), d.result);
    return payload ? [{ d, payload }] : [];
  });
  if (cleans.length) {
    const sent = await batch.enqueueFollowUps(
      'notify-players',
      cleans.map((x) => ({ parent: parent(x.d), payload: x.payload })),
    );
    for (const [k, x] of cleans.entries()) cleanIds.set(x.d.i, sent[k]?.id ?? null);
  }
  for (const d of done) {
    if (out[d.i]?.status === 'failed') continue;
    const output = outputOf(d.result, d.f, jobIds.get(d.i) ?? null, cleanIds.get(d.i));
    out[d.i] = { status: 'completed', output };
  }
  return out;
};
