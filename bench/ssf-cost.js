// @ts-check
/**
 * What a Shared Signals stream costs Grantor per revocation (issue #13 item 4), with 0, 1, 10 and
 * 100 subscribed receivers: a Grantor of its own in the operators' configuration
 * (bench/grantor-server.js: access log at info, rate limits on), the receivers jose-only long
 * pollers in a child process (bench/ssf-receivers-child.js) so that their work is not Grantor's.
 *
 * Per receiver count: the receivers subscribe (a client of their own each, scope `ssf`, one poll
 * stream each for the bench API) and hold long polls; Grantor's CPU is read over `idleSeconds` of
 * nothing (what held polls cost: the dispatcher's look at the database every SSF_CHECK_INTERVAL),
 * then over `revocations` admin revocations (DELETE /admin/grants/:id, `gapMs` apart) until every
 * receiver has verified and acknowledged every event. Per revocation: Grantor CPU ms (minus the idle
 * rate over the same time), the DELETE's latency, and the time from its answer until the last
 * receiver had the SET.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './child-rpc.js';
import { startGrantor } from './grantor-server.js';
import { cpuMeter, sleep } from './procs.js';
import { quantile } from './report.js';
import { claimsOf, clientCredentialsToken } from './resource-server-module.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ssf-receivers-child.js');
const clock = () => performance.timeOrigin + performance.now();

/** @param {Response} res @param {string} what @returns {Promise<any>} the answer's JSON */
async function json(res, what) {
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * @typedef {{ receivers: number, revocations: number, delivered: number, expected: number, receiverErrors: number,
 *   firstReceiverError: string | undefined, windowSeconds: number, grantorCpuMsPerRevocation: number,
 *   grantorNetCpuMsPerRevocation: number, idleCpuPctOfOneCore: number, receiversCpuMsPerRevocation: number | undefined,
 *   revokeP50Ms: number | undefined, revokeP99Ms: number | undefined, lastReceiverP50Ms: number | undefined,
 *   lastReceiverP99Ms: number | undefined, othersPctOfOneCore: number | undefined }} StreamCostRow
 */

/**
 * @param {{ receivers?: number[], revocations?: number, gapMs?: [number, number], idleSeconds?: number, boundMs?: number, log?: (msg: string) => void }} o
 */
export async function measureStreamCost({ receivers = [0, 1, 10, 100], revocations = 40, gapMs = [20, 60], idleSeconds = 2, boundMs = 30_000, log = () => {} }) {
  const grantor = await startGrantor();
  const child = await startChild(CHILD, 'ssf receivers');
  try {
    const base = grantor.url;
    const admin = await grantor.cli(['clients', 'create', '--name', 'ops', '--scopes', 'admin', '--json']);
    const adminToken = await clientCredentialsToken(base, { clientId: admin.client_id, clientSecret: admin.client_secret, scope: 'admin' });
    const adminFetch = (/** @type {string} */ p, /** @type {RequestInit & { headers?: Record<string, string> }} */ init = {}) => fetch(`${base}/admin${p}`, { ...init, headers: { ...init.headers, Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' } });
    const createClient = async (/** @type {Record<string, unknown>} */ body) => json(await adminFetch('/clients', { method: 'POST', body: JSON.stringify(body) }), 'POST /admin/clients');
    /** @type {<T>(n: number, make: (i: number) => Promise<T>) => Promise<T[]>} */
    const inBatches = async (n, make) => {
      const out = [];
      for (let i = 0; i < n; i += 8) out.push(...(await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, j) => make(i + j)))));
      return out;
    };
    // One client per receiver (SSF_MAX_STREAMS_PER_CLIENT limits streams per client), allowed `ssf` by the admin.
    const most = Math.max(...receivers);
    const receiverCreds = await inBatches(most, async (i) => {
      const c = await createClient({ name: `rs ${i}`, grant_types: ['client_credentials'], scopes: ['ssf'] });
      return { clientId: c.client_id, clientSecret: c.client_secret };
    });

    /** @type {StreamCostRow[]} */
    const rows = [];
    for (const n of receivers) {
      // The grants to revoke: one client_credentials client and token each (one standing grant each).
      const grants = await inBatches(revocations, async (i) => {
        const c = await createClient({ name: `doomed ${n}-${i}`, grant_types: ['client_credentials'], scopes: [grantor.scope] });
        const token = await clientCredentialsToken(base, { clientId: c.client_id, clientSecret: c.client_secret, scope: grantor.scope, resource: grantor.resource });
        return claimsOf(token).grant_id;
      });
      if (n > 0) await child.send({ cmd: 'start', url: base, audience: grantor.resource, creds: receiverCreds.slice(0, n) });
      await sleep(300);

      const idle = cpuMeter({ grantor: grantor.pid });
      await sleep(idleSeconds * 1000);
      const idleCpu = idle.end();
      const idleMsPerSecond = ((idleCpu.grantor?.cpuSeconds ?? NaN) * 1000) / idleCpu.wallSeconds;

      const meter = cpuMeter({ grantor: grantor.pid, receivers: child.pid });
      /** @type {Record<string, number>} */
      const answeredAt = {};
      /** @type {number[]} */
      const revokeMs = [];
      for (const grantId of grants) {
        await sleep(gapMs[0] + Math.random() * (gapMs[1] - gapMs[0]));
        const sent = clock();
        const view = await json(await adminFetch(`/grants/${encodeURIComponent(grantId)}`, { method: 'DELETE' }), 'DELETE /admin/grants');
        answeredAt[grantId] = clock();
        revokeMs.push(answeredAt[grantId] - sent);
        if (view.status !== 'revoked') throw new Error(`DELETE /admin/grants answered status ${view.status}`);
      }
      // Until every receiver has every SET (or the bound).
      /** @type {{ arrivals: Record<string, number[]>, errors: string[], errorCount: number }} */
      let got = { arrivals: {}, errors: [], errorCount: 0 };
      const until = Date.now() + boundMs;
      const delivered = () => grants.reduce((sum, g) => sum + (got.arrivals[g]?.length ?? 0), 0);
      if (n > 0) {
        for (;;) {
          got = await child.send({ cmd: 'arrivals' });
          if (delivered() >= n * grants.length || Date.now() > until) break;
          await sleep(20);
        }
      }
      const cpu = meter.end();
      if (n > 0) await child.send({ cmd: 'stop' });

      const lastArrival = grants.filter((g) => (got.arrivals[g]?.length ?? 0) >= n && n > 0).map((g) => Math.max(...got.arrivals[g]) - answeredAt[g]).sort((a, b) => a - b);
      revokeMs.sort((a, b) => a - b);
      const grantorCpuMs = (cpu.grantor?.cpuSeconds ?? NaN) * 1000;
      const row = {
        receivers: n,
        revocations: grants.length,
        delivered: delivered(),
        expected: n * grants.length,
        receiverErrors: got.errorCount,
        firstReceiverError: got.errors[0],
        windowSeconds: cpu.wallSeconds,
        grantorCpuMsPerRevocation: grantorCpuMs / grants.length,
        // What the window would have cost idle (held polls, the dispatcher's looks), taken out.
        grantorNetCpuMsPerRevocation: (grantorCpuMs - idleMsPerSecond * cpu.wallSeconds) / grants.length,
        idleCpuPctOfOneCore: idleMsPerSecond / 10,
        receiversCpuMsPerRevocation: cpu.receivers ? (cpu.receivers.cpuSeconds * 1000) / grants.length : undefined,
        revokeP50Ms: quantile(revokeMs, 0.5),
        revokeP99Ms: quantile(revokeMs, 0.99),
        lastReceiverP50Ms: quantile(lastArrival, 0.5),
        lastReceiverP99Ms: quantile(lastArrival, 0.99),
        othersPctOfOneCore: cpu.othersPctOfOneCore,
      };
      rows.push(row);
      log(`  streams: ${n} receiver(s): ${row.grantorCpuMsPerRevocation.toFixed(2)} ms Grantor CPU per revocation, DELETE p50 ${row.revokeP50Ms?.toFixed(1)} ms, ${row.delivered}/${row.expected} delivered`);
    }
    return { revocations, gapMs, idleSeconds, rows };
  } finally {
    child.child.kill();
    await grantor.stop();
  }
}
