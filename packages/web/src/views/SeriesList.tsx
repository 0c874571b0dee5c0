/**
 * The series grid: the Movies view's patterns (VirtualGrid, search, sort, state in the address) over
 * `GET /api/series`. No poster yet (series artwork is not served by the API): a card shows its
 * counts instead, and its placeholder episodes as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, BASE, type SeriesFilter, tv } from '../api.ts';
import { onLinkClick } from '../router.ts';
import type { SeriesListItem, SeriesSort } from '../types.ts';
import { movieName as seriesName } from './common.tsx';
import { cardIndex, useDebounced, VirtualGrid } from './grid.tsx';

const ROW_H = 300;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function SeriesListView() {
  const params = new URLSearchParams(location.search);
  const [search, setSearch] = useState(params.get('q') ?? '');
  const [sort, setSort] = useState<SeriesSort>((params.get('sort') as SeriesSort) || 'title');
  const [filter, setFilter] = useState<SeriesFilter | ''>((params.get('filter') as SeriesFilter) || '');
  const q = useDebounced(search.trim(), 200);
  const [series, setSeries] = useState<SeriesListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const u = new URLSearchParams();
    if (q) u.set('q', q);
    if (sort !== 'title') u.set('sort', sort);
    if (filter) u.set('filter', filter);
    history.replaceState(history.state, '', `${BASE}/series${u.size ? `?${u}` : ''}`);
    tv.list({ ...(q && { q }), sort, ...(filter && { filter }) }, (list) => {
      if (!live) return false;
      setSeries(list);
      setError(null);
      return true;
    }).catch((err: unknown) => {
      if (live && !(err instanceof ApiError && err.status === 401)) setError(String(err));
    });
    return () => {
      live = false;
    };
  }, [q, sort, filter]);

  return (
    <section class="movies">
      <h1 tabIndex={-1}>Series</h1>
      <div class="toolbar">
        <label>
          Search
          <input
            type="search"
            value={search}
            placeholder="Title"
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
        <label>
          Sort by
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as SeriesSort)}>
            <option value="title">Title</option>
            <option value="year">Year</option>
            <option value="added">Recently added</option>
          </select>
        </label>
        <label>
          Show
          <select value={filter} onChange={(e) => setFilter(e.currentTarget.value as SeriesFilter | '')}>
            <option value="">All series</option>
            <option value="placeholders">With placeholder episodes</option>
            <option value="locked">With locked fields</option>
          </select>
        </label>
        <span role="status" class="count">
          {series ? `${series.length} series` : 'Loading…'}
        </span>
      </div>
      {error && <p role="alert">{error}</p>}
      {series && series.length === 0 && (
        <p class="empty">
          {q || filter
            ? 'No series matches.'
            : 'No series yet. Add a tv library, or send a webhook from Sonarr.'}
        </p>
      )}
      {series && series.length > 0 && (
        <VirtualGrid
          items={series}
          label="Series"
          rowHeight={ROW_H}
          card={(s, i) => (
            <>
              <a
                href={`${BASE}/series/${s.id}`}
                {...cardIndex(i)}
                aria-describedby={`series-counts-${s.id}`}
                onClick={(e) => onLinkClick(e, `/series/${s.id}`)}
              >
                <span class="noimage tile" aria-hidden="true">
                  {plural(s.counts.seasons, 'season')}
                  <br />
                  {plural(s.counts.episodes, 'episode')}
                </span>
                <span class="name">{seriesName(s)}</span>
              </a>
              <span id={`series-counts-${s.id}`} class="meta-line">
                {s.counts.placeholders > 0 ? (
                  <span class="badge">{plural(s.counts.placeholders, 'placeholder')}</span>
                ) : (
                  plural(s.counts.files, 'file')
                )}
              </span>
            </>
          )}
        />
      )}
    </section>
  );
}
