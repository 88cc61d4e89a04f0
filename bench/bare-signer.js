// @ts-check
/** Starts bench/bare-signer-child.js on a free loopback port (see there for what it is). */
import { forkUntilReady, freePort, stopChild } from './procs.js';

/**
 * @param {{ resource: string, scope: string }} o
 * @returns {Promise<import('./types.js').BenchTarget>}
 */
export async function startBareSigner({ resource, scope }) {
  const port = await freePort();
  const { child, logs } = await forkUntilReady(new URL('./bare-signer-child.js', import.meta.url), { env: { ...process.env, PORT: String(port) }, label: 'bare signer' });
  return {
    name: 'bare signer',
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    clientId: 'bare-client',
    clientSecret: 'unused',
    resource,
    scope,
    logs,
    stop: () => stopChild(child),
  };
}
