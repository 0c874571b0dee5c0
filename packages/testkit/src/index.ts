export * from './fake-fanart.ts';
export * from './fake-jellyfin.ts';
export * from './fake-kodi.ts';
export * from './fake-plex.ts';
export * from './fake-tmdb.ts';
export * from './files.ts';
export type { FakeMode, FakeServerBase } from './http-fake.ts';
export * from './tcp-proxy.ts';
export * from './wait.ts';
