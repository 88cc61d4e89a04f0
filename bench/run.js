// @ts-check
/**
 * `npm run bench`: Grantor's client_credentials issuance against the machine's RS256 signing
 * ceiling and against node-oidc-provider doing the same job, in one run; then Grantor's delegated
 * side (refresh rotation, introspection), its resource-server module, and revocation propagation.
 *
 * This file only orchestrates: settings from the environment (bench/config.js) → the phases in
 * order, each a module returning a typed result → one BenchResults object (bench/types.d.ts) →
 * bench/render.js, the one renderer, for the printout and the final line `BENCH_JSON {...}`.
 *
 *   1. signing ceiling (bench/phases/signing.js → bench/signing-ceiling.js): worker_threads signing
 *      Grantor-shaped RS256 JWTs (node:crypto and jose)
 *   2. Grantor POST /oauth/token at several concurrencies (bench/phases/issuance.js; child process,
 *      temp SQLite + keys); the bare signer (bench/bare-signer-child.js) at c=50 for scale; then
 *      the all-core rows of 1 again. THE CEILING is jose on all cores (the faster of its two
 *      shapes), the mean of before and after
 *   3. Grantor GET /.well-known/jwks.json, /.well-known/oauth-authorization-server and /statuslists/1
 *      (plain and gzip), each through koa (`?via=koa`) and from prepared bytes on the lean route,
 *      side by side (bench/phases/documents.js)
 *   2b. what the access log and the rate limiter cost (bench/edge-costs.js)
 *   4–6b. on a Grantor of their own (bench/phases/delegated-access.js): the refresh grant (tokens
 *      seeded through the authorization code flow over HTTP, every request rotates, each connection
 *      chains on its successor), introspection through koa and on the lean path, the
 *      resource-server module's µs per verify against bare jose (bench/verify-cost.js), client
 *      authentication timing (bench/client-auth-timing.js; alone: `npm run bench:timing`)
 *   7. revocation propagation (bench/phases/revocation.js → bench/revocation-propagation.js): a
 *      Grantor with STATUS_LIST_TTL=1; admin revocations, and how long until the module's verifier
 *      refuses each token, through the status list and through a Shared Signals stream (poll);
 *      7d what a stream costs Grantor per revocation with 0, 1, 10, 100 receivers (bench/ssf-cost.js);
 *      7b DPoP (bench/dpop.js); 7c POST /oauth/register under REGISTRATION=open
 *      (bench/phases/registration.js); 7e GET /oauth/authorize for an app known by a Client ID
 *      Metadata Document beside an admin-registered client (bench/metadata-documents.js)
 *   8. node-oidc-provider v9 POST /token, same job as 2, then its refresh grant
 *      (bench/phases/oidc-provider.js)
 *   9. scale-out (bench/scale-out.js): 2's request at c=50 on four fresh servers back to back —
 *      SQLite and PostgreSQL, each as 1 process and as WORKERS=2 (node:cluster) — and the refresh
 *      grant at c=50 on PostgreSQL (1 process); server CPU summed over the primary and its workers
 *   then targets as PASS/FAIL lines (bench/targets.js; informative: exit code 0 unless broken). The
 *   printout keeps its earlier section numbers (4 = node-oidc-provider) and adds 5–8 for phases 4–7
 *   above, 9 for 9. Derived figures (ratios, reference runs): bench/figures.js.
 *
 * Grantor runs as operators run it (bench/grantor-server.js: access log at info, default rate limits;
 * phase 2's load rotates over LOAD_CLIENTS clients and forwarded addresses). Phases 4–6, 7b, 7c, 7e
 * and 9 drive one client far past the per-client limit and run with the limits off (they say so).
 *
 * BENCH_SMOKE=1 (`npm run bench:smoke`, the last step of `npm test`): every phase briefly (tiny
 * durations and counts, no settling pause between runs) and in four lanes side by side, each lane
 * with load generators of its own; exit 1 when a phase throws or returns insane results
 * (bench/sanity.js). Its figures mean nothing. BENCH_SMOKE_SERIAL=1: the smoke run's phases in order.
 *
 * env (default of the full run / of the smoke run):
 *      BENCH_SECONDS (per load run, 5 / 0.5), BENCH_SIGN_SECONDS (per signing row, 3 / 0.1),
 *      BENCH_WARMUP_SECONDS (2 / 0.3), BENCH_CONNECTIONS (1,10,50,100 / 10),
 *      BENCH_OIDC_CONNECTIONS (default: same as BENCH_CONNECTIONS),
 *      BENCH_REFRESH_CONNECTIONS (10,50 / 10), BENCH_REFRESH_SEED (refresh tokens made through the
 *      code flow first; default: enough for every run's in-flight losses), BENCH_INTROSPECT_CONNECTIONS
 *      (50 / 10), BENCH_VERIFY_ROUNDS (60 / 3) and BENCH_VERIFY_ITERATIONS (per round and variant,
 *      100 / 10), BENCH_DPOP_CONNECTIONS (10,50 / 10), BENCH_REVOKE_GRANTS (40 / 3),
 *      BENCH_STATUS_LIST_TTL (1), BENCH_SSF_RECEIVERS (0,1,10,100 / 0,2), BENCH_SSF_REVOCATIONS
 *      (default BENCH_REVOKE_GRANTS), BENCH_DATABASE_URL (PostgreSQL for phase 9, else
 *      TEST_DATABASE_URL, else postgres://grantor:grantor@127.0.0.1:5432/grantor_test; a fresh
 *      schema per server, dropped afterwards; unreachable → its rows are skipped),
 *      BENCH_SCALEOUT_CONNECTIONS (50 / 10), BENCH_EDGE_ROUNDS (2b's rounds, 2 / 1),
 *      BENCH_TIMING_TRIES (400 / 20), BENCH_TIMING_WARMUP (100 / 10),
 *      BENCH_REGISTRATION_CONNECTIONS (7c, 10), BENCH_METADATA_DOCUMENT_CONNECTIONS (7e, 10),
 *      BENCH_LOAD_CLIENTS (256 / 16), BENCH_ONLY=grantor (skip the signing ceiling, the bare signer
 *      and oidc-provider, e.g. when profiling), BENCH_CPU_PROF=<dir> (run phase 2's Grantor under
 *      `node --cpu-prof`, profile written to <dir> at stop; the figures of such a run are skewed by
 *      the profiler).
 *
 * Adding a phase: a module under bench/phases/ exporting `async function measureX(o)` that takes
 * the settings and tools it uses (a typed options object) and returns its figures; its result type
 * as a field of BenchResults (bench/types.d.ts); a call in one of the groups below; its section in
 * bench/render.js (printout and BENCH_JSON); its sanity checks in bench/sanity.js.
 */
