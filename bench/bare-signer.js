/** Starts bench/bare-signer-child.js on a free loopback port (see there for what it is). */
import { fork } from 'node:child_process';
import { freePort, stopChild, tail, trackChild } from './procs.js';

export async function startBareSigner({ resource, scope }) {
  const port = await freePort();
  const child = trackChild(fork(new URL('./bare-signer-child.js', import.meta.url), [], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }), 'bare signer');
  const err = tail(child.stderr);
  const logs = () => `--- bare signer stderr ---\n${err()}`;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bare signer did not start within 20 s\n${logs()}`)), 20_000);
    child.once('message', (m) => { clearTimeout(timer); m?.ready ? resolve() : reject(new Error('unexpected message')); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the bare signer exited (code ${code})\n${logs()}`)); });
  });
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
