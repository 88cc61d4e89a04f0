// @ts-check
/**
 * `npm run bench:dpop`: what DPoP (RFC 9449) costs, in one run.
 *
 *   1. issuance: Grantor POST /oauth/token client_credentials, bearer and DPoP (ES256 proofs) runs
 *      alternating at each concurrency, same server, same client. A proof is single use, so the
 *      proofs are signed ahead here (not timed) and each is sent once by the scripted load
 *      generator; the difference is the server's proof check (signature, claims, the jti insert).
 *   2. the resource-server module in this process: µs per verify() of a bearer token against
 *      verifyRequest() of a DPoP-bound token with its proof (signed ahead, one per call), rounds
 *      alternating as bench/verify-cost.js does.
 *
 * `measureDpop()` is also phase 10 of `npm run bench` (bench/run.js), with the load generators it
 * is given. Run alone it prints a table and a final line `BENCH_DPOP_JSON {...}`.
 * env: BENCH_SECONDS (per load run, default 5), BENCH_CONNECTIONS (default 10,50),
 *      BENCH_VERIFY_ROUNDS (default 30), BENCH_VERIFY_ITERATIONS (default 100).
 */
import { randomUUID, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { list, num } from './env.js';
import { LIMITS_OFF, startGrantor } from './grantor-server.js';
import { startLoadGenerator } from './load.js';
import { cleanupAll } from './procs.js';
import { fmt, median, table } from './report.js';
import { loadResourceServerModule } from './resource-server-module.js';
import { startScriptedLoadGenerator } from './scripted-load.js';

const SECONDS = num('BENCH_SECONDS', 5);
const CONNECTIONS = list('BENCH_CONNECTIONS', [10, 50]);
const ROUNDS = num('BENCH_VERIFY_ROUNDS', 30);
const ITERATIONS = num('BENCH_VERIFY_ITERATIONS', 100);

async function dpopSigner() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return (/** @type {string} */ htm, /** @type {string} */ htu, /** @type {Record<string, string>} */ extra = {}) =>
    new SignJWT({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...extra }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).sign(privateKey);
}

/**
 * DPoP issuance beside bearer issuance, and the module's DPoP verification beside its bearer
 * verification, on a Grantor of its own (stopped at the end).
 * @param {{ load: import('./types.js').LoadGenerator, scripted: import('./types.js').ScriptedLoadGenerator, seconds: number, connections: number[], rounds: number, iterations: number, warmupSeconds?: number }} opts
 * @returns {Promise<DpopResult>}
 */
export async function measureDpop({ load, scripted, seconds, connections: connectionCounts, rounds, iterations, warmupSeconds = 2 }) {
  const grantor = await startGrantor({ env: LIMITS_OFF }); // one client, far past the per-client limit
  try {
    return await measureOn(grantor, { load, scripted, seconds, connectionCounts, rounds, iterations, warmupSeconds });
  } finally {
    await grantor.stop();
  }
}

/**
 * @typedef {{ rps: number, p50: number, p99: number, non2xx: number }} IssuanceFigures
 * @typedef {{ connections: number, bearer: IssuanceFigures, dpop: IssuanceFigures & { starved?: number, firstBad?: string | null } }} DpopIssuanceRow
 * @typedef {{ rounds: number, iterations: number, bearerUs: number, dpopUs: number, ratio: number }} DpopVerify
 * @typedef {{ issuance: DpopIssuanceRow[], verify: DpopVerify | undefined }} DpopResult
 */

/**
 * @param {import('./types.js').GrantorServer} grantor
 * @param {{ load: import('./types.js').LoadGenerator, scripted: import('./types.js').ScriptedLoadGenerator, seconds: number, connectionCounts: number[], rounds: number, iterations: number, warmupSeconds: number }} o
 * @returns {Promise<DpopResult>}
 */
