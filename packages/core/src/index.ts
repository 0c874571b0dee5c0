export * from './async.ts';
export * from './bootstrap.ts';
export * from './clients/address.ts';
export * from './clients/alerts.ts';
export * from './clients/fanart.ts';
export * from './clients/images.ts';
export { createJellyfinClient } from './clients/jellyfin.ts';
export { createKodiClient } from './clients/kodi.ts';
export { createPlexClient } from './clients/plex.ts';
export * from './clients/tmdb.ts';
export * from './config.ts';
export type { EnvGroup, EnvMeta } from './configRules.ts';
export {
  type EnvName,
  EnvSchema,
  type EnvValues,
  type EnvVariable,
  envVariables,
} from './configSchema.ts';
export * from './dataDir.ts';
export * from './db/connect.ts';
export * from './db/embedded.ts';
export * from './db/embeddedInstall.ts';
export * from './db/migrate.ts';
export type * from './db/schema.ts';
export * from './errors.ts';
export * from './fence.ts';
export * from './files/atomicFile.ts';
export * from './files/nfo.ts';
export * from './jobs/catalog.ts';
export * from './jobs/events.ts';
export * from './jobs/store/index.ts';
export * from './log.ts';
export * from './media.ts';
export * from './mediaRoots.ts';
export * from './paths.ts';
export * from './records/alerts.ts';
export * from './records/deliveries.ts';
export * from './records/libraries.ts';
export * from './records/movies.ts';
export * from './records/pathMappings.ts';
export * from './records/playerGroups.ts';
export * from './records/players.ts';
export * from './records/providerCache.ts';
export * from './records/providerRequests.ts';
export * from './records/publishedFiles.ts';
export * from './schema.ts';
export * from './secrets.ts';
export * from './services/alerts.ts';
export * from './services/discover.ts';
export * from './services/enrich.ts';
export * from './services/libraryScan.ts';
export * from './services/movies.ts';
export * from './services/notification.ts';
export * from './services/playerTest.ts';
export * from './services/providerCache.ts';
export * from './services/publish.ts';
export * from './services/resolve.ts';
export * from './services/scan.ts';
export * from './services/schedules.ts';
export * from './services/select.ts';
export * from './services/settings.ts';
export * from './tv/metadata.ts';
export * from './tv/names.ts';
export * from './tv/nfo.ts';
export * from './webhooks/index.ts';
