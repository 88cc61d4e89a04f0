import { availableParallelism } from 'node:os';

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