import os from 'node:os';
import { readBenchConfig } from './config.js';
import { measureEdgeCosts } from './edge-costs.js';
import { measureDpop } from './dpop.js';
import { LOAD_CLIENTS, startGrantor } from './grantor-server.js';
import { startLoadGenerator } from './load.js';
import { BenchBroken, introspect, loadTools, tokenRequest, verifyIssuance } from './load-runs.js';
import { measureMetadataDocuments } from './metadata-documents.js';
import { measureDelegatedAccess } from './phases/delegated-access.js';
import { measureDocuments } from './phases/documents.js';
import { measureIssuance } from './phases/issuance.js';
import { measureOidcProvider } from './phases/oidc-provider.js';
import { measureRegistration } from './phases/registration.js';
import { measureRevocation } from './phases/revocation.js';
import { measureSigning, measureSigningAgain } from './phases/signing.js';
import { cleanupAll } from './procs.js';
import { render } from './render.js';
import { round } from './report.js';
import { deriveFigures } from './figures.js';
import { insaneResults } from './sanity.js';
import { measureScaleOut } from './scale-out.js';
import { startScriptedLoadGenerator } from './scripted-load.js';
import { measureStreamCost } from './ssf-cost.js';

/** @typedef {import('./types.js').BenchConfig} BenchConfig */
/** @typedef {import('./types.js').LoadTools} LoadTools */

const log = (/** @type {string} */ msg) => process.stderr.write(`${msg}\n`);

