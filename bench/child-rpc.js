// @ts-check
/**
 * A child process spoken to by request and answer over IPC: each `send(msg)` gets an id and
 * resolves with the child's `{id, result}` (or rejects with its `{id, error}`). The child first
 * says `{ready: true}`. Used by the load generators (bench/load.js, bench/scripted-load.js).
 */
import { fork } from 'node:child_process';
import { tail, trackChild } from './procs.js';

/**
 * @param {string | URL} file
 * @param {string} label
 */
export async function startChild(file, label) {
  const child = trackChild(fork(file, [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] }), label);
  const stderr = tail(/** @type {import('node:stream').Readable} */ (child.stderr));
  /** @type {Map<number, { resolve: (result: any) => void, reject: (err: Error) => void }>} */
  const pending = new Map();
  let nextId = 1;
  child.on('message', (/** @type {any} */ msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`autocannon failed: ${msg.error}`));
    else p.resolve(msg.result);
  });
  child.on('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`${label} exited (code ${code}, signal ${signal})\n${stderr()}`));
    pending.clear();
  });
  await new Promise((resolve, reject) => {
    child.once('message', (/** @type {any} */ m) => (m?.ready ? resolve(undefined) : reject(new Error(`unexpected first message from ${label}`))));
    child.once('error', reject);
  });
  return {
    pid: child.pid,
    child,
    /**
     * One request to the child; resolves with its answer's `result`.
     * @param {Record<string, unknown>} msg
     * @returns {Promise<any>}
     */
    send(msg) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...msg, id });
      });
    },
  };
}
