/**
 * Drives autocannon in a child process (bench/load-child.js). The child still shares the
 * machine's cores with the server under test; its CPU use is measured and printed.
 */
import { fork } from 'node:child_process';
import { tail, trackChild } from './procs.js';

export async function startLoadGenerator() {
  const child = trackChild(fork(new URL('./load-child.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] }), 'load generator');
  const stderr = tail(child.stderr);
  const pending = new Map();
  let nextId = 1;
  child.on('message', (msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`autocannon failed: ${msg.error}`));
    else p.resolve(msg.result);
  });
  child.on('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited (code ${code}, signal ${signal})\n${stderr()}`));
    pending.clear();
  });
  await new Promise((resolve, reject) => {
    child.once('message', (m) => (m?.ready ? resolve() : reject(new Error('unexpected first message from load generator'))));
    child.once('error', reject);
  });
  return {
    pid: child.pid,
    child,
    /** autocannon options: url, method, headers, body, connections, duration (s). */
    run(opts) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, opts });
      });
    },
  };
}
