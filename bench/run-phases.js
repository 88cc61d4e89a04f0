// @ts-check
/**
 * The phases of `npm run bench` (bench/run.js), in the groups that share a server or a load
 * generator's state, and their order: one after another on one pair of load generators; or, in a
 * smoke run, the groups in four lanes side by side, each lane with load generators of its own.
 * Each phase is a module (bench/phases/*.js and the older bench/<phase>.js) returning its typed
 * result; runPhases returns them as the fields of one object (BenchResults without config, env,
 * startedAt: bench/types.d.ts).
 */
import { measureDpop } from './dpop.js';
import { measureEdgeCosts } from './edge-costs.js';
import { LOAD_CLIENTS, startGrantor } from './grantor-server.js';
import { startLoadGenerator } from './load.js';
import { introspect, loadTools, tokenRequest, verifyIssuance } from './load-runs.js';
import { measureMetadataDocuments } from './metadata-documents.js';
import { measureDelegatedAccess } from './phases/delegated-access.js';
import { measureDocuments } from './phases/documents.js';
import { measureIssuance } from './phases/issuance.js';
import { measureOidcProvider } from './phases/oidc-provider.js';
import { measureRegistration } from './phases/registration.js';
import { measureRevocation } from './phases/revocation.js';
import { measureSigning, measureSigningAgain } from './phases/signing.js';
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
  log(`2b what logging and rate limiting cost: c=${config.refConnections}, ${config.edgeRounds} round(s) of ${config.edgeSeconds} s each of default / LOG_LEVEL=warn / limits off`);
  const edgeCosts = await measureEdgeCosts({
    rounds: config.edgeRounds,
    connections: config.refConnections,
    seconds: config.edgeSeconds,
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
export async function runPhases(config) {
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
    newLoadTools(config).then(async (tools) => ({ ...(await delegatedPhases(config, tools)), ...(await dpopPhase(config, tools)) })),
    newLoadTools(config).then(async (tools) => ({ ...(await revocationPhases(config)), ...(await registrationPhases(config, tools)) })),
    newLoadTools(config).then(async (tools) => ({ ...(await scaleOutPhase(config, tools)), ...(await oidcProviderPhase(config, tools)) })),
  ]);
  return { ...a, ...b, ...c, ...d };
}
