/**
 * Drives bench/scripted-load-child.js (autocannon with per-request setup and answer checks) in a
 * child process, like bench/load.js does for fixed requests.
 */
import { fork } from 'node:child_process';
import { tail, trackChild } from './procs.js';

export async function startScriptedLoadGenerator() {
  const child = trackChild(fork(new URL('./scripted-load-child.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] }), 'scripted load generator');
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
    for (const p of pending.values()) p.reject(new Error(`scripted load generator exited (code ${code}, signal ${signal})\n${stderr()}`));
    pending.clear();
  });
  await new Promise((resolve, reject) => {
    child.once('message', (m) => (m?.ready ? resolve() : reject(new Error('unexpected first message from scripted load generator'))));
    child.once('error', reject);
  });
  const send = (msg) => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.send({ ...msg, id });
    });
  };
  return {
    pid: child.pid,
    child,
    /** Replaces the refresh token pool of the 'refresh' script. */
    setPool: (tokens) => send({ type: 'pool', tokens }),
    /** The pool's size and one of its tokens (the head of some rotation chain). */
    peekPool: () => send({ type: 'peek' }),
    /** `script`: 'refresh' | 'introspect'; opts: url, method, headers, body, connections, duration (s), and the script's own (clientId). */
    run: (script, opts) => send({ script, opts }),
  };
}
