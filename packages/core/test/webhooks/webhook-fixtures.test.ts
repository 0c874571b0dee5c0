import t from 'tap';
import type { WebhookAction, WebhookSource } from '../../src/webhooks/index.ts';
import { parseWebhook, planWebhook } from '../../src/webhooks/index.ts';
import { fixture, fixtureNames } from '../fixtures/webhooks/load.ts';

type Expected =
  | { kind: 'test' }
  | { kind: 'ignored'; eventType: string }
  | { kind: 'actionable'; eventType: string; title: string; plan: WebhookAction[]; instanceName?: string };

const matrix = {
  action: 'scan-movie',
  folderPath: '/movies/The Matrix (1999)',
  tmdbId: 603,
  imdbId: 'tt0133093',
  title: 'The Matrix',
  year: 1999,
  radarrId: 17,
} as const;

const tv = (folderPath: string, change: 'created' | 'modified' | 'deleted'): WebhookAction => ({
  action: 'notify-folder',
  folderPath,
  mediaKind: 'tv',
  change,
});
/** The series record every Sonarr event but an upgrade's delete asks for, with the ids Sonarr sent. */
const severance = (eventType: string): WebhookAction => ({
  action: 'scan-series',
  folderPath: '/tv/Severance',
  eventType,
  tmdbId: 95396,
  tvdbId: 371980,
  imdbId: 'tt11280740',
  title: 'Severance',
  year: 2022,
  sonarrId: 85,
});
const shogun = (eventType: string): WebhookAction => ({
  action: 'scan-series',
  folderPath: '/tv/Shogun (2024)',
  eventType,
  tmdbId: 126308,
  tvdbId: 392573,
  imdbId: 'tt2788316',
  title: 'Shōgun',
  year: 2024,
  sonarrId: 91,
});
const music = (folderPath: string, change: 'created' | 'modified' | 'deleted'): WebhookAction => ({
  action: 'notify-folder',
  folderPath,
  mediaKind: 'music',
  change,
});
const ignored = (eventType: string): Expected => ({ kind: 'ignored', eventType });

const expectations: Record<string, Expected> = {
  'radarr-test': { kind: 'test' },
  'radarr-grab': ignored('Grab'),
  'radarr-download': {
    kind: 'actionable',
    eventType: 'Download',
    title: 'The Matrix (1999)',
    plan: [{ ...matrix, eventType: 'Download' }],
  },
  'radarr-download-upgrade': {
    kind: 'actionable',
    eventType: 'Download',
    title: 'The Matrix (1999)',
    plan: [{ ...matrix, eventType: 'Download' }],
  },
  'radarr-download-windows': {
    kind: 'actionable',
    eventType: 'Download',
    title: 'The Matrix (1999)',
    instanceName: 'Radarr 4K',
    plan: [{ ...matrix, folderPath: 'D:\\Movies\\The Matrix (1999)', eventType: 'Download' }],
  },
  'radarr-rename': {
    kind: 'actionable',
    eventType: 'Rename',
    title: 'The Matrix (1999)',
    plan: [{ ...matrix, eventType: 'Rename' }],
  },
  'radarr-movie-added': {
    kind: 'actionable',
    eventType: 'MovieAdded',
    title: 'Dune: Part Two (2024)',
    plan: [
      {
        action: 'movie-added',
        folderPath: '/movies/Dune Part Two (2024)',
        tmdbId: 693134,
        imdbId: 'tt15239678',
        title: 'Dune: Part Two',
        year: 2024,
        radarrId: 42,
      },
    ],
  },
  'radarr-movie-delete': {
    kind: 'actionable',
    eventType: 'MovieDelete',
    title: 'The Matrix (1999)',
    plan: [
      {
        action: 'movie-removed',
        folderPath: '/movies/The Matrix (1999)',
        radarrId: 17,
        tmdbId: 603,
        filesDeleted: true,
      },
    ],
  },
  'radarr-movie-file-delete': {
    kind: 'actionable',
    eventType: 'MovieFileDelete',
    title: 'The Matrix (1999)',
    plan: [{ ...matrix, eventType: 'MovieFileDelete' }],
  },
  'radarr-movie-file-delete-upgrade': {
    kind: 'actionable',
    eventType: 'MovieFileDelete',
    title: 'The Matrix (1999)',
    plan: [],
  },
  'radarr-health': ignored('Health'),
  'radarr-health-restored': ignored('HealthRestored'),
  'radarr-application-update': ignored('ApplicationUpdate'),
  'radarr-manual-interaction-required': ignored('ManualInteractionRequired'),

  'sonarr-test': { kind: 'test' },
  'sonarr-grab': ignored('Grab'),
  'sonarr-download': {
    kind: 'actionable',
    eventType: 'Download',
    title: 'Severance S02E01',
    plan: [tv('/tv/Severance/Season 02', 'created'), severance('Download')],
  },
  'sonarr-import-complete': {
    kind: 'actionable',
    eventType: 'Download',
    title: 'Severance S01E01-E03',
    plan: [tv('/tv/Severance/Season 01', 'created'), severance('Download')],
  },
  'sonarr-rename': {
    kind: 'actionable',
    eventType: 'Rename',
    title: 'Severance',
    plan: [tv('/tv/Severance', 'modified'), severance('Rename')],
  },
  'sonarr-series-add': {
    kind: 'actionable',
    eventType: 'SeriesAdd',
    title: 'Shōgun',
    plan: [tv('/tv/Shogun (2024)', 'created'), shogun('SeriesAdd')],
  },
  'sonarr-series-delete': {
    kind: 'actionable',
    eventType: 'SeriesDelete',
    title: 'Shōgun',
    plan: [tv('/tv/Shogun (2024)', 'deleted'), shogun('SeriesDelete')],
  },
  'sonarr-episode-file-delete': {
    kind: 'actionable',
    eventType: 'EpisodeFileDelete',
    title: 'Severance S02E01',
    plan: [tv('/tv/Severance/Season 02', 'deleted'), severance('EpisodeFileDelete')],
  },
  'sonarr-health': ignored('Health'),
  'sonarr-health-restored': ignored('HealthRestored'),
  'sonarr-application-update': ignored('ApplicationUpdate'),
  'sonarr-manual-interaction-required': ignored('ManualInteractionRequired'),

  'lidarr-test': { kind: 'test' },
  'lidarr-grab': ignored('Grab'),
  'lidarr-download': {
    kind: 'actionable',
    eventType: 'Download',
    title: 'Daft Punk – Random Access Memories',
    plan: [music('/music/Daft Punk/Random Access Memories (2013)', 'created')],
  },
  'lidarr-retag': {
    kind: 'actionable',
    eventType: 'Retag',
    title: 'Daft Punk',
    plan: [music('/music/Daft Punk/Random Access Memories (2013)', 'modified')],
  },
  'lidarr-rename': {
    kind: 'actionable',
    eventType: 'Rename',
    title: 'Daft Punk',
    plan: [music('/music/Daft Punk', 'modified')],
  },
  'lidarr-artist-add': {
    kind: 'actionable',
    eventType: 'ArtistAdd',
    title: 'Boards of Canada',
    plan: [music('/music/Boards of Canada', 'created')],
  },
  'lidarr-artist-delete': {
    kind: 'actionable',
    eventType: 'ArtistDelete',
    title: 'Boards of Canada',
    plan: [music('/music/Boards of Canada', 'deleted')],
  },
  'lidarr-album-delete': {
    kind: 'actionable',
    eventType: 'AlbumDelete',
    title: 'Daft Punk – Discovery',
    plan: [music('/music/Daft Punk', 'modified')],
  },
  'lidarr-download-failure': ignored('DownloadFailure'),
  'lidarr-health': ignored('Health'),
  'lidarr-health-restored': ignored('HealthRestored'),
  'lidarr-application-update': ignored('ApplicationUpdate'),
  'lidarr-manual-interaction-required': ignored('ManualInteractionRequired'),
};

