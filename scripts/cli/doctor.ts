/**
 * `doctor`: Node version, database, each library's disk space and write permission, each player
 * and TMDB reachable — and, for each problem, what to fix.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { createTmdbClient, errorCode, listLibraries, listPlayers, testPlayer } from '@metarr/core';
import { cliConfig, withDatabase } from './context.ts';
import { type Args, allowFlags, CliError, out, printJson, table } from './io.ts';

type Level = 'ok' | 'warn' | 'fail';
interface Check {
  level: Level;
  check: string;
  detail: string;
  fix: string | null;
}

/** Below this much free space a library is a warning: artwork and NFOs need room. */
const LOW_DISK_BYTES = 1024 ** 3;
const MIN_NODE = [22, 18] as const;

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB free`;

function nodeCheck(): Check {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    level: ok ? 'ok' : 'fail',
    check: 'node',
    detail: `Node ${process.versions.node}`,
    fix: ok ? null : `install Node ${MIN_NODE.join('.')} or newer`,
  };
}

async function libraryCheck(l: { id: number; name: string; path: string }): Promise<Check> {
  const check = `library ${l.id} "${l.name}"`;
  try {
    await fs.access(l.path, constants.W_OK);
  } catch (err) {
    const missing = errorCode(err) === 'ENOENT';
    return {
      level: 'fail',
      check,
      detail: `${l.path} ${missing ? 'does not exist' : 'is not writable'}`,
      fix: missing
        ? 'mount the folder or correct the library path'
        : `give the Metarr user (uid ${process.getuid?.() ?? '?'}) write access, e.g. PUID/PGID in Docker`,
    };
  }
  const s = await fs.statfs(l.path);
  const free = s.bavail * s.bsize;
  const low = free < LOW_DISK_BYTES;
  return {
    level: low ? 'warn' : 'ok',
    check,
    detail: `${l.path} writable, ${gib(free)}`,
    fix: low ? 'free some disk space: artwork and NFO files need room' : null,
  };
}

async function tmdbCheck(apiKey: string | undefined, baseUrl: string): Promise<Check> {
  if (!apiKey)
    return { level: 'warn', check: 'tmdb', detail: 'no API key', fix: 'set TMDB_API_KEY to fetch metadata' };
  try {
    await createTmdbClient({ baseUrl, apiKey, timeoutMs: 5000 }).movie(603, { language: 'en-US' });
    return { level: 'ok', check: 'tmdb', detail: `${baseUrl} answers with the key`, fix: null };
  } catch (err) {
    const code = errorCode(err) ?? 'error';
    const rejected = /AUTH|KEY|401/i.test(code);
    return {
      level: 'fail',
      check: 'tmdb',
      detail: `${baseUrl}: ${code}`,
      fix: rejected ? 'TMDB rejected the key: check TMDB_API_KEY' : 'check the network path to TMDB',
    };
  }
}

export async function doctor(args: Args): Promise<number> {
  allowFlags(args, []);
  const checks: Check[] = [nodeCheck()];
  try {
    await withDatabase(async (ctx) => {
      checks.push({ level: 'ok', check: 'database', detail: 'reachable, schema up to date', fix: null });
      for (const l of await listLibraries(ctx.dbh.db)) checks.push(await libraryCheck(l));
      for (const p of await listPlayers(ctx.dbh.db)) {
        const r = await testPlayer(p, { timeoutMs: 5000 });
        checks.push({
          level: r.status === 'ok' ? 'ok' : 'fail',
          check: `player ${p.id} "${p.name}"`,
          detail: r.status === 'ok' ? `${p.type} ${r.version ?? ''} reachable`.trim() : r.status,
          fix: r.status === 'ok' ? null : r.message,
        });
      }
    });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    checks.push({
      level: 'fail',
      check: 'database',
      detail: err.message,
      fix: 'start PostgreSQL or correct DATABASE_URL',
    });
  }
  const config = cliConfig();
  checks.push(await tmdbCheck(config.tmdbApiKey, config.tmdbBaseUrl));
  if (args.json) printJson(checks);
  else {
    out(
      table(
        ['', 'CHECK', 'RESULT'],
        checks.map((c) => [c.level.toUpperCase(), c.check, c.detail]),
      ),
    );
    const fixes = checks.filter((c) => c.fix);
    if (fixes.length) out(`\nTo fix:\n${fixes.map((c) => `  - ${c.check}: ${c.fix}`).join('\n')}`);
  }
  return checks.some((c) => c.level === 'fail') ? 1 : 0;
}
