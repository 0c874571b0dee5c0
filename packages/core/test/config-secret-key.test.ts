import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.ts';

t.test('METARR_SECRET_KEY: read when set, at least 32 characters, unset by default', async (t) => {
  t.equal(loadConfig({}).secretKey, undefined);
  t.equal(loadConfig({ METARR_SECRET_KEY: 'k'.repeat(32) }).secretKey, 'k'.repeat(32));
  t.throws(() => loadConfig({ METARR_SECRET_KEY: 'short' }), ConfigError);
  try {
    loadConfig({ METARR_SECRET_KEY: 'short' });
  } catch (err) {
    t.match((err as ConfigError).problems, [/METARR_SECRET_KEY must be at least 32/]);
  }
});