async function measureOn(grantor, { load, scripted, seconds: SECONDS, connectionCounts: CONNECTIONS, rounds: ROUNDS, iterations: ITERATIONS, warmupSeconds }) {
  const sign = await dpopSigner();
  const tokenUrl = `${grantor.url}/oauth/token`;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(grantor.clientId)}:${encodeURIComponent(grantor.clientSecret)}`).toString('base64')}`;
  const request = { url: tokenUrl, method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=read' };
  /** @type {DpopResult} */
  const out = { issuance: [], verify: undefined };

  // 1. issuance, bearer and DPoP alternating (warm-up first)
  await load.run({ ...request, connections: 10, duration: warmupSeconds });
  for (const connections of CONNECTIONS) {
    const bearer = await load.run({ ...request, connections, duration: SECONDS });
    // Enough proofs for twice the bearer rate (and at least 200: a short run's bearer rate may read
    // near 0 on a busy machine); signed now, so their iat is fresh for the run.
    const needed = Math.max(200, Math.ceil(bearer.rps * SECONDS * 2) + connections);
    const proofs = [];
    for (let i = 0; i < needed; i++) proofs.push(await sign('POST', tokenUrl));
    await scripted.setPool(proofs);
    const dpop = await scripted.run('dpop', { ...request, connections, duration: SECONDS });
    out.issuance.push({ connections, bearer: { rps: bearer.rps, p50: bearer.latency.p50, p99: bearer.latency.p99, non2xx: bearer.non2xx }, dpop: { rps: dpop.rps, p50: dpop.latency.p50, p99: dpop.latency.p99, non2xx: dpop.non2xx, starved: dpop.script?.starved, firstBad: dpop.script?.firstBad } });
  }

  // 2. the module: bearer verify() against DPoP verifyRequest()
  const { createVerifier } = await loadResourceServerModule();
  const verifier = createVerifier({ issuer: grantor.url, audience: grantor.resource });
  const bearerToken = (await (await fetch(tokenUrl, { method: 'POST', headers: request.headers, body: request.body })).json()).access_token;
  const bound = await (await fetch(tokenUrl, { method: 'POST', headers: { ...request.headers, DPoP: await sign('POST', tokenUrl) }, body: request.body })).json();
  if (bound.token_type !== 'DPoP') throw new Error(`no DPoP token: ${JSON.stringify(bound)}`);
  const apiUrl = `${grantor.resource}/things`;
  const ath = createHash('sha256').update(bound.access_token).digest('base64url');
  const variants = {
    bearer: async () => verifier.verify(bearerToken),
    dpop: async (/** @type {string} */ proof) => verifier.verifyRequest({ method: 'GET', url: apiUrl, authorization: `DPoP ${bound.access_token}`, dpop: proof }),
  };
  const freshProofs = async (/** @type {number} */ n) => Promise.all(Array.from({ length: n }, () => sign('GET', apiUrl, { ath })));
  for (let i = 0; i < 300; i++) await variants.bearer();
  for (const p of await freshProofs(300)) await variants.dpop(p);
  /** @type {{ bearer: number[], dpop: number[] }} */
  const samples = { bearer: [], dpop: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const proofs = await freshProofs(ITERATIONS);
    for (const name of /** @type {Array<'bearer' | 'dpop'>} */ (r % 2 ? ['dpop', 'bearer'] : ['bearer', 'dpop'])) {
      const t0 = performance.now();
      for (let i = 0; i < ITERATIONS; i++) await variants[name](proofs[i]);
      samples[name].push(((performance.now() - t0) * 1000) / ITERATIONS);
    }
  }
  out.verify = { rounds: ROUNDS, iterations: ITERATIONS, bearerUs: median(samples.bearer), dpopUs: median(samples.dpop), ratio: median(samples.dpop.map((v, r) => v / samples.bearer[r])) };
  return out;
}

/**
 * The printout of measureDpop()'s result: two tables (used by bench/render.js and when run alone).
 * @param {DpopResult} out
 */
export function renderDpop(out) {
  return [
    table(['connections', 'bearer req/s', 'DPoP req/s', 'DPoP/bearer', 'bearer p50 ms', 'DPoP p50 ms', 'non-2xx (b/d)'], out.issuance.map((r) => [r.connections, fmt.int(r.bearer.rps), fmt.int(r.dpop.rps), fmt.ratio(r.dpop.rps / r.bearer.rps), fmt.ms(r.bearer.p50), fmt.ms(r.dpop.p50), `${r.bearer.non2xx}/${r.dpop.non2xx}`])),
    '   resource-server module (in the bench process, median µs per call):',
    table(['bearer verify()', 'DPoP verifyRequest()', 'ratio (median per round)'], [[fmt.ms(out.verify?.bearerUs), fmt.ms(out.verify?.dpopUs), fmt.ratio(out.verify?.ratio)]]),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let code = 0;
  try {
    const out = await measureDpop({ load: await startLoadGenerator(), scripted: await startScriptedLoadGenerator(), seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS, iterations: ITERATIONS });
    console.log('\nDPoP issuance (POST /oauth/token client_credentials; proofs ES256, signed ahead)');
    console.log(renderDpop(out));
    console.log(`BENCH_DPOP_JSON ${JSON.stringify(out)}`);
  } catch (err) {
    console.error(err);
    code = 1;
  }
  await cleanupAll();
  process.exit(code);
}