const sourceOf = (name: string) => name.slice(0, name.indexOf('-')) as WebhookSource;
const instanceOf = (source: WebhookSource) => source[0]?.toUpperCase() + source.slice(1);

t.test('every fixture file has an expectation, and every expectation a fixture file', async (t) => {
  t.strictSame(fixtureNames(), Object.keys(expectations).sort());
});

for (const [name, expected] of Object.entries(expectations)) {
  const source = sourceOf(name);

  t.test(
    `${name}: parses as ${expected.kind}${'plan' in expected ? ` and plans ${expected.plan.length} action(s)` : ''}`,
    async (t) => {
      const body = fixture(name);
      const parsed = parseWebhook(source, body);
      t.equal(parsed.kind, expected.kind, JSON.stringify(parsed));

      if (expected.kind === 'test') {
        t.strictSame(parsed, { kind: 'test', eventType: 'Test', instanceName: instanceOf(source) });
        t.throws(
          () => planWebhook(source, body),
          { code: 'WEBHOOK_NOT_ACTIONABLE' },
          'a Test is never planned',
        );
        return;
      }
      if (expected.kind === 'ignored') {
        if (parsed.kind !== 'ignored') return;
        t.equal(parsed.eventType, expected.eventType);
        t.equal(parsed.instanceName, instanceOf(source));
        t.match(parsed.reason, /\S/, 'says why it is ignored');
        t.throws(() => planWebhook(source, body), { code: 'WEBHOOK_NOT_ACTIONABLE' });
        return;
      }
      if (parsed.kind !== 'actionable') return;
      t.equal(parsed.eventType, expected.eventType);
      t.equal(parsed.title, expected.title);
      t.equal(parsed.instanceName, expected.instanceName ?? instanceOf(source));
      t.match(parsed.idempotencyKey, /^[0-9a-f]{64}$/);
      t.strictSame(planWebhook(source, body), expected.plan);
    },
  );
}

t.test('the same fixture sent to another app is judged by that app’s events', async (t) => {
  // A Radarr Download has no `series`: as a Sonarr delivery it is invalid, not silently planned.
  const parsed = parseWebhook('sonarr', fixture('radarr-download'));
  t.equal(parsed.kind, 'invalid');
  if (parsed.kind === 'invalid') t.strictSame(parsed.issues, [{ path: '/series', message: 'is required' }]);
  // Radarr has no Retag event: ignored, never invalid.
  t.equal(parseWebhook('radarr', fixture('lidarr-retag')).kind, 'ignored');
});
