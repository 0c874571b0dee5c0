/**
 * One movie: its published poster and fanart, the metadata form (saving locks the fields sent and
 * re-publishes), per-field locks, the artwork candidates per type, identify, the files Metarr wrote
 * and the movie's jobs. Every text from the server is rendered as text (Preact never sets innerHTML
 * from data).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, BASE, type MetadataEdit } from '../api.ts';
import { onLinkClick } from '../router.ts';
import type {
  Candidate,
  EditableField,
  IdentifyMatch,
  JobSummary,
  MovieDetail,
  PublishedFile,
} from '../types.ts';
import { ApiImage, movieName } from './common.tsx';

type Kind = 'text' | 'long' | 'int' | 'list';
const FIELDS: { field: EditableField; label: string; kind: Kind }[] = [
  { field: 'title', label: 'Title', kind: 'text' },
  { field: 'originalTitle', label: 'Original title', kind: 'text' },
  { field: 'sortTitle', label: 'Sort title', kind: 'text' },
  { field: 'tagline', label: 'Tagline', kind: 'text' },
  { field: 'plot', label: 'Plot', kind: 'long' },
  { field: 'outline', label: 'Outline', kind: 'long' },
  { field: 'year', label: 'Year', kind: 'int' },
  { field: 'premiered', label: 'Premiered', kind: 'text' },
  { field: 'runtime', label: 'Runtime (minutes)', kind: 'int' },
  { field: 'certification', label: 'Certification', kind: 'text' },
  { field: 'genres', label: 'Genres', kind: 'list' },
  { field: 'countries', label: 'Countries', kind: 'list' },
  { field: 'studios', label: 'Studios', kind: 'list' },
  { field: 'directors', label: 'Directors', kind: 'list' },
  { field: 'writers', label: 'Writers', kind: 'list' },
];

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

function toInput(kind: Kind, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (kind === 'list') return Array.isArray(v) ? v.join(', ') : '';
  return String(v);
}

function fromInput(kind: Kind, s: string): unknown {
  const t = s.trim();
  if (kind === 'list')
    return t
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  if (kind === 'int') return t === '' ? null : Number(t);
  return t === '' ? null : t;
}

interface Loaded {
  movie: MovieDetail;
  candidates: Candidate[];
  files: PublishedFile[];
}

export function MovieView({ id }: { id: number }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [version, setVersion] = useState(0);

  const load = useCallback(async () => {
    const [movie, art, files] = await Promise.all([api.movie(id), api.artwork(id), api.files(id)]);
    setData({ movie, candidates: art.candidates, files: files.files });
    return files.files;
  }, [id]);

  useEffect(() => {
    load().catch((err: unknown) => {
      if (!(err instanceof ApiError && err.status === 401))
        setError(err instanceof Error ? err.message : String(err));
    });
  }, [load]);

  /** After a change is queued: reload until the files Metarr wrote change (or 20 s pass). */
  const polling = useRef(0);
  const reloadUntilPublished = useCallback(
    async (message: string) => {
      setStatus(message);
      const run = ++polling.current;
      const before = JSON.stringify(data?.files.map((f) => [f.file, f.hash]) ?? []);
      for (let i = 0; i < 40 && run === polling.current; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const files = await api.files(id).catch(() => null);
        if (files && JSON.stringify(files.files.map((f) => [f.file, f.hash])) !== before) {
          api.forgetImages(id);
          await load();
          setVersion((v) => v + 1);
          setStatus('Published.');
          return;
        }
      }
      if (run === polling.current) {
        await load().catch(() => {});
        setStatus('Queued; the files have not changed yet.');
      }
    },
    [data, id, load],
  );

  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p role="status">Loading…</p>;
  const { movie, candidates, files } = data;
  const name = movieName(movie);

  return (
    <article class="movie">
      <p>
        <a href={`${BASE}/movies`} onClick={(e) => onLinkClick(e, '/movies')}>
          ← Movies
        </a>
      </p>
      <h1 tabIndex={-1}>{name}</h1>
      <p role="status" aria-live="polite" class="status-line">
        {status}
      </p>
      <div class="art">
        <figure>
          <ApiImage movieId={id} type="poster" width={342} alt={`Poster of ${name}`} version={version} />
          <figcaption>Poster</figcaption>
        </figure>
        <figure class="fanart">
          <ApiImage movieId={id} type="fanart" width={500} alt={`Fanart of ${name}`} version={version} />
          <figcaption>Fanart</figcaption>
        </figure>
      </div>
      <dl class="facts">
        <dt>Folder</dt>
        <dd>{movie.path}</dd>
        <dt>TMDB</dt>
        <dd>{movie.tmdbId ?? 'none'}</dd>
        <dt>IMDb</dt>
        <dd>{movie.imdbId ?? 'none'}</dd>
        <dt>Status</dt>
        <dd>{movie.status}</dd>
      </dl>
      <div class="actions">
        <button
          type="button"
          onClick={async () => {
            try {
              const r = await api.refresh(id);
              void reloadUntilPublished(`Refresh queued (job ${r.jobId ?? 'already queued'}).`);
            } catch (err) {
              setStatus(`Refresh failed: ${(err as Error).message}`);
            }
          }}
        >
          Refresh from providers
        </button>
      </div>
      <Identify movie={movie} onIdentified={(msg) => void reloadUntilPublished(msg)} />
      <MetadataForm
        movie={movie}
        onSaved={(msg) => void reloadUntilPublished(msg)}
        onLocks={(locks) => setData({ ...data, movie: { ...movie, locks } })}
        setStatus={setStatus}
      />
      <Candidates
        movieId={id}
        candidates={candidates}
        locks={movie.locks}
        onChosen={(msg) => void reloadUntilPublished(msg)}
        setStatus={setStatus}
      />
      <section>
        <h2>Files Metarr wrote</h2>
        {files.length === 0 ? (
          <p>None yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>File</th>
                <th>Kind</th>
                <th>Written</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.file}>
                  <td>{f.file}</td>
                  <td>{f.kind}</td>
                  <td>{when(f.publishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <Jobs movieId={id} version={version} />
    </article>
  );
}

function MetadataForm(props: {
  movie: MovieDetail;
  onSaved: (msg: string) => void;
  onLocks: (locks: string[]) => void;
  setStatus: (s: string) => void;
}) {
  const { movie } = props;
  const meta = movie.metadata;
  const initial = () =>
    Object.fromEntries(FIELDS.map(({ field, kind }) => [field, toInput(kind, meta?.[field])]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [saved, setSaved] = useState<Record<string, string>>(initial);
  const [busy, setBusy] = useState(false);
  const dirty = FIELDS.filter(({ field }) => values[field] !== saved[field]);

  if (!meta)
    return (
      <section>
        <h2>Metadata</h2>
        <p>No metadata yet: this movie has no TMDB match. Use Identify to pick one.</p>
      </section>
    );

  const submit = async (e: Event) => {
    e.preventDefault();
    if (dirty.length === 0) return props.setStatus('Nothing changed.');
    const edit: Record<string, unknown> = {};
    for (const { field, kind } of dirty) edit[field] = fromInput(kind, values[field] ?? '');
    setBusy(true);
    try {
      const r = await api.editMetadata(movie.id, edit as MetadataEdit);
      setSaved(values);
      props.onLocks(r.locks);
      props.onSaved(`Saved ${dirty.map((d) => d.label).join(', ')}; publishing.`);
    } catch (err) {
      props.setStatus(`Save failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h2>Metadata</h2>
      <form class="meta" onSubmit={submit}>
        {FIELDS.map(({ field, label, kind }) => {
          const inputId = `f-${field}`;
          const locked = movie.locks.includes(field);
          const common = {
            id: inputId,
            name: field,
            value: values[field],
            onInput: (e: Event) =>
              setValues({ ...values, [field]: (e.currentTarget as HTMLInputElement).value }),
          };
          return (
            <div class="field" key={field}>
              <label for={inputId}>{label}</label>
              {kind === 'long' ? (
                <textarea {...common} rows={4} />
              ) : (
                <input {...common} type={kind === 'int' ? 'number' : 'text'} />
              )}
              <label class="lock">
                <input
                  type="checkbox"
                  checked={locked}
                  aria-label={`Lock ${label}`}
                  onChange={async (e) => {
                    const want = e.currentTarget.checked;
                    try {
                      const r = await api.lock(movie.id, field, want);
                      props.onLocks(r.locks);
                      props.setStatus(`${label} ${want ? 'locked' : 'unlocked'}.`);
                    } catch (err) {
                      props.setStatus(`Lock failed: ${(err as Error).message}`);
                    }
                  }}
                />
                <span aria-hidden="true">{locked ? 'Locked' : 'Unlocked'}</span>
              </label>
            </div>
          );
        })}
        <button type="submit" disabled={busy}>
          Save
        </button>
      </form>
    </section>
  );
}

function Candidates(props: {
  movieId: number;
  candidates: Candidate[];
  locks: string[];
  onChosen: (msg: string) => void;
  setStatus: (s: string) => void;
}) {
  const byType = new Map<string, Candidate[]>();
  for (const c of props.candidates) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  return (
    <section>
      <h2>Artwork</h2>
      {byType.size === 0 && <p>No candidates yet.</p>}
      {[...byType].map(([type, list]) => (
        <section key={type} class="candidates">
          <h3>
            {type}
            {props.locks.includes(type) ? ' (locked)' : ''}
          </h3>
          <ul>
            {list.map((c) => (
              <li key={c.id} class={c.rank === 0 ? 'current' : ''}>
                <button
                  type="button"
                  aria-label={`Use this ${type}`}
                  aria-describedby={`cand-${c.id}`}
                  onClick={async () => {
                    try {
                      await api.choose(props.movieId, type, c.id);
                      props.onChosen(`Chose another ${type}; publishing.`);
                    } catch (err) {
                      props.setStatus(`Choosing failed: ${(err as Error).message}`);
                    }
                  }}
                >
                  <img src={c.url} alt="" loading="lazy" referrerpolicy="no-referrer" />
                </button>
                <span id={`cand-${c.id}`} class="meta-line">
                  {c.rank === 0 ? 'In use · ' : ''}
                  {c.provider} · score {c.score === null ? '—' : Math.round(c.score)}
                  {c.width && c.height ? ` · ${c.width}×${c.height}` : ''}
                  {c.language ? ` · ${c.language}` : ''}
                </span>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </section>
  );
}

function Identify(props: { movie: MovieDetail; onIdentified: (msg: string) => void }) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState(props.movie.title ?? '');
  const [year, setYear] = useState(props.movie.year ? String(props.movie.year) : '');
  const [matches, setMatches] = useState<IdentifyMatch[] | null>(null);
  const [message, setMessage] = useState('');
  if (!open)
    return (
      <div class="actions">
        <button type="button" onClick={() => setOpen(true)}>
          Identify
        </button>
      </div>
    );
  return (
    <section class="identify">
      <h2>Identify</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setMessage('Searching…');
          try {
            const y = Number(year);
            const r = await api.identifySearch(
              props.movie.id,
              query.trim(),
              year.trim() && Number.isInteger(y) ? y : undefined,
            );
            setMatches(r.matches);
            setMessage(`${r.matches.length} match${r.matches.length === 1 ? '' : 'es'}`);
          } catch (err) {
            setMessage(`Search failed: ${(err as Error).message}`);
          }
        }}
      >
        <label>
          Title, TMDB id or IMDb id
          <input value={query} required onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <label>
          Release year
          <input
            type="number"
            value={year}
            min={1870}
            max={3000}
            onInput={(e) => setYear(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Search TMDB</button>
        <span role="status">{message}</span>
      </form>
      {matches && (
        <ul class="matches">
          {matches.map((m) => (
            <li key={m.tmdbId}>
              {m.posterUrl && <img src={m.posterUrl} alt="" referrerpolicy="no-referrer" />}
              <div>
                <strong>{m.year ? `${m.title} (${m.year})` : m.title}</strong>
                {m.overview && <p>{m.overview}</p>}
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      await api.identify(props.movie.id, m.tmdbId);
                      setOpen(false);
                      props.onIdentified(`Identified as TMDB ${m.tmdbId}; fetching metadata.`);
                    } catch (err) {
                      setMessage(`Identify failed: ${(err as Error).message}`);
                    }
                  }}
                >
                  {`Pick ${m.year ? `${m.title} (${m.year})` : m.title}`}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Jobs({ movieId, version }: { movieId: number; version: number }) {
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  useEffect(() => {
    api.jobs(movieId).then(setJobs, () => setJobs([]));
  }, [movieId, version]);
  return (
    <section>
      <h2>Jobs</h2>
      {!jobs ? (
        <p>Loading…</p>
      ) : jobs.length === 0 ? (
        <p>No jobs for this movie.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Type</th>
              <th>State</th>
              <th>Created</th>
              <th>Finished</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id}>
                <td>
                  <a href={`${BASE}/#job-${j.id}`}>{j.type}</a>
                </td>
                <td>{j.state}</td>
                <td>{when(j.createdAt)}</td>
                <td>{when(j.completedAt)}</td>
                <td>{j.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
