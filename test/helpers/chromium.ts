/**
 * Debian's chromium, driven by playwright-core (which downloads no browser), the one way every
 * browser test starts it. A suite that needs it fails without it: it is never skipped, so a
 * machine without chromium cannot pass the browser tests by not running them.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless chromium as the tests run it: no sandbox (chromium refuses to start as root with one, as
 * in a container), no GPU, and none of its own traffic (component updates, background fetches,
 * first-run pages) beside the test's.
 */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Launches chromium; throws (the suite fails, never skips) when /usr/bin/chromium is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`this suite needs chromium at ${CHROMIUM} (apt-get install chromium); it is not skipped`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
