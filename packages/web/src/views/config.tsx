/**
 * The configuration forms Settings and the first-run wizard share: a library with the server-side
 * folder picker, an *arr path mapping with the explain tool, a player group and a player with its
 * Test, the provider keys, and the webhook URL to paste into the *arr apps. Every input has a label,
 * every button a name; the API's refusal (a 4xx names the field) is shown next to the form.
 */
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  config,
  type Explanation,
  type FolderListing,
  getKey,
  type KeyState,
  type Library,
  type LibraryType,
  type Manager,
  type Player,
  type PlayerGroup,
  type PlayerTest,
  type PlayerType,
  webhookUrl,
} from '../api.ts';

let ids = 0;
/** A unique id prefix per component instance, for label `for` attributes. */
export function useIds(): (name: string) => string {
  const [n] = useState(() => ++ids);
  return (name) => `f${n}-${name}`;
}

/** Runs an API call: busy while it runs, its error message kept for the form. */
export function useAction(): [boolean, string | null, <T>(fn: () => Promise<T>) => Promise<T | undefined>] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setError(err instanceof Error ? err.message : String(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, run];
}

export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** Loads a list and reloads it on demand. */
export function useList<T>(load: () => Promise<T[]>): [T[] | null, () => void, string | null] {
  const [list, setList] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    load().then(
      (l) => {
        setList(l);
        setError(null);
      },
      (e: unknown) => setError(String(e)),
    );
  }, [n]);
  return [list, () => setN((x) => x + 1), error];
}

/**
 * A dialog listing the folders the API offers (`GET /api/folders`): open one to go in, Up to go back,
 * or type a folder and Go. Only folders the API lists (where a library could live) can be chosen.
 */
