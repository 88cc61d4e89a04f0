// @ts-check
/**
 * Latency percentiles to a hundredth of a millisecond, for both load generators' children.
 *
 * autocannon keeps its latencies in an HDR histogram of whole milliseconds: a response of 12.9 ms
 * counts as 12. At a p50 of 12 ms that cuts the median by up to 8 % and the p99 by less, so every
 * p99/p50 came out up to 8 % too high, and a p50 under 1 ms read 0. autocannon hands each client's
 * answer time (in ms, from its own clock, before truncation) to a 'response' listener: this records
 * those of the 2xx answers (the ones autocannon's own figures count) and ranks them exactly.
 */

/** Collects the 2xx answer times of one autocannon run. */
export function exactLatency() {
  let times = new Float64Array(1 << 16);
  let n = 0;
  return {
    /** autocannon's `setupClient` option: listens to each client's answers. @param {import('node:events').EventEmitter} client */
    setupClient(client) {
      client.on('response', (/** @type {number} */ status, /** @type {number} */ _bytes, /** @type {number} */ ms) => {
        if (status < 200 || status > 299) return;
        if (n === times.length) {
          const grown = new Float64Array(times.length * 2);
          grown.set(times);
          times = grown;
        }
        times[n++] = ms;
      });
    },
    /**
     * The run's p50, p90, p99, max and mean in ms (nearest rank), or autocannon's own figures when
     * no 2xx answer was seen.
     * @param {{ p50: number, p90: number, p99: number, max: number, mean: number }} fallback
     */
    summary(fallback) {
      if (n === 0) return fallback;
      const sorted = times.subarray(0, n).sort();
      const rank = (/** @type {number} */ p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
      const hundredth = (/** @type {number} */ v) => Math.round(v * 100) / 100;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += sorted[i];
      return { p50: hundredth(rank(0.5)), p90: hundredth(rank(0.9)), p99: hundredth(rank(0.99)), max: hundredth(sorted[n - 1]), mean: hundredth(sum / n) };
    },
  };
}
