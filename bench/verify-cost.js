// @ts-check
/**
 * The resource-server module's cost per verification, in this process, on one Grantor access
 * token, against jose's jwtVerify with a local key set (createLocalJWKSet of the JWKS fetched
 * once) and the same checks the module makes (RS256, typ at+jwt, iss, aud, required claims, 5 s
 * leeway): the difference is what the module adds (remote key set wrapper, error mapping, the
 * status list bit lookup). A third variant, jwtVerify with no claim checks, shows what the checks
 * themselves cost.
 *
 * All warm (JWKS and status list fetched, JIT warmed), then `rounds` rounds of `iterations`
 * sequential verifications per variant, the variants' order rotating each round; per variant the
 * median round, in µs of wall time per verify, and the process CPU time per verify (all threads:
 * WebCrypto runs the RSA verification on the libuv pool). The machine is shared and a long
 * block's figure moves by ±20 % with the neighbours, so rounds are short (a few ms per variant)
 * and the ratio is the median of per-round ratios: the variants of one round ran back to back,
 * under the same conditions (measured here: the ratio moved 0.94–1.08 between runs with 15 × 600,
 * 1.02–1.05 with 60 × 100).
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { median } from './report.js';
import { loadResourceServerModule } from './resource-server-module.js';

/**
 * @typedef {{ wallUs: number, wallUsMin: number, wallUsMax: number, cpuUs: number }} VariantCost
 * @typedef {{ rounds: number, iterations: number, tokenBytes: number, module: VariantCost, bare: VariantCost, bareNoChecks: VariantCost,
 *   ratio: number, cpuRatio: number, ratioOfMedians: number, signatureOnlyRatio: number }} VerifyCost
 */

/**
 * @param {{ grantor: { url: string, resource: string }, token: string, rounds?: number, iterations?: number, warmup?: number }} o
 * @returns {Promise<VerifyCost>}
 */
export async function measureVerifyCost({ grantor, token, rounds = 60, iterations = 100, warmup = 1500 }) {
  const { createVerifier } = await loadResourceServerModule();
  const verifier = createVerifier({ issuer: grantor.url, audience: grantor.resource });
  const res = await fetch(`${grantor.url}/.well-known/jwks.json`);
  if (res.status !== 200) throw new Error(`GET /.well-known/jwks.json answered ${res.status}`);
  const localKeys = createLocalJWKSet(await res.json());
  const checks = {
    algorithms: ['RS256'],
    typ: 'at+jwt',
    issuer: grantor.url,
    audience: grantor.resource,
    clockTolerance: 5,
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
  };
  const variants = {
    module: () => verifier.verify(token),
    bare: () => jwtVerify(token, localKeys, checks),
    bareNoChecks: () => jwtVerify(token, localKeys),
  };

  // Every variant accepts the token, and the module returns the same claims as jwtVerify.
  const viaModule = await variants.module();
  const { payload } = await variants.bare();
  if (JSON.stringify(viaModule) !== JSON.stringify(payload)) throw new Error('module and jwtVerify disagree on the claims');
  await variants.bareNoChecks();

  const names = /** @type {Array<keyof typeof variants>} */ (Object.keys(variants));
  for (const name of names) for (let i = 0; i < warmup; i++) await variants[name]();

  /** @type {Record<string, { wallUs: number[], cpuUs: number[] }>} */
  const samples = Object.fromEntries(names.map((n) => [n, { wallUs: [], cpuUs: [] }]));
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      const fn = variants[name];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) await fn();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      samples[name].wallUs.push((wall * 1000) / iterations);
      samples[name].cpuUs.push((cpu.user + cpu.system) / iterations);
    }
  }
  const cost = (/** @type {string} */ name) => {
    const s = samples[name];
    return { wallUs: median(s.wallUs), wallUsMin: Math.min(...s.wallUs), wallUsMax: Math.max(...s.wallUs), cpuUs: median(s.cpuUs) };
  };
  const perRound = (/** @type {'wallUs' | 'cpuUs'} */ key) => median(samples.module[key].map((v, r) => v / samples.bare[key][r]));
  const module = cost('module');
  const bare = cost('bare');
  return {
    rounds,
    iterations,
    tokenBytes: token.length,
    module,
    bare,
    bareNoChecks: cost('bareNoChecks'),
    ratio: perRound('wallUs'),
    cpuRatio: perRound('cpuUs'),
    ratioOfMedians: module.wallUs / bare.wallUs,
    signatureOnlyRatio: median(samples.bareNoChecks.wallUs.map((v, r) => v / samples.bare.wallUs[r])),
  };
}
