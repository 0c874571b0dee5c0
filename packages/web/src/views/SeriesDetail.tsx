/**
 * One series: its fields (title and year lockable, the rest as enrichment stored them), Refresh from
 * providers, its seasons as sections with their episodes (placeholder badges in words, per-episode
 * locks) and its files. Every text from the server is rendered as text.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, BASE, tv } from '../api.ts';
import { onLinkClick } from '../router.ts';
import type { Episode, EpisodeLockable, Season, SeriesDetail, SeriesLockable } from '../types.ts';
import { movieName as seriesName } from './common.tsx';

const pad = (n: number) => String(n).padStart(2, '0');
const code = (season: number, episode: number) => `S${pad(season)}E${pad(episode)}`;
const seasonName = (n: number) => (n === 0 ? 'Specials' : `Season ${n}`);
const list = (v: string[] | undefined) => (v?.length ? v.join(', ') : '—');

const EPISODE_LOCKS: { field: EpisodeLockable; label: string; text: string }[] = [
  { field: 'title', label: 'title', text: 'Title' },
  { field: 'plot', label: 'plot', text: 'Plot' },
  { field: 'aired', label: 'air date', text: 'Air date' },
];

/**
 * A lock toggle: a checkbox named `Lock <what>`; beside it `text` (an episode's field name) or its
 * state in words.
 */
function LockToggle(props: {
  label: string;
  text?: string;
  locked: boolean;
  onChange: (locked: boolean) => void;
}) {
  return (
    <label class="lock">
      <input
        type="checkbox"
        checked={props.locked}
        aria-label={`Lock ${props.label}`}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
      />
      <span aria-hidden="true">{props.text ?? (props.locked ? 'Locked' : 'Unlocked')}</span>
    </label>
  );
}

export function SeriesDetailView({ id }: { id: number }) {
  const [series, setSeries] = useState<SeriesDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  const load = useCallback(() => tv.series(id).then(setSeries), [id]);
  useEffect(() => {
    load().catch((err: unknown) => {
      if (!(err instanceof ApiError && err.status === 401))
        setError(err instanceof Error ? err.message : String(err));
    });
  }, [load]);

  if (error) return <p role="alert">{error}</p>;
  if (!series) return <p role="status">Loading…</p>;
  const name = seriesName(series);
  const meta = series.metadata;

  const lockSeries = async (field: SeriesLockable, label: string, locked: boolean) => {
    try {
      const r = await tv.lock(id, field, locked);
      setSeries({ ...series, locks: r.locks });
      setStatus(`${label} ${locked ? 'locked' : 'unlocked'}.`);
    } catch (err) {
      setStatus(`Lock failed: ${(err as Error).message}`);
    }
  };
  const lockEpisode = async (episode: Episode, field: EpisodeLockable, label: string, locked: boolean) => {
    try {
      const r = await tv.lockEpisode(episode.id, field, locked);
      setSeries({
        ...series,
        seasons: series.seasons.map((s) => ({
          ...s,
          episodes: s.episodes.map((e) => (e.id === episode.id ? { ...e, locks: r.locks } : e)),
        })),
      });
      setStatus(`${label} ${locked ? 'locked' : 'unlocked'}.`);
    } catch (err) {
      setStatus(`Lock failed: ${(err as Error).message}`);
    }
  };

  return (
    <article class="movie series">
      <p>
        <a href={`${BASE}/series`} onClick={(e) => onLinkClick(e, '/series')}>
          ← Series
        </a>
      </p>
      <h1 tabIndex={-1}>{name}</h1>
      <p role="status" aria-live="polite" class="status-line">
        {status}
      </p>
      <div class="actions">
        <button
          type="button"
          onClick={async () => {
            try {
              const r = await tv.refresh(id);
              setStatus(`Refresh queued (job ${r.jobId ?? 'already queued'}).`);
            } catch (err) {
              setStatus(`Refresh failed: ${(err as Error).message}`);
            }
          }}
        >
          Refresh from providers
        </button>
      </div>
      <section>
        <h2>Series</h2>
        <dl class="facts fields">
          <dt>Title</dt>
          <dd>
            <span>{series.title ?? '—'}</span>
            <LockToggle
              label="Title"
              locked={series.locks.includes('title')}
              onChange={(l) => void lockSeries('title', 'Title', l)}
            />
          </dd>
          <dt>Year</dt>
          <dd>
            <span>{series.year ?? '—'}</span>
            <LockToggle
              label="Year"
              locked={series.locks.includes('year')}
              onChange={(l) => void lockSeries('year', 'Year', l)}
            />
          </dd>
          <dt>Plot</dt>
          <dd class="plot">{meta?.plot ?? '—'}</dd>
          <dt>Status</dt>
          <dd>{meta?.status ?? '—'}</dd>
          <dt>Network</dt>
          <dd>{list(meta?.studios)}</dd>
          <dt>Premiered</dt>
          <dd>{meta?.premiered ?? '—'}</dd>
          <dt>Genres</dt>
          <dd>{list(meta?.genres)}</dd>
          <dt>Certification</dt>
          <dd>{meta?.certification ?? '—'}</dd>
          <dt>Folder</dt>
          <dd>{series.path}</dd>
          <dt>Folder status</dt>
          <dd>{series.status}</dd>
          <dt>TMDB · TVDB · IMDb</dt>
          <dd>
            {series.tmdbId ?? 'none'} · {series.tvdbId ?? 'none'} · {series.imdbId ?? 'none'}
          </dd>
        </dl>
        {!meta && <p>No metadata yet: enrichment has not stored any for this series.</p>}
      </section>
      {series.seasons.length === 0 && <p>No seasons on disk.</p>}
      {series.seasons.map((s) => (
        <SeasonSection key={s.id} season={s} onLock={lockEpisode} />
      ))}
      <Files series={series} />
    </article>
  );
}

