import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db, JobQueue, Logger, MetarrConfig } from '@metarr/core';
import type { FastifyPluginAsync, RawServerDefault } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { TSchema } from 'typebox';
import type { AuthConfig } from './auth.ts';
import type { AuthLimit } from './authLimit.ts';
import type { FeedOptions } from './feed/routes.ts';
import type { ApiMetrics } from './metrics.ts';
import type { TmdbSource } from './tmdbSource.ts';

/** What the API process hands every route plugin (built in main.ts, or by a test). */
export interface AppDeps {
  db: Db;
  boss: PgBoss;
  queue: JobQueue;
  log: Logger;
  auth: AuthConfig;
  config: Pick<MetarrConfig, 'basePath' | 'trustProxy'> &
    Partial<Pick<MetarrConfig, 'tmdbApiKey' | 'fanartApiKey' | 'mediaRoots' | 'dataDir' | 'publicUrl'>>;
  /** The job progress feed's dedicated LISTEN connection; without it `/api/ws` answers 503. */
  feed?: FeedOptions;
  /** Set by the feed plugin: whether its LISTEN connection is up (for `/api/health/ready`). */
  feedListening?: () => boolean;
  /** The `/metrics` registry; buildApp makes one when absent. */
  metrics?: ApiMetrics;
  /** TMDB for the identify search; without it `GET /api/movies/:id/identify` answers 503. */
  tmdb?: TmdbSource;
  /** Overrides of AUTH_LIMIT (failed authentications per address before 429). */
  authLimit?: Partial<AuthLimit>;
  /** Overrides of HTTP_TIMEOUTS (tests shorten them to prove a slow client is cut). */
  timeouts?: Partial<HttpTimeouts>;
}

/**
 * A route file: a Fastify plugin whose request parts are typed from the TypeBox schemas it declares
 * (`req.params.id` is a number because `params` says so), so no handler casts what it receives.
 */
export type RoutePlugin = FastifyPluginAsync<AppDeps, RawServerDefault, TypeBoxTypeProvider>;

export interface HttpTimeouts {
  /** Whole request headers must arrive within this (slowloris). */
  headersMs: number;
  /** Whole request, body included. */
  requestMs: number;
  /** Socket idle time before it is closed. */
  idleMs: number;
  /** Kept longer than a reverse proxy's idle timeout (nginx 75 s), so the proxy closes first. */
  keepAliveMs: number;
  /** How often Node checks headersMs/requestMs on open connections. */
  checkEveryMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  idleMs: 60_000,
  keepAliveMs: 90_000,
  checkEveryMs: 2_000,
};

/** A worst-case real delivery (Sonarr "import complete" of a 200-episode pack) is ~400 KiB. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** Who may call a route: nobody needs a key (`none`), the API key, or webhook credentials too. */
export type RouteAuth = 'none' | 'api' | 'webhook';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifySchema {
    /**
     * A body shown in the OpenAPI document but not validated before the handler: webhook routes
     * judge their bodies themselves (an unknown event must still get its 200).
     */
    documentedBody?: TSchema;
  }
}
