/** The poster grid (virtualized, see grid.tsx): search, sort, filters. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, BASE, type MovieFilter } from '../api.ts';
import { onLinkClick } from '../router.ts';
import type { Movie, MovieSort } from '../types.ts';
import { ApiImage, movieName } from './common.tsx';
import { cardIndex, useDebounced, VirtualGrid } from './grid.tsx';

export function MoviesView() {
  const params = new URLSearchParams(location.search);
  const [search, setSearch] = useState(params.get('q') ?? '');
  const [sort, setSort] = useState<MovieSort>((params.get('sort') as MovieSort) || 'title');
  const [filter, setFilter] = useState<MovieFilter | ''>((params.get('filter') as MovieFilter) || '');
  const [libraryId, setLibraryId] = useState(params.get('library') ?? '');
  const [libraries, setLibraries] = useState<{ id: number; name: string }[]>([]);
  // No library at all: a new install, offered the first-run wizard.
  const [noLibrary, setNoLibrary] = useState(false);
  useEffect(() => {
    api.libraries().then(
      (all) => {
        setLibraries(all.filter((l) => l.type === 'movie'));
        setNoLibrary(all.length === 0);
      },
      () => {},
    );
  }, []);
  const q = useDebounced(search.trim(), 200);
  const [movies, setMovies] = useState<Movie[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // An empty, unfiltered list (a new install) is read again every 3 s, so the first movies Radarr
  // sends appear without a reload. A list with movies is not polled (it may be thousands).
  const [tick, setTick] = useState(0);
  const empty = movies?.length === 0 && !q && !filter && !libraryId;
  useEffect(() => {
    if (!empty) return;
    const t = setTimeout(() => setTick((n) => n + 1), 3000);
    return () => clearTimeout(t);
  }, [empty, tick]);

  useEffect(() => {
    let live = true;
    // Keep the view's state in the address (shareable, and Back returns to it).
    const u = new URLSearchParams();
    if (q) u.set('q', q);
    if (sort !== 'title') u.set('sort', sort);
    if (filter) u.set('filter', filter);
    if (libraryId) u.set('library', libraryId);
    history.replaceState(history.state, '', `${BASE}/movies${u.size ? `?${u}` : ''}`);
    api
      .movies(
        {
          ...(q && { q }),
          sort,
          ...(filter && { filter }),
          ...(libraryId && { libraryId: Number(libraryId) }),
        },
        (list) => {
          if (!live) return false;
          setMovies(list);
          setError(null);
          return true;
        },
      )
      .catch((err: unknown) => {
        if (live && !(err instanceof ApiError && err.status === 401)) setError(String(err));
      });
    return () => {
      live = false;
    };
  }, [q, sort, filter, libraryId, tick]);

  return (
    <section class="movies">
      <h1 tabIndex={-1}>Movies</h1>
      {noLibrary && !movies?.length && (
        <p class="setup-offer">
          No library yet.{' '}
          <a href={`${BASE}/setup`} onClick={(e) => onLinkClick(e, '/setup')}>
            Set up Metarr
          </a>
        </p>
      )}
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
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as MovieSort)}>
            <option value="title">Title</option>
            <option value="year">Year</option>
            <option value="added">Recently added</option>
          </select>
        </label>
        <label>
          Show
          <select value={filter} onChange={(e) => setFilter(e.currentTarget.value as MovieFilter | '')}>
            <option value="">All movies</option>
            <option value="no-metadata">Missing metadata</option>
            <option value="locked">With locked fields</option>
          </select>
        </label>
        {libraries.length > 1 && (
          <label>
            Library
            <select value={libraryId} onChange={(e) => setLibraryId(e.currentTarget.value)}>
              <option value="">All libraries</option>
              {libraries.map((l) => (
                <option key={l.id} value={String(l.id)}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <span role="status" class="count">
          {movies ? `${movies.length} movie${movies.length === 1 ? '' : 's'}` : 'Loading…'}
        </span>
      </div>
      {error && <p role="alert">{error}</p>}
      {movies && movies.length === 0 && (
        <p class="empty">
          {q || filter || libraryId
            ? 'No movie matches.'
            : 'No movies yet. Add a library, or send a webhook from Radarr.'}
        </p>
      )}
      {movies && movies.length > 0 && <Grid movies={movies} />}
    </section>
  );
}

const ROW_H = 290;

function Grid({ movies }: { movies: Movie[] }) {
  return (
    <VirtualGrid
      items={movies}
      label="Movies"
      rowHeight={ROW_H}
      card={(m, i) => (
        <a
          href={`${BASE}/movies/${m.id}`}
          {...cardIndex(i)}
          onClick={(e) => onLinkClick(e, `/movies/${m.id}`)}
        >
          <ApiImage movieId={m.id} type="poster" width={154} alt="" class="thumb" />
          <span class="name">{movieName(m)}</span>
        </a>
      )}
    />
  );
}
