import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { BASE, getKey, initKey, onKeyChange, setKey } from './api.ts';
import { onLinkClick, usePath } from './router.ts';
import { MovieView } from './views/Movie.tsx';
import { MoviesView } from './views/Movies.tsx';
import { SeriesDetailView } from './views/SeriesDetail.tsx';
import { SeriesListView } from './views/SeriesList.tsx';
import { SettingsView } from './views/Settings.tsx';
import { SetupView } from './views/Setup.tsx';
import './style.css';

function KeyForm({ reason }: { reason: string }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        const value = input.current?.value.trim();
        if (value) setKey(value);
      }}
    >
      <p role="status">{reason}</p>
      <label for="key-input">API key</label>
      <input id="key-input" ref={input} type="password" autocomplete="off" spellcheck={false} required />
      <button type="submit">Open</button>
      <p class="hint">
        Kept for this browser tab only (sessionStorage). Printed at first start, or run{' '}
        <code>pnpm metarr api-key</code>.
      </p>
    </form>
  );
}

function App() {
  const path = usePath();
  const [keyNeeded, setKeyNeeded] = useState<string | null>(getKey() ? null : 'API key needed');
  useEffect(() => onKeyChange(setKeyNeeded), []);
  // Focus the new view's heading on navigation, so keyboard and screen-reader users land in it.
  const main = useRef<HTMLElement>(null);
  useEffect(() => main.current?.querySelector<HTMLElement>('h1')?.focus(), [path]);

  const movie = /^\/movies\/(\d+)\/?$/.exec(path);
  const series = /^\/series\/(\d+)\/?$/.exec(path);
  let view = <MoviesView />;
  if (movie) view = <MovieView id={Number(movie[1])} key={movie[1]} />;
  else if (series) view = <SeriesDetailView id={Number(series[1])} key={series[1]} />;
  else if (/^\/series\/?$/.test(path)) view = <SeriesListView />;
  else if (/^\/settings\/?$/.test(path)) view = <SettingsView />;
  else if (/^\/setup\/?$/.test(path)) view = <SetupView />;
  else if (!/^\/movies\/?$/.test(path)) view = <p>Nothing here. </p>;

  return (
    <>
      <header class="top">
        <span class="brand">Metarr</span>
        <nav aria-label="Main">
          <a href={`${BASE}/movies`} onClick={(e) => onLinkClick(e, '/movies')}>
            Movies
          </a>
          <a href={`${BASE}/series`} onClick={(e) => onLinkClick(e, '/series')}>
            Series
          </a>
          <a href={`${BASE}/settings`} onClick={(e) => onLinkClick(e, '/settings')}>
            Settings
          </a>
          {/* The jobs page is its own page (no client routing). */}
          <a href={`${BASE}/`}>Jobs</a>
        </nav>
      </header>
      <main ref={main}>{keyNeeded ? <KeyForm reason={keyNeeded} /> : view}</main>
    </>
  );
}

initKey();
render(<App />, document.getElementById('app')!);
