/** `pnpm metarr <command>`: a small dispatcher; the commands live in scripts/cli/. */
import { runCli } from './cli/index.ts';

process.exitCode = await runCli(process.argv.slice(2));
