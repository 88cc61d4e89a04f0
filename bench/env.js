// @ts-check
/** Bench settings from the environment: a positive number, or a list of numbers, with a default. */

/**
 * @template D
 * @param {string} name
 * @param {D} def
 * @returns {number | D}
 */
export const num = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

/**
 * @template D
 * @param {string} name
 * @param {D} def
 * @returns {number[] | D}
 */
export const list = (name, def) => (process.env[name] ? process.env[name].split(/[\s,]+/).filter(Boolean).map(Number) : def);
