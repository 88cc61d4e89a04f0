// @ts-check
/**
 * One autocannon run as both load generators' children make it (bench/load-child.js,
 * bench/scripted-load-child.js): one request in flight per connection, and the figures the bench
 * reports, with latency percentiles to a hundredth of a millisecond.
 *
 * autocannon keeps its latencies in an HDR histogram of whole milliseconds: a response of 12.9 ms
 * counts as 12. At a p50 of 12 ms that cuts the median by up to 8 % and the p99 by less, so every
 * p99/p50 came out up to 8 % too high, and a p50 under 1 ms read 0. autocannon hands each client's
 * answer time (in ms, from its own clock, before truncation) to a 'response' listener: this records
 * those of the 2xx answers (the ones autocannon's own figures count) and ranks them exactly.
 */

import autocannon from 'autocannon';
import { quantile } from './report.js';

/**
 * autocannon looks whether a run is over once per sample interval (default 1 s): a run shorter than
 * a second (a smoke run's) would last a whole second; sampled every 100 ms it ends on time.
 * @param {number | undefined} duration seconds
 */
const sampleInterval = (duration) => (duration !== undefined && duration < 1 ? 100 : 1000);

/**
 * Runs autocannon with `opts` (a `duration` in seconds, or an `amount` of requests) and answers
 * the bench's LoadResult (bench/types.d.ts), without the scripted child's `script` counts. With
 * `keepAnswers`, the result carries each 2xx answer's time and when it came (bench/tail-bursts.js).
 * @param {import('autocannon').AutocannonOptions} opts
 * @param {{ keepAnswers?: boolean }} [how]
 * @returns {Promise<import('./types.js').LoadResult>}
 */
export async function runAutocannon(opts, { keepAnswers = false } = {}) {
  const latency = exactLatency({ keepAnswers });
  const r = await autocannon({
    ...opts,
    pipelining: 1,
    sampleInt: sampleInterval(opts.amount ? undefined : opts.duration),
    setupClient: latency.setupClient,
  });
  const total = r.requests.total;
  return {
    connections: opts.connections ?? 10, // autocannon's default
    duration: r.duration,
    total,
    rps: total / r.duration,
    latency: latency.summary(r.latency),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodeStats: r.statusCodeStats,
    ...(keepAnswers ? { answers: latency.answers() } : {}),
  };
}

/**
 * Collects the 2xx answer times of one autocannon run, and when each came only with `keepAnswers`
 * (the load generator shares the cores it measures: no clock read per answer that nobody reads).
 * @param {{ keepAnswers: boolean }} how
 */
function exactLatency({ keepAnswers }) {
  const start = performance.now();
  const startedAt = Date.now();
  let times = new Float64Array(1 << 16);
  /** When each answer came, ms from the start of the run. */
  let ats = new Float64Array(1 << 16);
  let n = 0;
  return {
    /** autocannon's `setupClient` option: listens to each client's answers. @param {import('node:events').EventEmitter} client */
    setupClient(client) {
      client.on('response', (/** @type {number} */ status, /** @type {number} */ _bytes, /** @type {number} */ ms) => {
        if (status < 200 || status > 299) return;
        if (n === times.length) {
          times = grown(times);
          ats = grown(ats);
        }
        if (keepAnswers) ats[n] = performance.now() - start;
        times[n++] = ms;
      });
    },
    /** Each answer's time and when it came (ms from the start, `startedAt` in ms since the epoch), in the order they came. */
    answers: () => ({ startedAt, ms: Array.from(times.subarray(0, n)), at: Array.from(ats.subarray(0, n)) }),
    /**
     * The run's p50, p90, p99, max and mean in ms (nearest rank), or autocannon's own figures when
     * no 2xx answer was seen.
     * @param {{ p50: number, p90: number, p99: number, max: number, mean: number }} fallback
     */
    summary(fallback) {
      if (n === 0) return fallback;
      const sorted = times.slice(0, n).sort();
      const rank = (/** @type {number} */ q) => quantile(sorted, q) ?? Number.NaN;
      const hundredth = (/** @type {number} */ v) => Math.round(v * 100) / 100;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += sorted[i];
      return { p50: hundredth(rank(0.5)), p90: hundredth(rank(0.9)), p99: hundredth(rank(0.99)), max: hundredth(sorted[n - 1]), mean: hundredth(sum / n) };
    },
  };
}

/** @param {Float64Array} a */
function grown(a) {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
