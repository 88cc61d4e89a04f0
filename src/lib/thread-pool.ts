import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/*
 * libuv's thread pool runs both the RS256 signatures (tokens/access-token.ts) and every SQLite
 * statement (sqlite3 has no other thread). Its size is libuv's: UV_THREADPOOL_SIZE as the process
 * starts, 4 without it. Grantor does not set it: libuv reads it when the pool is created, and the
 * ES module loader's file reads create the pool before any of Grantor's modules runs (an earlier
 * `process.env.UV_THREADPOOL_SIZE ??= …` here therefore never took effect). Nor should it: eight
 * threads instead of four, given in the environment, cost the refresh grant ~11 % at c=50 (fewer
 * rotations wait to join each group commit, so more commits) and changed client_credentials by
 * nothing beyond the noise (issue #14).
 */

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
