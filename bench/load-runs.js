// @ts-check
/**
 * What the phases of `npm run bench` share: the token request of 2 and its check, introspection,
 * and measured load runs (autocannon with CPU accounting) on the load generators they are given.
 * A phase that finds the bench itself broken (a server answering wrongly) throws BenchBroken.
 */
import { cpuMeter, sleep } from './procs.js';
import { tailStructure } from './tail.js';

/** The bench cannot measure (a server answered wrongly, a seed came out short): the run stops, exit 1. */
export class BenchBroken extends Error {}

/** A query string the lean routes leave to koa (they take their exact path only); koa's routes ignore it. */
export const VIA_KOA = '?via=koa';

/** @param {string} id @param {string} secret */
export function basicAuth(id, secret) {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/**
 * Phase 2's request. A target with many clients (Grantor in its default configuration: rate limits
 * on) gets each request from the next client and the next X-Forwarded-For address, round-robin
 * (bench/load-child.js), so the load stays within the per-client and per-address limits.
 * @param {import('./types.js').BenchTarget} target
 * @param {string} tokenPath
 * @returns {import('./types.js').LoadOptions}
 */
export function tokenRequest(target, tokenPath) {
  const rotate = target.credentials && target.credentials.length > 1
    ? {
        authorizations: target.credentials.map((c) => basicAuth(c.clientId, c.clientSecret)),
        forwardedFor: target.credentials.map((_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
      }
    : undefined;
  return {
    rotate,
    url: `${target.url}${tokenPath}`,
    method: 'POST',
    headers: { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    // The same job for both servers: one named resource (RFC 8707), one scope.
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: target.resource, scope: target.scope }).toString(),
  };
}

/**
 * One real request first: a 200 with an RS256 at+jwt for the resource, or the bench stops.
 * @param {import('./types.js').BenchTarget} target
 * @param {import('./types.js').LoadOptions} req
 * @returns {Promise<import('./types.js').IssuedSample>}
 */
export async function verifyIssuance(target, req) {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  const fail = (/** @type {string} */ why) => new BenchBroken(`${target.name}: token request did not give a JWT access token (${why}): HTTP ${res.status} ${text.slice(0, 400)}\n${target.logs?.() ?? ''}`);
  if (res.status !== 200) throw fail('status');
  let body;
  try { body = JSON.parse(text); } catch { throw fail('not JSON'); }
  const parts = typeof body.access_token === 'string' ? body.access_token.split('.') : [];
  if (parts.length !== 3 || parts.some((/** @type {string} */ p) => !p)) throw fail('not three dot-separated parts');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (header.alg !== 'RS256') throw fail(`alg ${header.alg}`);
  if (claims.aud !== target.resource && !(Array.isArray(claims.aud) && claims.aud.includes(target.resource))) throw fail(`aud ${claims.aud}`);
  if (Buffer.from(parts[2], 'base64url').length !== 256) throw fail('signature is not RSA-2048 sized');
  return { header, claims, tokenBytes: body.access_token.length };
}

/**
 * RFC 7662 introspection by `caller` (client_secret_basic); resolves to the JSON answer.
 * @param {string} baseUrl
 * @param {{ client_id: string, client_secret: string }} caller
 * @param {string} token
 * @returns {Promise<{ active?: boolean } & Record<string, unknown>>}
 */
export async function introspect(baseUrl, caller, token) {
  const res = await fetch(`${baseUrl}/oauth/introspect`, {
    method: 'POST',
    headers: { Authorization: basicAuth(caller.client_id, caller.client_secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new BenchBroken(`introspection answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * A 200 for GET `url`, or the bench stops.
 * @param {import('./types.js').BenchTarget} target
 * @param {string} url
 */
export async function verifyGet(target, url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new BenchBroken(`${target.name}: GET ${url} answered ${res.status}`);
}

/**
 * What every measured run reports of its load generator's answer, whatever CPU it adds: the one
 * shape of a run's figures for phase 2's runs and for scale-out's.
 * @param {import('./types.js').LoadResult} r
 * @param {number} connections
 */
export function runFigures(r, connections) {
  return {
    connections,
    seconds: r.duration,
    requests: r.total,
    rps: r.rps,
    latencyMs: r.latency,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodeStats: r.statusCodeStats,
    script: r.script,
    ...(r.answers ? { tail: tailStructure(r.answers, connections) } : {}),
  };
}

/**
 * Measured runs on one pair of load generators (a phase's own in a concurrent smoke run).
 * @param {{ loader: import('./types.js').LoadGenerator, scripted: import('./types.js').ScriptedLoadGenerator,
 *   warmupSeconds: number, warmupConnections: number, settleMs: number, log: (msg: string) => void }} o
 * @returns {import('./types.js').LoadTools}
 */
export function loadTools({ loader, scripted, warmupSeconds, warmupConnections, settleMs, log }) {
  /**
   * @param {import('./types.js').BenchTarget} target
   * @param {number | undefined} loadgenPid
   * @param {string} label
   * @param {number} connections
   * @param {number} seconds
   * @param {() => Promise<import('./types.js').LoadResult>} go
   * @param {{ strict: boolean }} opts
   * @returns {Promise<import('./types.js').MeasuredRun>}
   */
  async function measured(target, loadgenPid, label, connections, seconds, go, { strict }) {
    log(`  ${target.name}: ${label} c=${connections} for ${seconds} s`);
    const meter = cpuMeter({ server: target.pid, loadgen: loadgenPid }, { mainThreadOf: ['server'] });
    const r = await go();
    const cpu = meter.end();
    if (r.total === 0 || (strict && (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0))) {
      throw new BenchBroken(
        `${target.name}: ${label} at c=${connections}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts of ${r.total} ` +
          `(status codes ${JSON.stringify(r.statusCodeStats)})\n${target.logs?.() ?? ''}`,
      );
    }
    if (settleMs) await sleep(settleMs);
    return {
      ...runFigures(r, connections),
      cpu: {
        serverPctOfOneCore: cpu.server?.pctOfOneCore,
        serverLoopPctOfOneCore: cpu.server?.mainThreadPctOfOneCore,
        serverMsPerRequest: cpu.server ? (cpu.server.cpuSeconds * 1000) / r.total : undefined,
        loadgenPctOfOneCore: cpu.loadgen?.pctOfOneCore,
        machineBusyPct: cpu.machineBusyPct,
        othersPctOfOneCore: cpu.othersPctOfOneCore,
      },
    };
  }

  return {
    loader,
    scripted,
    log,
    // One autocannon run with CPU accounting; throws if any answer was not 2xx.
    load: (target, label, req, connections, seconds) =>
      measured(target, loader.pid, label, connections, seconds, () => loader.run({ ...req, connections, duration: seconds }), { strict: true }),
    // One scripted run (bench/scripted-load-child.js): non-2xx answers and failed checks are counted
    // and reported (and judged by a target), not thrown: they are findings.
    scriptedLoad: async (target, label, script, opts, connections, seconds) => {
      const run = await measured(target, scripted.pid, label, connections, seconds, () => scripted.run(script, { ...opts, connections, duration: seconds }), { strict: false });
      return { ...run, script: run.script ?? { ok: 0, bad: 0 } };
    },
    warmUp: async (target, req) => {
      log(`  ${target.name}: warm-up ${warmupSeconds} s`);
      const r = await loader.run({ ...req, connections: warmupConnections, duration: warmupSeconds });
      if (r.non2xx > 0 || r.errors > 0) throw new BenchBroken(`${target.name}: warm-up had ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statusCodeStats)})\n${target.logs?.() ?? ''}`);
    },
  };
}
