import { readdirSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';

/**
 * libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default) runs both the RS256 signatures
 * (tokens/access-token.ts) and every SQLite statement (sqlite3 has no other thread). Under load the
 * signatures queued ahead of a statement stall the one SQLite connection, and with it every refresh
 * rotation waiting for that connection (issue #14). A larger pool lets the statement run beside
 * them. Imported first by main.ts: the pool is created at its first use and never resized. An
 * operator's own UV_THREADPOOL_SIZE wins.
 */
export const THREAD_POOL_SIZE = Math.max(8, 2 * availableParallelism());

process.env.UV_THREADPOOL_SIZE ??= String(THREAD_POOL_SIZE);

/**
 * Lowers the priority (raises the nice value) of this process's threads other than the event loop:
 * libuv's pool (the signatures, SQLite's statements), the log's writer, V8's helpers. Every request
 * goes through the one event loop; when it queues a signature or a statement it wakes a pool
 * thread, and at the same priority Linux let that thread take the event loop's core at once: the
 * loop's CPU profile showed a fifth of its time inside the calls that queue a signature. A pool
 * thread of lower priority runs beside the loop instead of in its place. Measured side by side
 * (6 alternating rounds, 2 cores shared with the load generator): client_credentials +11 %, the
 * refresh grant +17 % at c=50 and +6 % at c=10, with less CPU per request (issue #14).
 *
 * Linux only (its threads are listed in /proc/self/task; raising one's own threads' nice value
 * needs no privilege); elsewhere, or with `nice` 0, nothing changes. Called once the process
 * listens: the pool's threads exist by then (the keys and the database were read through it).
 * Answers how many threads it lowered.
 */
export function lowerHelperThreads(nice: number): number {
  if (nice === 0 || process.platform !== 'linux') return 0;
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const tid of tasks.map(Number)) {
    if (tid === process.pid) continue;
    try {
      setPriority(tid, nice);
      lowered++;
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return lowered;
}
