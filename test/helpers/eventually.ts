/**
 * Waiting for what happens in the background (a polled or pushed event, a state change), and
 * reading a verifier's verdict as a string a test can compare.
 */
import { ResourceServerError, type Verifier } from '../../src/resource-server/index.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds (a deadline, not a speed assertion). */
export async function until(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** `ok`, or the module's refusal as `code: message`. */
export async function outcome(verifier: Verifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'ok';
  } catch (err) {
    if (err instanceof ResourceServerError) return `${err.code}: ${err.message}`;
    throw err;
  }
}