/**
 * A pair of load generators of its own (bench/load.js, bench/scripted-load.js) and measured runs on them.
 * @param {BenchConfig} config
 * @returns {Promise<LoadTools>}
 */
async function newLoadTools(config) {
  const [loader, scripted] = await Promise.all([startLoadGenerator(), startScriptedLoadGenerator()]);
  return loadTools({ loader, scripted, warmupSeconds: config.warmupSeconds, warmupConnections: config.warmupConnections, settleMs: config.settleMs, log });
}

// ---- the phases, in groups that share a server or a load generator's state --------------------

/**
 * 1, 2, 1 again, 3 on the Grantor of 2, then 2b.
 * @param {BenchConfig} config
 * @param {LoadTools} tools
 */
async function issuancePhases(config, tools) {
  const signing = config.onlyGrantor ? null : await measureSigning({ seconds: config.signSeconds, log });
  const grantor = await startGrantor({ cpuProfDir: config.cpuProfDir, clients: LOAD_CLIENTS });
  let issuance, signingAfter, documents;
  try {
    issuance = await measureIssuance({ grantor, tools, connections: config.connections, refConnections: config.refConnections, seconds: config.seconds, withBareSigner: Boolean(signing) });
    signingAfter = signing ? await measureSigningAgain({ seconds: config.signSeconds, log }) : null;
    documents = await measureDocuments({ grantor, tools, connections: config.refConnections, seconds: config.seconds });
  } finally {
    await grantor.stop();
  }
  log(`2b what logging and rate limiting cost: c=${config.refConnections}, ${config.edgeRounds} round(s) of default / LOG_LEVEL=warn / limits off`);
  const edgeCosts = await measureEdgeCosts({
    rounds: config.edgeRounds,
    connections: config.refConnections,
    seconds: config.seconds,
    warmupSeconds: config.warmupSeconds,
    tokenRequest,
    verifyIssuance,
    warmUp: tools.warmUp,
    load: tools.load,
    log,
  });
  return { signing, issuance, signingAfter, documents, edgeCosts };
}

/**
 * 4–6b (bench/phases/delegated-access.js).
 * @param {BenchConfig} config
 * @param {LoadTools} tools
 */
async function delegatedPhases(config, tools) {
  return { delegated: await measureDelegatedAccess({ tools, config }) };
}

/**
 * 7, then 7d: what a Shared Signals stream costs Grantor per revocation, by number of receivers.
 * @param {BenchConfig} config
 */
async function revocationPhases(config) {
  const revocation = await measureRevocation({ ttl: config.revokeTtl, grants: config.revokeGrants, boundMs: config.propagationBoundMs, log });
  log(`7d/9 Shared Signals: Grantor's cost per revocation with ${config.ssfReceivers.join(', ')} receivers (jose-only long pollers in a child process)`);
  const streamCost = await measureStreamCost({ receivers: config.ssfReceivers, revocations: config.ssfRevocations, idleSeconds: config.ssfIdleSeconds, log });
  return { revocation, streamCost };
}

/**
 * 7b: DPoP issuance beside bearer issuance, the module's DPoP verification beside bearer (bench/dpop.js).
 * @param {BenchConfig} config
 * @param {LoadTools} tools
 */
async function dpopPhase(config, tools) {
  log('7b/9 DPoP: issuance with a proof beside bearer issuance, and the module verifying a DPoP request beside a bearer one');
  const dpop = await measureDpop({ load: tools.loader, scripted: tools.scripted, seconds: config.seconds, connections: config.dpopConnections, rounds: config.dpopRounds, iterations: config.verifyIterations, warmupSeconds: config.warmupSeconds });
  return { dpop };
}

/**
 * 7c, then 7e: the authorization endpoint for an app known by its Client ID Metadata Document
 * beside an admin-registered client, and how often the document is fetched.
 * @param {BenchConfig} config
 * @param {LoadTools} tools
 */
async function registrationPhases(config, tools) {
  const registration = await measureRegistration({ tools, connections: config.registrationConnections, seconds: config.seconds });
  log(`7e/9 authorization requests by Client ID Metadata Document beside a registered client (rate limits off) at c=${config.metadataDocumentConnections}`);
  const metadataDocuments = await measureMetadataDocuments({ connections: config.metadataDocumentConnections, seconds: config.seconds, warmUp: tools.warmUp, load: tools.load, log });
  return { registration, metadataDocuments };
}

