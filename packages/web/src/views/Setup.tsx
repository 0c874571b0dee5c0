/**
 * The first-run wizard: a movie library (folder picker), Radarr's path mapping (with explain), a Kodi
 * group and player (tested), an optional TMDB key, then the webhook URLs to paste into the *arr apps.
 * Each step uses the same forms as Settings; Skip moves on, Finish lands on the Movies view.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { config, type Library, type Player, type PlayerGroup } from '../api.ts';
import { navigate } from '../router.ts';
import {
  Explain,
  GroupForm,
  LibraryForm,
  MappingForm,
  PlayerForm,
  PlayerTestButton,
  ProviderKeysForm,
  useList,
  WebhookInstructions,
} from './config.tsx';

const STEPS = ['Movie library', 'Radarr path mapping', 'Kodi player', 'TMDB key', 'Connect Radarr'];

export function SetupView() {
  const [step, setStep] = useState(0);
  const [libs, reloadLibs] = useList(config.libraryList);
  const [mappings, reloadMappings] = useList(config.mappings);
  const [group, setGroup] = useState<PlayerGroup | null>(null);
  const [player, setPlayer] = useState<Player | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // A new step: its heading takes the focus, for keyboard and screen-reader users.
  useEffect(() => {
    if (step) heading.current?.focus();
  }, [step]);
  const movieLib: Library | undefined = libs?.find((l) => l.type === 'movie');
  const next = () => setStep((s) => s + 1);
  const nav = (canNext: boolean, skip = true) => (
    <div class="row wizard-nav">
      {step > 0 && (
        <button type="button" onClick={() => setStep(step - 1)}>
          Back
        </button>
      )}
      {step < STEPS.length - 1 ? (
        <button type="button" disabled={!canNext && !skip} onClick={next}>
          {canNext || !skip ? 'Next' : 'Skip this step'}
        </button>
      ) : (
        <button type="button" onClick={() => navigate('/movies')}>
          Finish
        </button>
      )}
    </div>
  );

  return (
    <section class="setup">
      <h1 tabIndex={-1}>Set up Metarr</h1>
      <ol class="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined} class={i === step ? 'current' : ''}>
            {s}
          </li>
        ))}
      </ol>
      <h2 ref={heading} tabIndex={-1}>
        Step {step + 1} of {STEPS.length}: {STEPS[step]}
      </h2>

      {step === 0 && (
        <>
          <p>
            Where your movie folders are, as this host sees them. Browse… lists the folders Metarr may use.
          </p>
          {movieLib ? (
            <p role="status">
              Movie library “{movieLib.name}” at <code>{movieLib.path}</code> is ready.
            </p>
          ) : (
            <LibraryForm fixedType="movie" onAdded={reloadLibs} />
          )}
          {nav(Boolean(movieLib), false)}
        </>
      )}

      {step === 1 && (
        <>
          <p>
            If Radarr sees the movies under another path (Docker volumes, another machine), map Radarr's root
            folder to the library folder. Then type a movie path as Radarr would send it to check.
          </p>
          {mappings
            ?.filter((m) => m.manager === 'radarr')
            .map((m) => (
              <p key={m.id} role="status">
                Radarr <code>{m.from}</code> → <code>{m.to}</code>
              </p>
            ))}
          <MappingForm manager="radarr" to={movieLib?.path} onAdded={reloadMappings} />
          <Explain manager="radarr" />
          {nav(Boolean(mappings?.some((m) => m.manager === 'radarr')))}
        </>
      )}

      {step === 2 && (
        <>
          <p>Kodi's web server (Settings → Services → Control → Allow remote control via HTTP).</p>
          {!group ? (
            <GroupForm kodiOnly libraries={libs ?? []} onAdded={setGroup} />
          ) : (
            <p role="status">Group “{group.name}” added.</p>
          )}
          {group && !player && <PlayerForm group={group} onSaved={setPlayer} />}
          {player && (
            <p>
              Player “{player.name}” at{' '}
              <code>
                {player.host}:{player.port}
              </code>{' '}
              <PlayerTestButton player={player} />
            </p>
          )}
          {nav(Boolean(player))}
        </>
      )}

      {step === 3 && (
        <>
          <p>
            Optional: a TMDB API key (v3) lets Metarr fetch metadata and artwork. Without one, Metarr still
            tells the players about new files.
          </p>
          <ProviderKeysForm onlyTmdb />
          {nav(true)}
        </>
      )}

      {step === 4 && (
        <>
          <WebhookInstructions />
          <p>When Radarr imports a movie, it appears in the Movies view.</p>
          {nav(true)}
        </>
      )}
    </section>
  );
}