export function FolderPicker(props: { onPick: (path: string) => void; onClose: () => void }) {
  const [listing, setListing] = useState<FolderListing | null>(null);
  const [typed, setTyped] = useState('');
  const [busy, error, run] = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  // Only the latest listing asked for is shown (an earlier, slower answer is dropped).
  const seq = useRef(0);
  const go = async (path?: string) => {
    const n = ++seq.current;
    const l = await run(() => config.folders(path));
    if (l && n === seq.current) {
      setListing(l);
      setTyped(l.path ?? '');
    }
  };
  useEffect(() => {
    void go();
    dialog.current?.showModal();
    heading.current?.focus();
  }, []);
  const id = useIds();
  return (
    // A native modal dialog: the page behind is inert, Tab stays inside, Escape closes it.
    <dialog ref={dialog} class="dialog" aria-labelledby={id('title')} onClose={props.onClose}>
      <h3 id={id('title')} ref={heading} tabIndex={-1}>
        Choose a folder
      </h3>
      <form
        class="row"
        onSubmit={(e) => {
          // The picker sits inside the library form: its Go must not submit that one too.
          e.preventDefault();
          e.stopPropagation();
          void go(typed.trim() || undefined);
        }}
      >
        <label for={id('path')}>Folder path</label>
        <input
          id={id('path')}
          value={typed}
          onInput={(e) => setTyped(e.currentTarget.value)}
          spellcheck={false}
          autocomplete="off"
        />
        <button type="submit" disabled={busy}>
          Go
        </button>
      </form>
      <FormError error={error} />
      <p class="current">
        {listing?.path ? (
          <>
            In <code>{listing.path}</code>
          </>
        ) : (
          'Starting points'
        )}
      </p>
      <ul class="folders" aria-label="Folders">
        {listing?.parent && (
          <li>
            <button type="button" onClick={() => void go(listing.parent ?? undefined)}>
              Up
            </button>
          </li>
        )}
        {listing?.folders.map((f) => (
          <li key={f.path}>
            <button
              type="button"
              class="folder-btn"
              aria-label={`Open ${f.name}`}
              onClick={() => void go(f.path)}
            >
              {f.name}/
            </button>
          </li>
        ))}
        {listing && !listing.folders.length && <li class="hint">No sub-folders here.</li>}
      </ul>
      {listing?.truncated && <p class="hint">Only the first 1,000 folders are listed: type a path.</p>}
      <div class="row">
        <button
          type="button"
          disabled={!listing?.path}
          onClick={() => listing?.path && props.onPick(listing.path)}
        >
          Use this folder
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

export function LibraryForm(props: { onAdded: (l: Library) => void; fixedType?: LibraryType }) {
  const id = useIds();
  const [name, setName] = useState(props.fixedType === 'movie' ? 'Movies' : '');
  const [type, setType] = useState<LibraryType>(props.fixedType ?? 'movie');
  const [path, setPath] = useState('');
  const [picking, setPicking] = useState(false);
  const [busy, error, run] = useAction();
  return (
    <form
      class="config-form"
      aria-label="Add a library"
      onSubmit={async (e) => {
        e.preventDefault();
        const l = await run(() => config.addLibrary({ name: name.trim(), type, path: path.trim() }));
        if (l) {
          setPath('');
          props.onAdded(l);
        }
      }}
    >
      <label for={id('name')}>Library name</label>
      <input id={id('name')} value={name} required onInput={(e) => setName(e.currentTarget.value)} />
      {!props.fixedType && (
        <>
          <label for={id('type')}>Library type</label>
          <select
            id={id('type')}
            value={type}
            onChange={(e) => setType(e.currentTarget.value as LibraryType)}
          >
            <option value="movie">Movies</option>
            <option value="tv">TV</option>
            <option value="music">Music</option>
          </select>
        </>
      )}
      <label for={id('path')}>Library folder</label>
      <div class="row">
        <input
          id={id('path')}
          value={path}
          required
          spellcheck={false}
          onInput={(e) => setPath(e.currentTarget.value)}
        />
        <button type="button" onClick={() => setPicking(true)}>
          Browse…
        </button>
      </div>
      {picking && (
        <FolderPicker
          onPick={(p) => {
            setPath(p);
            setPicking(false);
            document.getElementById(id('path'))?.focus();
          }}
          onClose={() => setPicking(false)}
        />
      )}
      <button type="submit" disabled={busy}>
        Add library
      </button>
      <FormError error={error} />
    </form>
  );
}

/** Type an *arr path, see what it maps to: the Metarr path, the library, what each group is told. */
export function Explain(props: { manager?: Manager }) {
  const id = useIds();
  const [manager, setManager] = useState<Manager>(props.manager ?? 'radarr');
  const [path, setPath] = useState('');
  const [result, setResult] = useState<Explanation | null>(null);
  const [busy, error, run] = useAction();
  return (
    <form
      class="config-form explain"
      aria-label="Explain a path"
      onSubmit={async (e) => {
        e.preventDefault();
        const r = await run(() => config.explain(manager, path.trim()));
        setResult(r ?? null);
      }}
    >
      {!props.manager && (
        <>
          <label for={id('manager')}>Explain for</label>
          <ManagerSelect id={id('manager')} value={manager} onChange={setManager} />
        </>
      )}
      <label for={id('path')}>Path as the *arr sends it</label>
      <input
        id={id('path')}
        value={path}
        required
        spellcheck={false}
        placeholder="/movies/Heat (1995)"
        onInput={(e) => setPath(e.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        Explain
      </button>
      <FormError error={error} />
      {result && (
        <div class={`explanation ${result.ok ? 'ok' : 'bad'}`} role="status">
          <p>
            {result.ok ? 'Maps to ' : 'Does not reach a library'}
            {result.metarrPath && <code>{result.metarrPath}</code>}
            {result.library && <> in library “{result.library.name}”</>}
            {result.reason && <> — {result.reason}</>}
          </p>
          <ol>
            {result.steps.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ol>
        </div>
      )}
    </form>
  );
}

function ManagerSelect(props: { id: string; value: Manager; onChange: (m: Manager) => void }) {
  return (
    <select
      id={props.id}
      value={props.value}
      onChange={(e) => props.onChange(e.currentTarget.value as Manager)}
    >
      <option value="radarr">Radarr</option>
      <option value="sonarr">Sonarr</option>
      <option value="lidarr">Lidarr</option>
    </select>
  );
}

export function MappingForm(props: { onAdded: () => void; manager?: Manager; to?: string }) {
  const id = useIds();
  const [manager, setManager] = useState<Manager>(props.manager ?? 'radarr');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState(props.to ?? '');
  useEffect(() => {
    if (props.to) setTo(props.to);
  }, [props.to]);
  const [busy, error, run] = useAction();
  return (
    <form
      class="config-form"
      aria-label="Add a path mapping"
      onSubmit={async (e) => {
        e.preventDefault();
        const m = await run(() => config.addMapping({ manager, from: from.trim(), to: to.trim() }));
        if (m) {
          setFrom('');
          props.onAdded();
        }
      }}
    >
      {!props.manager && (
        <>
          <label for={id('manager')}>Manager</label>
          <ManagerSelect id={id('manager')} value={manager} onChange={setManager} />
        </>
      )}
      <label for={id('from')}>Path in the *arr</label>
      <input
        id={id('from')}
        value={from}
        required
        spellcheck={false}
        placeholder="/movies"
        onInput={(e) => setFrom(e.currentTarget.value)}
      />
      <label for={id('to')}>Path on this host</label>
      <input
        id={id('to')}
        value={to}
        required
        spellcheck={false}
        onInput={(e) => setTo(e.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        Add mapping
      </button>
      <FormError error={error} />
    </form>
  );
}

export function GroupForm(props: {
  libraries: Library[];
  onAdded: (g: PlayerGroup) => void;
  kodiOnly?: boolean;
}) {
  const id = useIds();
  const [name, setName] = useState(props.kodiOnly ? 'Living room' : '');
  const [type, setType] = useState<PlayerType>('kodi');
  // The players' form of each movie library's folder (e.g. smb://nas/movies/), when it differs.
  const [paths, setPaths] = useState<Record<number, string>>({});
  const movieLibs = props.libraries.filter((l) => l.type === 'movie');
  const [busy, error, run] = useAction();
  return (
    <form
      class="config-form"
      aria-label="Add a player group"
      onSubmit={async (e) => {
        e.preventDefault();
        const libraryIds = movieLibs.map((l) => l.id);
        const pathMappings = movieLibs
          .filter((l) => paths[l.id]?.trim())
          .map((l) => ({ from: l.path, to: (paths[l.id] ?? '').trim() }));
        const g = await run(() => config.addGroup({ name: name.trim(), type, libraryIds, pathMappings }));
        if (g) props.onAdded(g);
      }}
    >
      <label for={id('name')}>Group name</label>
      <input id={id('name')} value={name} required onInput={(e) => setName(e.currentTarget.value)} />
      {!props.kodiOnly && (
        <>
          <label for={id('type')}>Player type</label>
          <select id={id('type')} value={type} onChange={(e) => setType(e.currentTarget.value as PlayerType)}>
            <option value="kodi">Kodi</option>
            <option value="jellyfin">Jellyfin</option>
            <option value="emby">Emby</option>
            <option value="plex">Plex</option>
          </select>
        </>
      )}
      {movieLibs.map((l) => (
        <Fragment key={l.id}>
          <label for={id(`path-${l.id}`)}>Players' path for {l.name}</label>
          <input
            id={id(`path-${l.id}`)}
            value={paths[l.id] ?? ''}
            spellcheck={false}
            placeholder={`${l.path} (as on this host)`}
            onInput={(e) => setPaths({ ...paths, [l.id]: e.currentTarget.value })}
          />
        </Fragment>
      ))}
      <p class="hint">
        Its players are told about changes in every movie library. Leave a path empty when the players see the
        folder as this host does; else give their form of it (smb://nas/movies/, /mnt/movies …).
      </p>
      <button type="submit" disabled={busy}>
        Add group
      </button>
      <FormError error={error} />
    </form>
  );
}

/** Add a player to a group, or edit one (`player`); passwords and keys are write-only. */
export function PlayerForm(props: {
  group: PlayerGroup;
  player?: Player;
  onSaved: (p: Player) => void;
  onCancel?: () => void;
}) {
  const id = useIds();
  const p = props.player;
  const kodi = props.group.type === 'kodi';
  const [name, setName] = useState(p?.name ?? (kodi ? 'Kodi' : props.group.name));
  const [host, setHost] = useState(p?.host ?? '');
  const [port, setPort] = useState(
    String(p?.port ?? (kodi ? 8080 : props.group.type === 'plex' ? 32400 : 8096)),
  );
  const [username, setUsername] = useState(p?.username ?? '');
  const [secret, setSecret] = useState('');
  const [busy, error, run] = useAction();
  const label = p ? `Edit player ${p.name}` : `Add a player to ${props.group.name}`;
  return (
    <form
      class="config-form"
      aria-label={label}
      onSubmit={async (e) => {
        e.preventDefault();
        const body = {
          groupId: props.group.id,
          type: props.group.type,
          name: name.trim(),
          host: host.trim(),
          port: Number(port),
          ...(kodi && { username: username.trim() || null }),
          ...(secret && (kodi ? { password: secret } : { apiKey: secret })),
        };
        const saved = await run(() => (p ? config.editPlayer(p.id, body) : config.addPlayer(body)));
        if (saved) props.onSaved(saved);
      }}
    >
      <label for={id('name')}>Player name</label>
      <input id={id('name')} value={name} required onInput={(e) => setName(e.currentTarget.value)} />
      <label for={id('host')}>Host</label>
      <input
        id={id('host')}
        value={host}
        required
        spellcheck={false}
        placeholder="192.168.1.20"
        onInput={(e) => setHost(e.currentTarget.value)}
      />
      <label for={id('port')}>Port</label>
      <input
        id={id('port')}
        type="number"
        min={1}
        max={65535}
        value={port}
        required
        onInput={(e) => setPort(e.currentTarget.value)}
      />
      {kodi && (
        <>
          <label for={id('user')}>Username</label>
          <input
            id={id('user')}
            value={username}
            autocomplete="off"
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </>
      )}
      <label for={id('secret')}>{kodi ? 'Password' : 'API key or token'}</label>
      <input
        id={id('secret')}
        type="password"
        value={secret}
        autocomplete="new-password"
        placeholder={p && (p.hasPassword || p.hasApiKey) ? 'unchanged' : ''}
        onInput={(e) => setSecret(e.currentTarget.value)}
      />
      <div class="row">
        <button type="submit" disabled={busy}>
          {p ? 'Save player' : 'Add player'}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <FormError error={error} />
    </form>
  );
}

/** `Test <name>`: the API's verdict with the version and whether the credentials were accepted. */
export function PlayerTestButton({ player }: { player: Player }) {
  const [result, setResult] = useState<PlayerTest | null>(null);
  const [busy, error, run] = useAction();
  return (
    <span class="player-test">
      <button
        type="button"
        aria-label={`Test ${player.name}`}
        disabled={busy}
        onClick={async () => setResult((await run(() => config.testPlayer(player.id))) ?? null)}
      >
        {busy ? 'Testing…' : 'Test'}
      </button>
      <span role="status" class={result ? (result.status === 'ok' ? 'ok' : 'bad') : ''}>
        {result &&
          `${result.status === 'ok' ? '✔' : '✘'} ${result.message} Version: ${result.version ?? 'unknown'}. Auth: ${
            result.authOk ? 'accepted' : 'not accepted'
          }.`}
      </span>
      <FormError error={error} />
    </span>
  );
}

const keyLabel = (s: KeyState) =>
  s.configured
    ? `set (${s.masked ?? ''}${s.source === 'environment' ? ', from the environment' : ''})`
    : 'not set';

export function ProviderKeysForm(props: { onlyTmdb?: boolean; onSaved?: () => void }) {
  const id = useIds();
  const [state, setState] = useState<{ tmdb: KeyState; fanart: KeyState } | null>(null);
  const [tmdb, setTmdb] = useState('');
  const [fanart, setFanart] = useState('');
  const [saved, setSaved] = useState(false);
  const [busy, error, run] = useAction();
  useEffect(() => {
    config.providers().then(setState, () => {});
  }, []);
  return (
    <form
      class="config-form"
      aria-label="Provider keys"
      onSubmit={async (e) => {
        e.preventDefault();
        const body = {
          ...(tmdb.trim() && { tmdbApiKey: tmdb.trim() }),
          ...(fanart.trim() && { fanartApiKey: fanart.trim() }),
        };
        if (!Object.keys(body).length) return;
        const s = await run(() => config.setProviders(body));
        if (s) {
          setState(s);
          setTmdb('');
          setFanart('');
          setSaved(true);
          props.onSaved?.();
        }
      }}
    >
      <label for={id('tmdb')}>TMDB API key</label>
      <input
        id={id('tmdb')}
        type="password"
        autocomplete="off"
        value={tmdb}
        aria-describedby={id('tmdb-state')}
        onInput={(e) => setTmdb(e.currentTarget.value)}
      />
      <span id={id('tmdb-state')} class="hint">
        {state && `TMDB key: ${keyLabel(state.tmdb)}`}
      </span>
      {!props.onlyTmdb && (
        <>
          <label for={id('fanart')}>fanart.tv API key</label>
          <input
            id={id('fanart')}
            type="password"
            autocomplete="off"
            value={fanart}
            aria-describedby={id('fanart-state')}
            onInput={(e) => setFanart(e.currentTarget.value)}
          />
          <span id={id('fanart-state')} class="hint">
            {state && `fanart.tv key: ${keyLabel(state.fanart)}`}
          </span>
        </>
      )}
      <button type="submit" disabled={busy}>
        Save keys
      </button>
      {saved && <span role="status">Saved.</span>}
      <FormError error={error} />
    </form>
  );
}

/** The URL to paste into each *arr app's Connect → Webhook, and how it authenticates. */
export function WebhookInstructions() {
  const [withKey, setWithKey] = useState(false);
  const key = getKey() ?? '';
  const apps: [Manager, string][] = [
    ['radarr', 'Radarr'],
    ['sonarr', 'Sonarr'],
    ['lidarr', 'Lidarr'],
  ];
  return (
    <div class="webhooks">
      <p>
        In each app: <strong>Settings → Connect → + → Webhook</strong>, triggers On Import/On Upgrade/On
        Rename/On Delete, method <strong>POST</strong>, and this URL:
      </p>
      <div class="config-form">
        {apps.map(([m, name]) => (
          <Fragment key={m}>
            <label for={`webhook-${m}`}>{name} webhook URL</label>
            <input
              id={`webhook-${m}`}
              readOnly
              spellcheck={false}
              value={withKey ? `${webhookUrl(m)}?apikey=${encodeURIComponent(key)}` : webhookUrl(m)}
              onFocus={(e) => e.currentTarget.select()}
            />
          </Fragment>
        ))}
      </div>
      <p>
        Authentication: if the server has <code>METARR_WEBHOOK_USERNAME</code> and{' '}
        <code>METARR_WEBHOOK_PASSWORD</code> set (recommended), put those in the webhook's Username and
        Password fields. Otherwise use the URL with the API key — it puts the full admin key into the app's
        settings and backups.
      </p>
      <button type="button" aria-pressed={withKey} onClick={() => setWithKey(!withKey)}>
        {withKey ? 'Hide the API key in the URLs' : 'Show the URLs with the API key'}
      </button>
    </div>
  );
}
