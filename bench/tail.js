// @ts-check
/**
 * Where a run's p99 comes from: its answers over the p99, by when their request was sent
 * (bench/autocannon-run.js keeps each answer's time with LoadOptions.keepAnswers). Read by phase 2
 * (Grantor's and the bare signer's c=50 runs) and by bench/tail-bursts.js.
 *   - atStart: the share of them sent in the run's first 300 ms (the connections opening at once);
 *   - inBursts: the share of them in 100 ms windows holding at least half as many as there are
 *     connections: the requests in flight late all together, a pause of the server or of the
 *     machine rather than slow requests;
 *   - steadySpread: p99 / p50 over the requests sent after the first 300 ms;
 *   - windowSpread: after the first 300 ms, the p99 of each answer's time over the median of the
 *     answers sent in the same 250 ms: the spread left once the machine's drift over the run (a
 *     slower second) and the opening are taken out. Near steadySpread, the tail is in every quarter
 *     second, not in a few pauses.
 */

import { quantile } from './report.js';

const START_MS = 300;
const WINDOW_MS = 100;
const STEADY_WINDOW_MS = 250;

/**
 * The tail's structure in one run.
 * @param {{ ms: number[], at: number[] }} answers
 * @param {number} connections
 * @returns {import('./types.js').TailStructure}
 */
export function tailStructure({ ms, at }, connections) {
  /** p50 and p99 of `xs`, sorted once. @param {number[]} xs */
  const quantiles = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5) ?? Number.NaN, p99: quantile(sorted, 0.99) ?? Number.NaN };
  };
  const { p50, p99 } = quantiles(ms);
  const sentAt = at.map((t, i) => t - ms[i]);
  /** @type {Map<number, number>} */
  const overByWindow = new Map();
  let over = 0;
  let overAtStart = 0;
  ms.forEach((m, i) => {
    if (m < p99) return;
    over++;
    if (sentAt[i] < START_MS) overAtStart++;
    const w = Math.floor(sentAt[i] / WINDOW_MS);
    overByWindow.set(w, (overByWindow.get(w) ?? 0) + 1);
  });
  let inBursts = 0;
  /** Where the bursts were: ms from the start of the run. */
  const bursts = [];
  for (const [w, n] of overByWindow) {
    if (n < connections / 2) continue;
    inBursts += n;
    bursts.push(w * WINDOW_MS);
  }
  const steady = quantiles(ms.filter((_, i) => sentAt[i] >= START_MS));
  return {
    p50,
    p99,
    spread: p99 / p50,
    over,
    atStart: overAtStart / over,
    inBursts: inBursts / over,
    steadySpread: steady.p99 / steady.p50,
    windowSpread: windowSpread(ms, sentAt),
    bursts: bursts.sort((a, b) => a - b),
  };
}

/**
 * The p99 of each answer's time over the median of its 250 ms window (by when it was sent), the
 * first 300 ms left out, and the last window too: of the requests sent then, only the quick ones
 * were answered before the run ended.
 * @param {number[]} ms
 * @param {number[]} sentAt
 */
function windowSpread(ms, sentAt) {
  /** @type {Map<number, number[]>} */
  const windows = new Map();
  const last = Math.floor(sentAt.reduce((a, b) => Math.max(a, b), 0) / STEADY_WINDOW_MS);
  ms.forEach((m, i) => {
    const w = Math.floor(sentAt[i] / STEADY_WINDOW_MS);
    if (sentAt[i] < START_MS || w === last) return;
    const times = windows.get(w);
    if (times) times.push(m);
    else windows.set(w, [m]);
  });
  const relative = [];
  for (const times of windows.values()) {
    const median = quantile(times.sort((a, b) => a - b), 0.5) ?? Number.NaN;
    for (const m of times) relative.push(m / median);
  }
  return quantile(relative.sort((a, b) => a - b), 0.99) ?? Number.NaN;
}
