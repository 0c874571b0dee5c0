/** A fake TMDB and fanart.tv on 127.0.0.1 and the environment that points a worker at them. */
import { type FakeFanart, type FakeTmdb, startFakeFanart, startFakeTmdb } from '@metarr/testkit';

export async function providerFakes(t: {
  teardown(fn: () => unknown): void;
}): Promise<{ tmdb: FakeTmdb; fanart: FakeFanart; env: Record<string, string> }> {
  const tmdb = await startFakeTmdb();
  const fanart = await startFakeFanart();
  t.teardown(() => Promise.all([tmdb.close(), fanart.close()]));
  return {
    tmdb,
    fanart,
    env: {
      TMDB_API_KEY: 'tmdb-test-key',
      FANART_API_KEY: 'fanart-test-key',
      METARR_TMDB_BASE_URL: tmdb.apiUrl,
      METARR_TMDB_IMAGE_BASE_URL: tmdb.imageUrl,
      METARR_FANART_BASE_URL: fanart.apiUrl,
    },
  };
}
