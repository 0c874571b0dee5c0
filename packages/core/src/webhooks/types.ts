import type { TSchema } from 'typebox';

export type WebhookSource = 'radarr' | 'sonarr' | 'lidarr';

/** `path` is a JSON pointer into the body (`/movie/folderPath`, `''` for the body itself). */
export interface WebhookIssue {
  path: string;
  message: string;
}

export type ParsedWebhook =
  | { kind: 'invalid'; issues: WebhookIssue[] }
  | { kind: 'test'; eventType: 'Test'; instanceName?: string }
  | { kind: 'ignored'; eventType: string; reason: string; instanceName?: string }
  | { kind: 'actionable'; eventType: string; idempotencyKey: string; title?: string; instanceName?: string };

/** What the `webhook` job handler does for an accepted delivery. */
export type WebhookAction =
  | {
      action: 'scan-movie';
      folderPath: string;
      tmdbId?: number;
      imdbId?: string;
      title?: string;
      year?: number;
      radarrId?: number;
      eventType: string;
    }
  | { action: 'movie-removed'; folderPath: string; radarrId?: number; tmdbId?: number; filesDeleted: boolean }
  | {
      action: 'movie-added';
      folderPath: string;
      tmdbId?: number;
      imdbId?: string;
      title?: string;
      year?: number;
      radarrId?: number;
    }
  | {
      /** Record a Sonarr series folder (scan-series); `SeriesDelete` marks it removed. */
      action: 'scan-series';
      folderPath: string;
      eventType: string;
      tmdbId?: number;
      tvdbId?: number;
      imdbId?: string;
      title?: string;
      year?: number;
      sonarrId?: number;
    }
  | {
      action: 'notify-folder';
      folderPath: string;
      mediaKind: 'tv' | 'music';
      change: 'created' | 'modified' | 'deleted';
    };

/** A path the plan will act on, checked with `checkArrPath` (or the relative rules) at intake. */
export interface PathUse {
  pointer: string;
  value: string;
  relative?: boolean;
}

/** What makes two deliveries the same logical event. */
export interface EventIdentity {
  entity: string;
  /** File identities (ids, or paths where an id is missing); order does not matter. */
  files: string[];
  downloadId?: string;
}

/** One actionable event type of one app. `B` is the body after its schema accepted it. */
export interface EventHandlers<B> {
  paths(body: B): PathUse[];
  identity(body: B): EventIdentity;
  title(body: B): string | undefined;
  plan(body: B, eventType: string): WebhookAction[];
}

export interface AppEvents {
  /** Known event types that never lead to work, with the reason given back to the caller. */
  ignored: ReadonlyMap<string, string>;
  actionable: ReadonlyMap<string, ActionableEvent>;
}

export interface ActionableEvent extends EventHandlers<unknown> {
  /** The fields of the body this event's handlers read (the body may carry more). */
  schema: TSchema;
  check(body: unknown): boolean;
  errors(body: unknown): WebhookIssue[];
}