/**
 * 8 (skipped with BENCH_ONLY=grantor).
 * @param {BenchConfig} config
 * @param {LoadTools} tools
 */
async function oidcProviderPhase(config, tools) {
  return { oidcProvider: config.onlyGrantor ? null : await measureOidcProvider({ tools, config }) };
}

/**
 * 9: SQLite and PostgreSQL, 1 process and WORKERS=2, each a fresh server, back to back.
 * @param {BenchConfig} config
 * @param {LoadTools} tools
 */
async function scaleOutPhase(config, tools) {
  log(`9/9 scale-out: client_credentials at c=${config.scaleOutConnections} on SQLite and PostgreSQL, 1 process and WORKERS=2`);
  const scaleOut = await measureScaleOut({
    loader: tools.loader,
    scripted: tools.scripted,
    connections: config.scaleOutConnections,
    seconds: config.seconds,
    warmupSeconds: config.warmupSeconds,
    warmupConnections: config.warmupConnections,
    refreshSeed: config.scaleOutRefreshSeed,
    tokenRequest,
    verifyIssuance,
    introspect,
    log,
  });
  return { scaleOut };
}

/**
 * Every phase: in order on one pair of load generators; or, in a smoke run, in four lanes side by
 * side, each with load generators of its own (their figures skew each other: a smoke run's figures
 * mean nothing, only their sanity is judged).
 * @param {BenchConfig} config
 */
async function runPhases(config) {
  if (!config.concurrent) {
    const tools = await newLoadTools(config);
    return {
      ...(await issuancePhases(config, tools)),
      ...(await delegatedPhases(config, tools)),
      ...(await revocationPhases(config)),
      ...(await dpopPhase(config, tools)),
      ...(await registrationPhases(config, tools)),
      ...(await oidcProviderPhase(config, tools)),
      ...(await scaleOutPhase(config, tools)),
    };
  }
  const [a, b, c, d] = await Promise.all([
    newLoadTools(config).then(async (tools) => issuancePhases(config, tools)),
    newLoadTools(config).then(async (tools) => ({ ...(await delegatedPhases(config, tools)), ...(await dpopPhase(config, tools)), ...(await oidcProviderPhase(config, tools)) })),
    newLoadTools(config).then(async (tools) => ({ ...(await revocationPhases(config)), ...(await registrationPhases(config, tools)) })),
    newLoadTools(config).then(async (tools) => scaleOutPhase(config, tools)),
  ]);
  return { ...a, ...b, ...c, ...d };
}

// ---- the run --------------------------------------------------------------------------------

async function main() {
  const config = readBenchConfig();
  const startedAt = Date.now();
  const cores = os.availableParallelism();
  const env = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpu: os.cpus()[0]?.model?.trim(), cores, loadavg: os.loadavg().map((v) => round(v, 2)) };
  log(`bench: node ${env.node}, ${cores} cores (${env.cpu}), load average ${env.loadavg.join(' ')}${config.concurrent ? '; smoke run: phases in four lanes side by side' : ''}`);

  /** @type {import('./types.js').BenchResults} */
  const results = { config, env, startedAt, ...(await runPhases(config)) };

  if (config.smoke) {
    const broken = insaneResults(results, deriveFigures(results));
    if (broken.length) throw new BenchBroken(`smoke run: phases gave insane results:\n  ${broken.join('\n  ')}`);
  }
  const { text, json } = render(results);
  process.stdout.write(text);
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
}

// ---- lifecycle ------------------------------------------------------------------------------

let exiting = false;
/** @param {number} code */
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await cleanupAll();
  process.exit(code);
}
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    log(`bench: ${sig}, stopping children`);
    shutdown(130);
  });
}

main().then(
  () => shutdown(0),
  (err) => {
    if (exiting) return; // interrupted: the failure is only the children being stopped
    log(`\nbench: BROKEN: ${err instanceof BenchBroken ? err.message : err?.stack ?? err}`);
    shutdown(1);
  },
);
