/**
 * `api-key [--rotate|--regenerate]` — the API key is stored only as a hash, so it cannot be shown
 * again; rotating issues a new one (printed once) and the old one stops working at once.
 */
import { readApiKeyHash, rotateApiKey } from '@metarr/core';
import { cliConfig, withDatabase } from './context.ts';
import { type Args, allowFlags, CliError, out } from './io.ts';

export async function apiKey(args: Args): Promise<void> {
  allowFlags(args, ['rotate', 'regenerate']);
  const rotate = args.flags.has('rotate') || args.flags.has('regenerate');
  if (cliConfig().apiKey) {
    const msg = 'METARR_API_KEY is set in the environment';
    if (rotate) throw new CliError(`${msg}: change it there and restart to rotate the key`);
    out(`${msg}; that is the key.`);
    return;
  }
  await withDatabase(async (ctx) => {
    if (rotate) {
      out(await rotateApiKey(ctx.dbh.db));
      process.stderr.write('New API key issued; the previous key no longer works.\n');
      return;
    }
    const hash = await readApiKeyHash(ctx.dbh.db).catch(() => null);
    throw new CliError(
      hash
        ? 'the API key is stored only as a hash and cannot be shown; issue a new one with: pnpm metarr api-key --rotate'
        : 'no API key stored yet: start Metarr once (pnpm start) to generate one',
    );
  });
}
