// @ts-check
/**
 * What the access log and the rate limiter cost issuance (issue #14 item 1): phase 2's request at
 * one concurrency on three servers, started once and measured in turn, in `rounds` rounds:
 *
 *   as operators run it (access log at info, rate limits on) · LOG_LEVEL=warn · rate limits off
 *
 * The same load every time (spread over the same number of clients and X-Forwarded-For addresses),
 * so the rows differ only in the setting each names. Each round runs the three back to back, in
 * each of their six orders in turn (ORDERS), so a setting is compared with the others seconds apart,
 * under the same neighbours: on a shared machine the rate drifts by more than the log costs over a
 * minute. A cost is the median over rounds of that round's ratio (one noisy round moves a mean, not
 * a median).
 */
import { LIMITS_OFF, LOAD_CLIENTS, QUIET_LOG, startGrantor } from './grantor-server.js';
import { median } from './report.js';

export const EDGE_SETUPS = /** @type {const} */ ([
  { key: 'default', label: 'as operators run it (log info, limits on)', env: {} },
  { key: 'quietLog', label: 'LOG_LEVEL=warn (no access log)', env: QUIET_LOG },
  { key: 'limitsOff', label: 'rate limits off', env: LIMITS_OFF },
]);

/**
 * The order of the three in each round: all six, so that over six rounds each setup runs before
 * each other one as often as after it. The machine's speed drifts within a minute; with rotations
 * alone (three orders) a setup ran before another two rounds in three, and a drift read as a cost.
 */
const ORDERS = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [0, 2, 1], [1, 0, 2]];

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
  /** @type {Array<{ setup: typeof EDGE_SETUPS[number], server: any, req: any }>} */
  const servers = [];
  try {
    for (const setup of EDGE_SETUPS) {
      const server = await start({ env: setup.env, clients: LOAD_CLIENTS });
      const entry = { setup, server, req: o.tokenRequest(server, '/oauth/token') };
      servers.push(entry);
      server.name = `grantor (${setup.label})`;
      await o.verifyIssuance(server, entry.req);
      await o.warmUp(server, entry.req);
    }
    for (let round = 1; round <= o.rounds; round++) {
      const order = ORDERS[(round - 1) % ORDERS.length].map((i) => servers[i]);
      for (const { setup, server, req } of order) runs[setup.key].push(await o.load(server, 'POST /oauth/token', req, o.connections, o.seconds));
    }
  } finally {
    await Promise.all(servers.map(({ server }) => server.stop()));
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
  /** The median over rounds of what the default setup costs against `without`, by `value` (rate: 1 - d/w; CPU per request: d/w - 1). */
  const medianCost = (/** @type {EdgeRow} */ without, /** @type {'rps' | 'cpu'} */ value) => {
    const costs = dflt.runs.map((d, i) => {
      const w = without.runs[i];
      if (value === 'rps') return 1 - d.rps / w.rps;
      const [dc, wc] = [d.cpu.serverMsPerRequest, w.cpu.serverMsPerRequest];
      return dc !== undefined && wc !== undefined ? dc / wc - 1 : null;
    });
    return costs.every((c) => c !== null) ? median(/** @type {number[]} */ (costs)) : null;
  };
  return {
    rounds: o.rounds,
    connections: o.connections,
    rows,
    logCost: /** @type {number} */ (medianCost(quiet, 'rps')),
    limiterCost: /** @type {number} */ (medianCost(off, 'rps')),
    logCpuCost: medianCost(quiet, 'cpu'),
    limiterCpuCost: medianCost(off, 'cpu'),
  };
}
