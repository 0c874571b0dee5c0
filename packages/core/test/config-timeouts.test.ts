import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.ts';

t.test('player and provider timeouts default to 10 s and 15 s', async (t) => {
  const c = loadConfig({});
  t.equal(c.playerTimeoutSeconds, 10);
  t.equal(c.providerTimeoutSeconds, 15);
});

t.test('a slow player or provider gets a longer timeout from the environment', async (t) => {
  const c = loadConfig({ METARR_PLAYER_TIMEOUT_SECONDS: '45', METARR_PROVIDER_TIMEOUT_SECONDS: '60' });
  t.equal(c.playerTimeoutSeconds, 45);
  t.equal(c.providerTimeoutSeconds, 60);
});

t.test('bad timeouts are rejected, each named, all reported at once', async (t) => {
  for (const bad of ['0', '301', 'ten', '1.5']) {
    const err = t.throws(() =>
      loadConfig({ METARR_PLAYER_TIMEOUT_SECONDS: bad, METARR_PROVIDER_TIMEOUT_SECONDS: bad }),
    ) as ConfigError;
    t.ok(err instanceof ConfigError, `${bad} is a ConfigError`);
    t.match(err.problems.join('\n'), /METARR_PLAYER_TIMEOUT_SECONDS/, `${bad}: the player variable is named`);
    t.match(err.problems.join('\n'), /METARR_PROVIDER_TIMEOUT_SECONDS/, `${bad}: the provider variable too`);
  }
});
