// @ts-check
/**
 * Phase 1: the machine's RS256 signing ceiling (bench/signing-ceiling.js), before the issuance runs
 * and its all-core rows again right after them. THE CEILING is jose on all cores, in whichever of
 * its two all-core shapes is faster (a worker thread per core, or one event loop feeding the libuv
 * pool), the mean of before and after: a shared machine's drift over the minute between them evens
 * out instead of favouring or penalising issuance.
 */
import { measureSigningCeiling } from '../signing-ceiling.js';

/** @typedef {import('../signing-ceiling.js').SignerRun} SignerRun */
/** @typedef {import('../signing-ceiling.js').SignerRow} SignerRow */

/**
 * Every row of the ceiling.
 * @param {{ seconds: number, log: (msg: string) => void }} o
 */
export async function measureSigning({ seconds, log }) {
  log('1/9 RS256 signing ceiling');
  const m = await measureSigningCeiling({ seconds, log });
  return { cores: m.cores, uvThreadpoolSize: m.uvThreadpoolSize, seconds: m.seconds, ...measuredRows(m, ['nodeSingle', 'nodeAll', 'joseSingle', 'joseAll', 'joseOneLoopPool']) };
}

/**
 * The all-core rows again (after 2).
 * @param {{ seconds: number, log: (msg: string) => void }} o
 */
export async function measureSigningAgain({ seconds, log }) {
  log('  signing ceilings again, after the issuance runs');
  const m = await measureSigningCeiling({ seconds, log, only: ['nodeAll', 'joseAll', 'joseOneLoopPool'] });
  return measuredRows(m, ['nodeAll', 'joseAll', 'joseOneLoopPool']);
}

/**
 * The rows `names` of `m`, each present.
 * @template {SignerRow} N
 * @param {import('../signing-ceiling.js').SigningCeiling} m
 * @param {N[]} names
 * @returns {Record<N, SignerRun>}
 */
function measuredRows(m, names) {
  return /** @type {Record<N, SignerRun>} */ (Object.fromEntries(names.map((n) => {
    const row = m[n];
    if (!row) throw new Error(`signing ceiling: no ${n} row`);
    return [n, row];
  })));
}

/**
 * THE CEILING and the raw node:crypto all-core ceiling from the two measurements.
 * @param {Record<'nodeAll' | 'joseAll' | 'joseOneLoopPool', SignerRun>} before
 * @param {Record<'nodeAll' | 'joseAll' | 'joseOneLoopPool', SignerRun>} after
 */
export function ceilings(before, after) {
  const joseBest = (/** @type {typeof before} */ m) => Math.max(m.joseAll.signaturesPerSecond, m.joseOneLoopPool.signaturesPerSecond);
  return {
    ceiling: (joseBest(before) + joseBest(after)) / 2,
    rawCeiling: (before.nodeAll.signaturesPerSecond + after.nodeAll.signaturesPerSecond) / 2,
  };
}
