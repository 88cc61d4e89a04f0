// @ts-check
/**
 * Drives autocannon in a child process (bench/load-child.js). The child still shares the
 * machine's cores with the server under test; its CPU use is measured and printed.
 */
import { startChild } from './child-rpc.js';

export async function startLoadGenerator() {
  const { pid, child, send } = await startChild(new URL('./load-child.js', import.meta.url), 'load generator');
  return {
    pid,
    child,
    /** autocannon options: url, method, headers, body, connections, duration (s). */
    run: (/** @type {import('./types.js').LoadOptions} */ opts) => send({ opts }),
  };
}
