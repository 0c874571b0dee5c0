/**
 * Settings: libraries (folder picker, scan now), *arr path mappings with the explain tool, player
 * groups and players (Test), provider keys, the API key, schedules and the webhook URLs.
 */
import { useState } from 'preact/hooks';
import { BASE, config, getKey, type Player, type PlayerGroup, setKey } from '../api.ts';
import { onLinkClick } from '../router.ts';
import {
  Explain,
  FormError,
  GroupForm,
  LibraryForm,
  MappingForm,
  PlayerForm,
  PlayerTestButton,
  ProviderKeysForm,
  useAction,
  useList,
  WebhookInstructions,
} from './config.tsx';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : 'disabled');

type JobRun = { state: string; createdAt: string; startedAt: string | null; completedAt: string | null };
/** `never` only when the whole history was read; else the run is older than the jobs fetched. */
const lastRun = (j: JobRun | undefined, complete = true) =>
  j
    ? `${j.state} ${new Date(j.completedAt ?? j.startedAt ?? j.createdAt).toLocaleString()}`
    : complete
      ? 'never'
      : 'not among the latest 200 scans';

function Libraries(props: { onChange: () => void }) {
  const [libs, reloadList, loadError] = useList(config.libraryList);
  const reload = () => {
    reloadList();
    props.onChange();
  };
  const [busy, error, run] = useAction();
  const [queued, setQueued] = useState<string | null>(null);
  return (
    <section aria-labelledby="s-libraries">
      <h2 id="s-libraries">Libraries</h2>
      <FormError error={loadError} />
      {libs && !libs.length && <p>No library yet.</p>}
      <ul class="items">
        {libs?.map((l) => (
          <li key={l.id}>
            <span class="item-name">{l.name}</span> <span class="tag">{l.type}</span> <code>{l.path}</code>
            <button
              type="button"
              aria-label={`Scan ${l.name} now`}
              disabled={busy}
              onClick={async () => {
                const r = await run(() => config.scan(l.id));
                if (r) setQueued(`Scan of ${l.name} queued.`);
              }}
            >
              Scan now
            </button>
            <button
              type="button"
              aria-label={`Remove library ${l.name}`}
              disabled={busy}
              onClick={async () => {
                if (!confirm(`Remove the library "${l.name}"? Files on disk stay.`)) return;
                await run(() => config.removeLibrary(l.id));
                reload();
              }}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      {queued && <p role="status">{queued}</p>}
      <FormError error={error} />
      <LibraryForm onAdded={reload} />
    </section>
  );
}

function Mappings() {
  const [list, reload, loadError] = useList(config.mappings);
  const [busy, error, run] = useAction();
  return (
    <section aria-labelledby="s-mappings">
      <h2 id="s-mappings">*arr path mappings</h2>
      <p class="hint">How a path Radarr, Sonarr or Lidarr sends becomes a path on this host.</p>
      <FormError error={loadError} />
      {list && !list.length && <p>No mapping yet: *arr paths are used as they are.</p>}
      <ul class="items">
        {list?.map((m) => (
          <li key={m.id}>
            <span class="tag">{m.manager}</span> <code>{m.from}</code> → <code>{m.to}</code>
            <button
              type="button"
              aria-label={`Remove mapping ${m.from}`}
              disabled={busy}
              onClick={async () => {
                await run(() => config.removeMapping(m.id));
                reload();
              }}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <FormError error={error} />
      <div class="two">
        <MappingForm onAdded={reload} />
        <Explain />
      </div>
    </section>
  );
}

function Players() {
  const [groups, reloadGroups, groupError] = useList(config.groups);
  const [players, reloadPlayers] = useList(config.players);
  const [libs] = useList(config.libraryList);
  const [editing, setEditing] = useState<number | null>(null);
  const [adding, setAdding] = useState<number | null>(null);
  const [renaming, setRenaming] = useState<PlayerGroup | null>(null);
  const [newName, setNewName] = useState('');
  const [busy, error, run] = useAction();
  const of = (g: PlayerGroup) => players?.filter((p) => p.groupId === g.id) ?? [];
  const done = (_p: Player) => {
    setEditing(null);
    setAdding(null);
    reloadPlayers();
  };
  return (
    <section aria-labelledby="s-players">
      <h2 id="s-players">Player groups and players</h2>
      <FormError error={groupError} />
      {groups?.map((g) => (
        <article class="group" key={g.id} aria-label={`Group ${g.name}`}>
          <h3>
            {g.name} <span class="tag">{g.type}</span>
          </h3>
          <div class="row">
            <button
              type="button"
              aria-label={`Rename group ${g.name}`}
              onClick={() => {
                setRenaming(g);
                setNewName(g.name);
              }}
            >
              Rename
            </button>
            <button type="button" aria-label={`Add a player to ${g.name}`} onClick={() => setAdding(g.id)}>
              Add player
            </button>
            <button
              type="button"
              aria-label={`Remove group ${g.name}`}
              disabled={busy}
              onClick={async () => {
                if (!confirm(`Remove the group "${g.name}" and its players?`)) return;
                await run(() => config.removeGroup(g.id));
                reloadGroups();
                reloadPlayers();
              }}
            >
              Remove
            </button>
          </div>
          {renaming?.id === g.id && (
            <form
              class="row"
              aria-label={`Rename group ${g.name}`}
              onSubmit={async (e) => {
                e.preventDefault();
                if (await run(() => config.editGroup(g.id, { name: newName.trim() }))) {
                  setRenaming(null);
                  reloadGroups();
                }
              }}
            >
              <label for={`rename-${g.id}`}>New group name</label>
              <input
                id={`rename-${g.id}`}
                value={newName}
                required
                onInput={(e) => setNewName(e.currentTarget.value)}
              />
              <button type="submit">Save name</button>
            </form>
          )}
          {g.pathMappings.map((m) => (
            <p key={m.from} class="hint">
              Players see <code>{m.from}</code> as <code>{m.to}</code>
            </p>
          ))}
          <ul class="items">
            {of(g).map((p) => (
              <li key={p.id}>
                <span class="item-name">{p.name}</span>{' '}
                <code>
                  {p.host}:{p.port}
                </code>
                <PlayerTestButton player={p} />
                <button type="button" aria-label={`Edit ${p.name}`} onClick={() => setEditing(p.id)}>
                  Edit
                </button>
                <button
                  type="button"
                  aria-label={`Remove player ${p.name}`}
                  disabled={busy}
                  onClick={async () => {
                    await run(() => config.removePlayer(p.id));
                    reloadPlayers();
                  }}
                >
                  Remove
                </button>
                {editing === p.id && (
                  <PlayerForm group={g} player={p} onSaved={done} onCancel={() => setEditing(null)} />
                )}
              </li>
            ))}
          </ul>
          {adding === g.id && <PlayerForm group={g} onSaved={done} onCancel={() => setAdding(null)} />}
        </article>
      ))}
      <FormError error={error} />
      <GroupForm libraries={libs ?? []} onAdded={reloadGroups} />
    </section>
  );
}

function ApiKey() {
  const [shown, setShown] = useState(false);
  const [busy, error, run] = useAction();
  const [rotated, setRotated] = useState(false);
  return (
    <section aria-labelledby="s-key">
      <h2 id="s-key">API key</h2>
      <p class="hint">
        The server keeps only a hash of the key: what can be revealed is the key this browser tab holds.
      </p>
      <p>
        <label for="api-key-shown">API key</label>{' '}
        <input id="api-key-shown" readOnly size={40} value={shown ? (getKey() ?? '') : '••••••••••••'} />{' '}
        <button type="button" aria-pressed={shown} onClick={() => setShown(!shown)}>
          {shown ? 'Hide API key' : 'Reveal API key'}
        </button>{' '}
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            if (
              !confirm('Issue a new API key? The old one stops working at once, also in the *arr webhooks.')
            )
              return;
            const r = await run(() => config.rotateKey());
            if (r) {
              setKey(r.apiKey);
              setShown(true);
              setRotated(true);
            }
          }}
        >
          Regenerate API key
        </button>
      </p>
      {rotated && (
        <p role="status">A new key was issued and is used by this tab; the old one no longer works.</p>
      )}
      <FormError error={error} />
    </section>
  );
}

function Schedules() {
  const [busy, error, run] = useAction();
  // Last runs from the job history: the newest library scan per library (scheduled or Run now),
  // the newest scheduled provider update.
  const [view, reload, loadError] = useList(async () => {
    const [schedules, scans, updates] = await Promise.all([
      config.schedules(),
      config.recentJobs('library-scan', 200),
      config.recentJobs('scheduled-provider-update', 1),
    ]);
    const last = new Map<number, JobRun>();
    for (const j of scans) {
      const id = Number(j.payload?.['libraryId']);
      if (!last.has(id)) last.set(id, j);
    }
    return [{ schedules, last, complete: scans.length < 200, update: updates[0] }];
  });
  const s = view?.[0]?.schedules;
  return (
    <section aria-labelledby="s-schedules">
      <h2 id="s-schedules">Schedules</h2>
      <FormError error={loadError} />
      {s && (
        <table>
          <caption>Times in {s.timezone}; shown in this browser's time zone</caption>
          <thead>
            <tr>
              <th scope="col">Schedule</th>
              <th scope="col">Cron</th>
              <th scope="col">Last run</th>
              <th scope="col">Next run</th>
              <th scope="col">Run now</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Provider update</th>
              <td>
                <code>{s.providerUpdate.cron}</code>
              </td>
              <td>{lastRun(view?.[0]?.update)}</td>
              <td>{when(s.providerUpdate.nextRun)}</td>
              <td />
            </tr>
            {s.libraries.map((l) => (
              <tr key={l.libraryId}>
                <th scope="row">File scan: {l.name}</th>
                <td>
                  <code>{l.cron}</code>
                </td>
                <td>{lastRun(view?.[0]?.last.get(l.libraryId), view?.[0]?.complete)}</td>
                <td>{when(l.nextRun)}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Run file scan of ${l.name} now`}
                    disabled={busy}
                    onClick={async () => {
                      await run(() => config.scan(l.libraryId));
                      reload();
                    }}
                  >
                    Run now
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">
        Last run: the newest <code>library-scan</code> job of the library (scheduled or Run now) and the
        newest <code>scheduled-provider-update</code> job; the jobs page has them all.
      </p>
      <FormError error={error} />
    </section>
  );
}

export function SettingsView() {
  // Adding or removing a library changes the schedules (and the groups' library choices).
  const [rev, setRev] = useState(0);
  return (
    <section class="settings">
      <h1 tabIndex={-1}>Settings</h1>
      <p>
        New here?{' '}
        <a href={`${BASE}/setup`} onClick={(e) => onLinkClick(e, '/setup')}>
          Run the setup wizard
        </a>
      </p>
      <Libraries onChange={() => setRev((r) => r + 1)} />
      <Mappings />
      <Players key={rev} />
      <section aria-labelledby="s-providers">
        <h2 id="s-providers">Provider keys</h2>
        <ProviderKeysForm />
      </section>
      <ApiKey />
      <Schedules key={rev} />
      <section aria-labelledby="s-webhooks">
        <h2 id="s-webhooks">Webhooks</h2>
        <WebhookInstructions />
      </section>
    </section>
  );
}
