import t from 'tap';
import { ConfigError, loadConfig, parseEnv } from '../src/config.ts';
import { envVariables } from '../src/configSchema.ts';

const metarrVariables = envVariables().filter((v) => !v.meta.composeOnly);
const integers = metarrVariables.filter((v) => v.schema.type === 'integer');

t.test('with nothing set, every variable Metarr reads takes the default its schema declares', async (t) => {
  const { values, problems } = parseEnv({});
  t.same(problems, []);
  for (const v of metarrVariables)
    t.same((values as Record<string, unknown>)[v.name], v.schema.default, `${v.name} default`);
});

t.test(
  'every integer variable refuses values past the bounds its schema declares, naming them',
  async (t) => {
    t.ok(integers.length >= 10, `${integers.length} integer variables`);
    for (const { name, schema } of integers) {
      const min = schema.minimum as number;
      const max = schema.maximum as number;
      const bounds = `${name} must be an integer from ${min} to ${max}`;
      t.match(parseEnv({ [name]: String(max + 1) }).problems, [bounds], `${name} above ${max}`);
      if (min > 0) t.match(parseEnv({ [name]: String(min - 1) }).problems, [bounds], `${name} below ${min}`);
      t.equal((parseEnv({ [name]: String(max) }).values as Record<string, unknown>)[name], max);
    }
  },
);

t.test('every bad variable is reported in one error, none left for the next start', async (t) => {
  const env = Object.fromEntries(integers.map((v) => [v.name, 'x']));
  const err = t.throws(() =>
    loadConfig({ ...env, LOG_LEVEL: 'loud', METARR_WRITE_MOVIE_NFO: 'yes', METARR_PUBLIC_URL: 'nope' }),
  ) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.problems.length, integers.length + 3);
});

t.test('variables only docker compose reads are not parsed by Metarr', async (t) => {
  const composeOnly = envVariables().filter((v) => v.meta.composeOnly);
  t.ok(composeOnly.length > 0);
  for (const v of composeOnly) t.notOk(v.name in parseEnv({ [v.name]: 'x' }).values, v.name);
});
