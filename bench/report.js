// @ts-check
/** Plain-text tables for the bench printout, and the few statistics the phases share. */

/** @typedef {string | number | null | undefined} Cell */

/**
 * @param {string[]} headers
 * @param {Cell[][]} rows
 * @param {{ align?: boolean[] }} [opts] right-align column i when align[i] (default: every column but the first)
 */
export function table(headers, rows, { align } = {}) {
  const cells = [headers, ...rows].map((r) => r.map((c) => (c === undefined || c === null ? '–' : String(c))));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const right = align ?? headers.map((_, i) => i > 0);
  const line = (/** @type {string[]} */ r) => '  ' + r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(cells[0]), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** @typedef {number | null | undefined} Figure */

export const fmt = {
  int: (/** @type {Figure} */ v) => (v === undefined || v === null || Number.isNaN(v) ? undefined : Math.round(v).toLocaleString('en-US')),
  ms: (/** @type {Figure} */ v) => (v === undefined || v === null ? undefined : Number(v).toFixed(v < 10 ? 2 : 1)),
  pct: (/** @type {Figure} */ v) => (v === undefined || v === null || Number.isNaN(v) ? undefined : `${v.toFixed(0)}%`),
  ratio: (/** @type {Figure} */ v) => (v === undefined || v === null || Number.isNaN(v) ? undefined : `${v.toFixed(2)}×`),
};

export const round = (/** @type {Figure} */ v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/**
 * The `q` quantile of `sorted` (ascending), nearest rank: the smallest value with at least a `q`
 * share of the values at or below it; undefined when there are none.
 * @param {ArrayLike<number>} sorted
 * @param {number} q
 */
export const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : undefined);

/** The median of `xs` (the mean of the middle two when their count is even). @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
