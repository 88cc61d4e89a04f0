/**
 * The shapes the bench's phases return and its renderers read, for `// @ts-check` files
 * (checked by `npm run typecheck`).
 */

/** One autocannon run as bench/load-child.js and bench/scripted-load-child.js report it. */
export interface LoadResult {
  connections: number;
  duration: number;
  total: number;
  rps: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
  /** bench/scripted-load-child.js only: answers that passed or failed the script's check. */
  script?: { ok: number; bad: number; starved?: number; firstBad?: string; poolBefore?: number; poolAfter?: number };
}

/** Autocannon options the load generators take (url, method, headers, body, connections, duration in s). */
export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  duration?: number;
  /** bench/load-child.js: each request takes the next Authorization header and X-Forwarded-For address. */
  rotate?: { authorizations: string[]; forwardedFor: string[] };
  /** bench/scripted-load-child.js's refresh script: the public client. */
  clientId?: string;
}

/** A server the bench loads: where it is, its process, and the client it registered. */
export interface BenchTarget {
  name: string;
  url: string;
  pid: number | undefined;
  clientId: string;
  clientSecret: string;
  resource: string;
  scope: string;
  logs?: () => string;
  stop(): Promise<void>;
}
