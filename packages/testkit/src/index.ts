export * from './fake-jellyfin.ts';
export * from './fake-kodi.ts';
export * from './fake-plex.ts';
export type { FakeMode, FakeServerBase } from './http-fake.ts';