function SeasonSection(props: {
  season: Season;
  onLock: (e: Episode, field: EpisodeLockable, label: string, locked: boolean) => void;
}) {
  const { season } = props;
  const heading = `season-${season.number}`;
  return (
    <section class="season" aria-labelledby={heading}>
      <h2 id={heading}>{seasonName(season.number)}</h2>
      {season.folder && season.folder !== seasonName(season.number) && (
        <p class="meta-line">Folder: {season.folder}</p>
      )}
      {season.episodes.length === 0 ? (
        <p>No episodes.</p>
      ) : (
        <table class="episodes">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Title</th>
              <th scope="col">Air date</th>
              <th scope="col">File</th>
              <th scope="col">Locked</th>
            </tr>
          </thead>
          <tbody>
            {season.episodes.map((e) => {
              const c = code(e.seasonNumber, e.number);
              return (
                <tr key={e.id}>
                  <td>{c}</td>
                  <td>
                    <span class="ep-title">{e.title ?? '—'}</span>
                    {e.placeholder && (
                      <>
                        {' '}
                        <span class="badge">Placeholder</span>
                        <span class="meta-line">
                          {' '}
                          ({e.placeholderFields.join(', ')}
                          {e.nextCheckAt ? `; asked again ${new Date(e.nextCheckAt).toLocaleString()}` : ''})
                        </span>
                      </>
                    )}
                    {e.plot && <p class="meta-line ep-plot">{e.plot}</p>}
                  </td>
                  <td>{e.airDate ?? '—'}</td>
                  <td class="file">{e.files.length ? e.files.join(', ') : 'not on disk'}</td>
                  <td>
                    <div class="locks">
                      {EPISODE_LOCKS.map(({ field, label, text }) => (
                        <LockToggle
                          key={field}
                          label={`${label} of ${c}`}
                          text={text}
                          locked={e.locks.includes(field)}
                          onChange={(l) => props.onLock(e, field, `The ${label} of ${c}`, l)}
                        />
                      ))}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Files({ series }: { series: SeriesDetail }) {
  return (
    <section>
      <h2>Files</h2>
      {series.files.length === 0 ? (
        <p>No episode files.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Episodes</th>
            </tr>
          </thead>
          <tbody>
            {series.files.map((f) => (
              <tr key={f.id}>
                <td>{f.file}</td>
                <td>
                  {f.episodes.length
                    ? f.episodes.map((e) => code(e.season, e.number)).join(' ')
                    : (f.airDate ?? 'unmatched')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {series.unparseable.length > 0 && (
        <>
          <h3>Files without an episode number</h3>
          <ul>
            {series.unparseable.map((u) => (
              <li key={u.file}>
                {u.file} <span class="meta-line">— {u.reason}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
