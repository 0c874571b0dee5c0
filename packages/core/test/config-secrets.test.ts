import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { type ConfigError, loadConfig } from '../src/config.ts';

const GOOD_KEY = '3f6c1e0a9b7d4c2e8f5a1b3c7d9e0f2a';

t.test('known placeholder API keys are refused, naming METARR_API_KEY', async (t) => {
  for (const key of [
    'change-me-to-a-long-random-string',
    'changeme',
    'change-me',
    'CHANGEME-CHANGEME-CHANGEME-CHANGEME',
    'your-api-key-here-your-api-key-here',
    'replace-me-with-a-long-random-string',
  ]) {
    const err = t.throws(() => loadConfig({ METARR_API_KEY: key })) as ConfigError;
    t.match(err.problems.join('\n'), /METARR_API_KEY/, `"${key}" is refused`);
  }
});

t.test('API keys under 32 characters, or with too few distinct characters, are refused', async (t) => {
  const short = t.throws(() => loadConfig({ METARR_API_KEY: GOOD_KEY.slice(0, 31) })) as ConfigError;
  t.match(short.problems.join('\n'), /METARR_API_KEY must be at least 32 characters/);
  t.throws(() => loadConfig({ METARR_API_KEY: 'a'.repeat(40) }), /METARR_API_KEY/);
  t.throws(() => loadConfig({ METARR_API_KEY: 'abababababababababababababababab' }), /METARR_API_KEY/);
  t.equal(loadConfig({ METARR_API_KEY: GOOD_KEY }).apiKey, GOOD_KEY, 'a random 32-character key is fine');
  t.equal(loadConfig({}).apiKey, undefined, 'unset: the key is generated and stored hashed');
});

t.test('the webhook Basic password needs at least 12 characters', async (t) => {
  const err = t.throws(() =>
    loadConfig({ METARR_WEBHOOK_USERNAME: 'radarr', METARR_WEBHOOK_PASSWORD: 'short-pw-11' }),
  ) as ConfigError;
  t.match(err.problems.join('\n'), /METARR_WEBHOOK_PASSWORD must be at least 12 characters/);
  const ok = loadConfig({ METARR_WEBHOOK_USERNAME: 'radarr', METARR_WEBHOOK_PASSWORD: 'twelve-chars' });
  t.equal(ok.webhookPassword, 'twelve-chars');
});

t.test(
  'a process started with a placeholder key exits 2 with one clear line naming METARR_API_KEY',
  async (t) => {
    const config = path.resolve(import.meta.dirname, '..', 'src', 'config.ts');
    const script = `import { loadConfigOrExit } from ${JSON.stringify(config)}; loadConfigOrExit(); console.log('started');`;
    const err = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, METARR_API_KEY: 'change-me-to-a-long-random-string' },
    }).then(
      () => null,
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    t.ok(err, 'the process fails');
    t.equal(err?.code, 2, 'exit code 2');
    t.match(err?.stderr, /METARR_API_KEY is a placeholder/);
    t.notMatch(err?.stdout, /started/);
  },
);
