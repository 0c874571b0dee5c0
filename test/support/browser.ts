import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium unless CHROMIUM_PATH names another Chromium or Chrome binary. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const HOW = `install it (apt install chromium) or set CHROMIUM_PATH to a Chromium/Chrome binary`;

/**
 * Why a browser test is skipped, or false to run it. Chromium is needed only by the browser tests, so
 * on a developer machine without it they are skipped and named; under CI=true a missing browser is
 * not skipped and the test fails in launchChromium.
 */
export function browserSkip(
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = fs.existsSync,
): string | false {
  const bin = env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (exists(bin)) return false;
  if (env.CI === 'true') return false;
  return `browser test skipped: Chromium not found at ${bin}; ${HOW} (with CI=true a missing browser fails)`;
}

/** Chromium, headless; closed with the test. A missing browser fails with how to get it. */
export async function launchChromium(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: ${HOW}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.teardown(() => browser.close());
  return browser;
}
