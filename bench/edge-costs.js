// @ts-check
/**
 * What the access log and the rate limiter cost issuance (issue #14 item 1): phase 2's request at
 * one concurrency on fresh servers back to back, in `rounds` rounds of three:
 *
 *   as operators run it (access log at info, rate limits on) · LOG_LEVEL=warn · rate limits off
 *
 * The same load every time (spread over the same number of clients and X-Forwarded-For addresses),
 * so the rows differ only in the setting each names. Costs are ratios of the means over rounds.
 */
import { LIMITS_OFF, LOAD_CLIENTS, QUIET_LOG, startGrantor } from './grantor-server.js';

export const EDGE_SETUPS = /** @type {const} */ ([
  { key: 'default', label: 'as operators run it (log info, limits on)', env: {} },
  { key: 'quietLog', label: 'LOG_LEVEL=warn (no access log)', env: QUIET_LOG },
  { key: 'limitsOff', label: 'rate limits off', env: LIMITS_OFF },
]);

/**
 * @typedef {import('./types.js').MeasuredRun} LoadRun
 * @typedef {{ key: string, label: string, runs: LoadRun[], meanRps: number, meanCpuMsPerRequest: number | null }} EdgeRow
 * @typedef {{ rounds: number, connections: number, rows: EdgeRow[], logCost: number, limiterCost: number, logCpuCost: number | null, limiterCpuCost: number | null }} EdgeCosts
 */

/**
 * @param {{ rounds: number, connections: number, seconds: number, warmupSeconds: number,
 *   start?: typeof startGrantor,
 *   tokenRequest: (target: any, path: string) => any,
 *   verifyIssuance: (target: any, req: any) => Promise<unknown>,
 *   warmUp: (target: any, req: any) => Promise<void>,
 *   load: (target: any, label: string, req: any, connections: number, seconds: number) => Promise<LoadRun>,
 *   log: (msg: string) => void }} o
 * @returns {Promise<EdgeCosts>}
 */
export async function measureEdgeCosts(o) {
  const start = o.start ?? startGrantor;
  /** @type {Record<string, LoadRun[]>} */
  const runs = Object.fromEntries(EDGE_SETUPS.map((s) => [s.key, []]));
  for (let round = 1; round <= o.rounds; round++) {
    // Each round starts with the next setup (default first, then LOG_LEVEL=warn, then limits off),
    // so that a drift of the shared machine or a server's place after a stop weighs on every setup
    // alike: two full runs, with the default always first, measured it 13-22 % slower than the two
    // others while in a bench of its own it was within 1 % of them.
    const order = EDGE_SETUPS.map((_, i) => EDGE_SETUPS[(i + round - 1) % EDGE_SETUPS.length]);
    for (const setup of order) {
      const server = await start({ env: setup.env, clients: LOAD_CLIENTS });
      try {
        server.name = `grantor (${setup.label}, round ${round})`;
        const req = o.tokenRequest(server, '/oauth/token');
        await o.verifyIssuance(server, req);
        await o.warmUp(server, req);
        runs[setup.key].push(await o.load(server, 'POST /oauth/token', req, o.connections, o.seconds));
      } finally {
        await server.stop();
      }
    }
  }
  const mean = (/** @type {number[]} */ v) => v.reduce((a, b) => a + b, 0) / v.length;
  const rows = EDGE_SETUPS.map((s) => {
    const cpu = runs[s.key].map((r) => r.cpu.serverMsPerRequest);
    return {
      key: s.key,
      label: s.label,
      runs: runs[s.key],
      meanRps: mean(runs[s.key].map((r) => r.rps)),
      meanCpuMsPerRequest: cpu.every((v) => v !== undefined) ? mean(/** @type {number[]} */ (cpu)) : null,
    };
  });
  const [dflt, quiet, off] = rows;
  const cpuCost = (/** @type {EdgeRow} */ without) => (dflt.meanCpuMsPerRequest !== null && without.meanCpuMsPerRequest !== null ? dflt.meanCpuMsPerRequest / without.meanCpuMsPerRequest - 1 : null);
  return {
    rounds: o.rounds,
    connections: o.connections,
    rows,
    // Share of issuance lost to the setting: 1 - (req/s with it) / (req/s without it).
    logCost: 1 - dflt.meanRps / quiet.meanRps,
    limiterCost: 1 - dflt.meanRps / off.meanRps,
    // Extra server CPU per request with the setting on.
    logCpuCost: cpuCost(quiet),
    limiterCpuCost: cpuCost(off),
  };
}
