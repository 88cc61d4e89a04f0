// @ts-check
/**
 * Drives bench/scripted-load-child.js (autocannon with per-request setup and answer checks) in a
 * child process, like bench/load.js does for fixed requests.
 */
import { startChild } from './child-rpc.js';

export async function startScriptedLoadGenerator() {
  const { pid, child, send } = await startChild(new URL('./scripted-load-child.js', import.meta.url), 'scripted load generator');
  return {
    pid,
    child,
    /** Replaces the refresh token pool of the 'refresh' script. */
    setPool: (/** @type {string[]} */ tokens) => send({ type: 'pool', tokens }),
    /** The pool's size and one of its tokens (the head of some rotation chain). */
    peekPool: () => send({ type: 'peek' }),
    /** `script`: 'refresh' | 'introspect' | 'dpop' | 'code'; opts: url, method, headers, body, connections, duration (s), and the script's own (clientId). */
    run: (/** @type {'refresh' | 'introspect' | 'dpop' | 'code'} */ script, /** @type {import('./types.js').LoadOptions} */ opts) => send({ script, opts }),
  };
}
