/** Where a batch goes: one call per batch. */
export type BatchSink = (chunk: string) => void;

export interface BatchedOutputOptions {
  sink: BatchSink;
  /** Lines are handed on once this many characters are waiting… */
  batchBytes: number;
  /** …or this many milliseconds after the first of them, whichever comes first. */
  flushMs: number;
}

/** A pino destination: `write(line)`, and `flushSync()` to hand on whatever is waiting now. */
export interface BatchedOutput {
  write(line: string): void;
  flushSync(): void;
}

/**
 * Log lines gathered in memory and handed to `sink` in batches: one hand-over per batch (deps.ts:
 * 64 KB) instead of one per line. Each hand-over to the log's writer thread wakes that thread (a
 * futex call), and per line that cost the token path ~10 % of issuance (issue #14 item 1).
 * Whatever is waiting is handed on synchronously on the process's `exit` event, which follows
 * `process.exit()` and an uncaught exception alike, and which fires before the writer thread's own
 * flush (registered later), so a crash loses no line already logged.
 */
export function batchedOutput(opts: BatchedOutputOptions): BatchedOutput {
  let waiting: string[] = [];
  let waitingBytes = 0;
  let timer: NodeJS.Timeout | undefined;

  function flushSync(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const chunk = waiting.join('');
    waiting = [];
    waitingBytes = 0;
    opts.sink(chunk);
  }

  process.once('exit', flushSync);
  return {
    write(line: string): void {
      waiting.push(line);
      waitingBytes += line.length;
      if (waitingBytes >= opts.batchBytes) flushSync();
      else timer ??= setTimeout(flushSync, opts.flushMs).unref();
    },
    flushSync,
  };
}
