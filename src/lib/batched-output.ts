import fs from 'node:fs';

export interface BatchedOutputOptions {
  /** The file descriptor written to (1: standard output). */
  fd: number;
  /** Lines are written once this many bytes are waiting… */
  batchBytes: number;
  /** …or this many milliseconds after the first of them, whichever comes first. */
  flushMs: number;
}

/** A pino destination: `write(line)`, and `flushSync()` to write out whatever is waiting now. */
export interface BatchedOutput {
  write(line: string): void;
  flushSync(): void;
}

/** How long, in all, a write waits on a full non-blocking pipe (EAGAIN) before the batch is dropped. */
const EAGAIN_PATIENCE_MS = 1000;

/**
 * Log lines gathered in memory and written in batches: one `write(2)` per batch instead of one
 * per line (the per-line write cost the token path more than 5 % of issuance: issue #14 item 1).
 * Writes stay synchronous, so nothing is ever half-way in a thread pool: whatever is waiting is
 * written by `flushSync()` on the process's `exit` event, which follows `process.exit()` and an
 * uncaught exception alike — a crash loses no line already logged (only a kill -9 can lose the last
 * `flushMs`). A broken output (EPIPE, a closed descriptor) stops the logging, never the process:
 * an exit never hangs on it.
 */
export function batchedOutput(opts: BatchedOutputOptions): BatchedOutput {
  let waiting: string[] = [];
  let waitingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let broken = false;

  function flushSync(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const bytes = Buffer.from(waiting.join(''));
    waiting = [];
    waitingBytes = 0;
    if (!broken) writeAll(bytes);
  }

  function writeAll(bytes: Buffer): void {
    let offset = 0;
    let waitedMs = 0;
    while (offset < bytes.length) {
      try {
        offset += fs.writeSync(opts.fd, bytes, offset, bytes.length - offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EBUSY') && waitedMs < EAGAIN_PATIENCE_MS) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          waitedMs += 5;
          continue;
        }
        if (code !== 'EAGAIN' && code !== 'EBUSY') broken = true;
        return;
      }
    }
  }

  process.once('exit', flushSync);
  return {
    write(line: string): void {
      if (broken) return;
      waiting.push(line);
      waitingBytes += line.length;
      if (waitingBytes >= opts.batchBytes) flushSync();
      else timer ??= setTimeout(flushSync, opts.flushMs).unref();
    },
    flushSync,
  };
}
