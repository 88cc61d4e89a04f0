// @ts-check
/**
 * Phase 1: the machine's RS256 signing ceiling (bench/signing-ceiling.js), before the issuance runs
 * and its all-core rows again right after them. THE CEILING is jose on all cores, in whichever of
 * its two all-core shapes is faster (a worker thread per core, or one event loop feeding the libuv
 * pool), the mean of before and after: a shared machine's drift over the minute between them evens
 * out instead of favouring or penalising issuance.
 */
import { measureSigningCeiling } from '../signing-ceiling.js';

/**
 * Every row of the ceiling.
 * @param {{ seconds: number, log: (msg: string) => void }} o
 */
export async function measureSigning({ seconds, log }) {
  log('1/9 RS256 signing ceiling');
  return measureSigningCeiling({ seconds, log });
}

/**
 * The all-core rows again (after 2).
 * @param {{ seconds: number, log: (msg: string) => void }} o
 */
export async function measureSigningAgain({ seconds, log }) {
  log('  signing ceilings again, after the issuance runs');
  return measureSigningCeiling({ seconds, log, only: ['nodeAll', 'joseAll', 'joseOneLoopPool'] });
}

/** @typedef {import('../signing-ceiling.js').SigningCeiling} SigningCeiling */

/**
 * THE CEILING and the raw node:crypto all-core ceiling from the two measurements.
 * @param {SigningCeiling} before
 * @param {SigningCeiling} after
 */
export function ceilings(before, after) {
  const joseBest = (/** @type {SigningCeiling} */ m) => Math.max(rate(m.joseAll), rate(m.joseOneLoopPool));
  return {
    ceiling: (joseBest(before) + joseBest(after)) / 2,
    rawCeiling: (rate(before.nodeAll) + rate(after.nodeAll)) / 2,
  };
}

/** @param {import('../signing-ceiling.js').SignerRun | undefined} r */
const rate = (r) => r?.signaturesPerSecond ?? NaN;
