// @ts-check
/**
 * The figures derived from the phases' results (bench/types.d.ts BenchResults): the ceilings, the
 * reference runs, the ratios, and whether each phase came out clean. Read by the renderer
 * (bench/render.js), the targets (bench/targets.js) and the smoke run's checks (bench/sanity.js).
 */
import { SETUPS } from './scale-out.js';
import { ceilings } from './phases/signing.js';

/** @typedef {import('./types.js').BenchResults} BenchResults */
/** @typedef {import('./types.js').MeasuredRun} MeasuredRun */

/**
 * The run at `connections` among `runs`.
 * @template {{ connections: number }} R
 * @param {R[]} runs
 * @param {number} connections
 * @returns {R | undefined}
 */
export const at = (runs, connections) => runs.find((r) => r.connections === connections);

/**
 * A run's latency spread, p99 / p50 (issue #14: at most 2 at c=50). Both are exact to 0.01 ms
 * (bench/autocannon-run.js); a p50 of 0 (no 2xx answer) has no spread.
 * @param {{ latencyMs: { p50: number, p99: number } }} run
 */
export const spreadOf = (run) => (run.latencyMs.p50 > 0 ? run.latencyMs.p99 / run.latencyMs.p50 : Number.NaN);

/**
 * @template {{ rps: number }} R
 * @param {R[]} runs
 */
const fastest = (runs) => (runs.length ? runs.reduce((a, b) => (b.rps > a.rps ? b : a)) : undefined);

/** @param {BenchResults} results */
export function deriveFigures(results) {
  const { config, signing, signingAfter, issuance, delegated, oidcProvider, revocation, streamCost, scaleOut } = results;
  const ref = config.refConnections;
  const grantorToken = issuance.runs;
  const oidcToken = oidcProvider?.token ?? [];
  const oidcRefresh = oidcProvider?.refresh ?? [];
  const grantorRefresh = delegated.refresh.runs;
  const { ceiling, rawCeiling } = signing && signingAfter ? ceilings(signing, signingAfter) : { ceiling: undefined, rawCeiling: undefined };
  const bare = issuance.bare;
  const best = /** @type {MeasuredRun} */ (fastest(grantorToken));
  const g50 = at(grantorToken, ref);
  const o50 = at(oidcToken, ref);
  const oBest = fastest(oidcToken);
  const r50 = at(grantorRefresh, ref);
  const or50 = at(oidcRefresh, ref);
  const ratios = {
    issuanceOverCeilingBest: ceiling ? best.rps / ceiling : null,
    issuanceOverCeilingAt50: ceiling && g50 ? g50.rps / ceiling : null,
    // The machine's raw RSA ceiling (node:crypto sign() on every core): what no JS signing can beat.
    issuanceOverRawCeilingBest: rawCeiling ? best.rps / rawCeiling : null,
    // Grantor against a server that only signs (bench/bare-signer-child.js), same load, same run.
    grantorOverBareSignerAt50: bare && g50 ? g50.rps / bare.rps : null,
    bareSignerOverRawCeiling: bare && rawCeiling ? bare.rps / rawCeiling : null,
    grantorOverOidcProviderAt50: g50 && o50 ? g50.rps / o50.rps : null,
    grantorOverOidcProviderBest: oBest ? best.rps / oBest.rps : null,
    refreshOverClientCredentialsAt50: r50 && g50 ? r50.rps / g50.rps : null,
    // node-oidc-provider's refresh against its own client_credentials (same run), and Grantor's refresh against its refresh.
    oidcProviderRefreshOverClientCredentialsAt50: or50 && o50 ? or50.rps / o50.rps : null,
    grantorRefreshOverOidcProviderRefreshAt50: r50 && or50 ? r50.rps / or50.rps : null,
  };
  // CPU cost of one RS256 signature on one core, and how much of Grantor's per-request CPU it is.
  const nodeSingle = signing?.nodeSingle?.signaturesPerSecond;
  const signMs = nodeSingle ? 1000 / nodeSingle : null;
  const signShare = signMs && g50?.cpu.serverMsPerRequest ? signMs / g50.cpu.serverMsPerRequest : null;
  const { introspection } = delegated;
  const soRefresh = scaleOut.refresh && 'cpu' in scaleOut.refresh && scaleOut.refresh.cpu ? scaleOut.refresh : null;
  const r50Phase4 = at(grantorRefresh, config.scaleOutConnections);
  return {
    ceiling,
    rawCeiling,
    best,
    g50,
    o50,
    r50,
    ratios,
    signMs,
    signShare,
    refreshClean: grantorRefresh.every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.script.bad === 0 && !r.script.starved),
    introspectionClean: [introspection.lean, introspection.koa, ...(introspection.asFiled ? [introspection.asFiled] : [])].every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.script.bad === 0),
    ttlBoundMs: (config.revokeTtl + 1) * 1000,
    revocationOk: revocation.timedOut === 0 && revocation.errors.length === 0,
    streamOk: revocation.stream.timedOut === 0 && revocation.stream.errors.length === 0 && revocation.stream.channel === 'stream',
    streamCostOk: streamCost.rows.every((r) => r.delivered === r.expected && r.receiverErrors === 0 && r.grantorCpuMsPerRevocation > 0),
    scaleOutRows: SETUPS,
    soRefresh,
    r50Phase4,
    refreshPgOverSqlite: soRefresh && r50Phase4 ? soRefresh.rps / r50Phase4.rps : null,
    g50Phase2: at(grantorToken, config.scaleOutConnections),
  };
}

/** @typedef {ReturnType<typeof deriveFigures>} BenchFigures */
