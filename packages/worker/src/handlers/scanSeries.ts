import { permanent, scanSeries } from '@metarr/core';
import type { JobHandler } from '../context.ts';
import { providerSettingsFor } from './providers.ts';

/** How long a library scan's series fold into one notification of the library root (as movies). */
const LIBRARY_NOTIFY_WINDOW_SECONDS = 10;

/**
 * Records one series folder (seasons, episodes, files). A webhook's players were already told by the
 * webhook job (as before TV was scanned); a library scan's changed series fold into one coalesced
 * notification of the library root, as a movie library scan's folders do.
 */
export const handleScanSeries: JobHandler<'scan-series'> = async (ctx, deps) => {
  const p = ctx.payload;
  const library = await deps.db
    .selectFrom('libraries')
    .selectAll()
    .where('id', '=', p.libraryId)
    .executeTakeFirst();
  if (!library) throw permanent('LIBRARY_NOT_FOUND', `library ${p.libraryId} no longer exists`);
  if (library.type !== 'tv')
    throw permanent('NOT_A_TV_LIBRARY', `library "${library.name}" is a ${library.type} library, not tv`);

  const result = await scanSeries(
    { db: ctx.db, log: ctx.log, clock: deps.clock },
    {
      libraryId: library.id,
      libraryPath: library.path,
      path: p.path,
      ...(p.tmdbId !== undefined && { tmdbId: p.tmdbId }),
      ...(p.tvdbId !== undefined && { tvdbId: p.tvdbId }),
      ...(p.imdbId !== undefined && { imdbId: p.imdbId }),
      ...(p.title !== undefined && { title: p.title }),
      ...(p.year !== undefined && { year: p.year }),
      ...(p.sonarrId !== undefined && { sonarrId: p.sonarrId }),
      ...(p.eventType === 'SeriesDelete' && { removed: true }),
    },
  );
  let output: Record<string, unknown> = { ...result, unparseable: result.unparseable.length };
  // With a TMDB key, a recorded series (new or changed, or any a webhook names) gets its metadata:
  // enrich-metadata on the media item {kind: "series", id}.
  const present = result.status !== 'missing' && result.status !== 'removed' && result.seriesId !== null;
  const worthEnriching = present && (result.status !== 'unchanged' || p.trigger !== 'library-scan');
  if (worthEnriching && (await providerSettingsFor(deps)).tmdbApiKey) {
    const next = await ctx.enqueue('enrich-metadata', { kind: 'series', id: result.seriesId as number });
    output = { ...output, enrichJobId: next?.id ?? null };
  }
  if (p.trigger !== 'library-scan' || result.status === 'unchanged' || result.status === 'removed')
    return output;
  const job = await ctx.enqueue(
    'notify-players',
    { libraryId: library.id, path: library.path, change: 'modified' },
    {
      coalesce: {
        key: `library-scan:${library.id}`,
        seconds: LIBRARY_NOTIFY_WINDOW_SECONDS,
        mode: 'debounce',
      },
    },
  );
  return { ...output, notifyJobId: job?.id ?? null, notified: 'library root' };
};
