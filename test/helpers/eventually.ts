/**
 * Waiting for what happens in the background (a polled or pushed event, a state change), and
 * reading a verifier's verdict as a string a test can compare.
 */
import { ResourceServerError, type Verifier } from '../../src/resource-server/index.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds, looking every `everyMs` (a deadline, not a speed assertion). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 10_000, everyMs = 10): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(everyMs);
  }
}

/** until() for a condition that needs no name (a database or a receiver looked at every 50 ms), within `ms`. */
export const eventually = (condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => until(condition, 'a condition that never held', ms, 50);

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

/** `ok`, or the module's refusal code alone (outcome() without the message). */
export async function outcomeCode(verifier: Verifier, token: string): Promise<string> {
  return (await outcome(verifier, token)).split(':')[0];
}
