/**
 * The part of autocannon (no published types) that bench/load-child.js and
 * bench/scripted-load-child.js use.
 */
declare module 'autocannon' {
  export interface AutocannonRequest {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Builds each request from the previous one's shape; returns the request to send. */
    setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
    /** Reads each answer. */
    onResponse?: (status: number, body: string) => void;
  }
  export interface AutocannonOptions {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Requests in all: the run ends when they are answered (instead of a duration). */
    amount?: number;
    pipelining?: number;
    /** How often (ms) autocannon samples, and looks whether the run is over (default 1000). */
    sampleInt?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: AutocannonRequest[];
    /** Called with each client (connection) once: its 'response' event gives (status, bytes, ms). */
    setupClient?: (client: import('node:events').EventEmitter) => void;
  }
  export interface Percentiles {
    p50: number;
    p90: number;
    p99: number;
    max: number;
    mean: number;
  }
  export interface AutocannonResult {
    duration: number;
    requests: Percentiles & { total: number };
    latency: Percentiles;
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  function autocannon(opts: AutocannonOptions): Promise<AutocannonResult>;
  export default autocannon;
}
