/**
 * `npm run bench`: Grantor's client_credentials issuance against the machine's RS256 signing
 * ceiling and against node-oidc-provider doing the same job, in one run; then Grantor's delegated
 * side (refresh rotation, introspection), its resource-server module, and revocation propagation.
 *
 *   1. signing ceiling: worker_threads signing Grantor-shaped RS256 JWTs (node:crypto and jose)
 *   2. Grantor POST /oauth/token at several concurrencies (child process, temp SQLite + keys); the
 *      bare signer (bench/bare-signer-child.js) at c=50 for scale; then the all-core rows of 1
 *      again. THE CEILING is jose on all cores (the faster of its two shapes), the mean of before
 *      and after
 *   3. Grantor GET /.well-known/jwks.json, /.well-known/oauth-authorization-server and /statuslists/1
 *      (plain and gzip), each side by side in the same run: through koa (the same GET with a query
 *      string, `?via=koa`, which the lean route leaves to koa) and from prepared bytes on the lean route
 *   4. Grantor POST /oauth/token grant_type=refresh_token: refresh tokens seeded through the
 *      authorization code flow over HTTP (bench/browserless.js), then every request rotates; each
 *      connection chains on the successor it got back (bench/scripted-load-child.js)
 *   5. Grantor POST /oauth/introspect of a valid access token by a client with `introspect`, through
 *      koa (`?via=koa`, as in 3) and on the lean path, side by side
 *   6. the resource-server module (dist/src/resource-server): µs per verify against bare jose
 *      jwtVerify with a local key set, in this process (bench/verify-cost.js); then client
 *      authentication timing: a wrong secret against an unknown client_id, interleaved
 *      (bench/client-auth-timing.js; alone: `npm run bench:timing`, which exits 1 past 10 %)
 *   7. revocation propagation: a second Grantor with STATUS_LIST_TTL=1; admin revocations, and
 *      how long until the module's verifier refuses each token (bench/revocation-propagation.js)
 *   8. node-oidc-provider v9 POST /token, same job as 2, own child process
 *   9. scale-out (bench/scale-out.js): 2's request at c=50 on four fresh servers back to back —
 *      SQLite and PostgreSQL, each as 1 process and as WORKERS=2 (node:cluster) — and the refresh
 *      grant at c=50 on PostgreSQL (1 process); server CPU summed over the primary and its workers
 *   then targets as PASS/FAIL lines (informative: exit code 0 unless broken). The printout keeps its
 *   earlier section numbers (4 = node-oidc-provider) and adds 5–8 for phases 4–7 above, 9 for 9.
 *
 * Prints a table and a final line `BENCH_JSON {...}` with every figure.
 *
 * env: BENCH_SECONDS (per load run, default 5), BENCH_SIGN_SECONDS (per signing run, default 3),
 *      BENCH_WARMUP_SECONDS (default 2), BENCH_CONNECTIONS (default 1,10,50,100),
 *      BENCH_OIDC_CONNECTIONS (default: same as BENCH_CONNECTIONS),
 *      BENCH_REFRESH_CONNECTIONS (default 10,50), BENCH_REFRESH_SEED (refresh tokens made through the
 *      code flow first; default: enough for every run's in-flight losses), BENCH_INTROSPECT_CONNECTIONS
 *      (default 50), BENCH_VERIFY_ROUNDS (default 60) and BENCH_VERIFY_ITERATIONS (per round and variant,
 *      default 100), BENCH_REVOKE_GRANTS (default 40), BENCH_STATUS_LIST_TTL (default 1),
 *      BENCH_DATABASE_URL (PostgreSQL for phase 9, else TEST_DATABASE_URL, else
 *      postgres://grantor:grantor@127.0.0.1:5432/grantor_test; a fresh schema per server, dropped
 *      afterwards; unreachable → its rows are skipped), BENCH_SCALEOUT_CONNECTIONS (default 50),
 *      BENCH_ONLY=grantor (skip the signing ceiling and oidc-provider, e.g. when profiling),
 *      BENCH_CPU_PROF=<dir> (run Grantor under `node --cpu-prof`, profile written to <dir> at stop;
 *      the figures of such a run are skewed by the profiler).
 */
import os from 'node:os';
import path from 'node:path';
import { seedRefreshTokens } from './browserless.js';
import { prepareDelegated } from './delegated.js';
import { startBareSigner } from './bare-signer.js';
import { LIMITS_OFF, LOAD_CLIENTS, startGrantor } from './grantor-server.js';
import { measureEdgeCosts } from './edge-costs.js';
import { startLoadGenerator } from './load.js';
import { startOidcProvider } from './oidc-provider-peer.js';
import { cleanupAll, cpuMeter, sleep } from './procs.js';
import { fmt, round, table } from './report.js';
import { clientCredentialsToken } from './resource-server-module.js';
import { measureRevocationPropagation } from './revocation-propagation.js';
import { measureScaleOut } from './scale-out.js';
import { startScriptedLoadGenerator } from './scripted-load.js';
import { measureSigningCeiling } from './signing-ceiling.js';
import { measureVerifyCost } from './verify-cost.js';
import { measureClientAuthTiming } from './client-auth-timing.js';
import { list, num } from './env.js';


/**
 * BENCH_SMOKE=1 (`npm run bench:smoke`, part of `npm test`): every phase with tiny durations and
 * counts (~40 s), checking that each returns sane results — non-zero rates, no unexpected non-2xx,
 * every refresh rotated, every introspection active, every revocation seen — so that a broken
 * phase fails the build. Its figures mean nothing.
 */
const SMOKE = process.env.BENCH_SMOKE === '1';
/** A setting's default: the full run's, or the smoke run's. */
const byMode = (full, smoke) => (SMOKE ? smoke : full);

const SECONDS = num('BENCH_SECONDS', byMode(5, 1));
const SIGN_SECONDS = num('BENCH_SIGN_SECONDS', byMode(3, 0.25));
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', byMode(2, 0.5));
const CONNECTIONS = list('BENCH_CONNECTIONS', byMode([1, 10, 50, 100], [10]));
const OIDC_CONNECTIONS = list('BENCH_OIDC_CONNECTIONS', CONNECTIONS);
const ONLY_GRANTOR = process.env.BENCH_ONLY === 'grantor';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
const REF_CONNECTIONS = byMode(50, 10); // the issue's p99 and comparison point
const REFRESH_CONNECTIONS = list('BENCH_REFRESH_CONNECTIONS', byMode([10, 50], [10]));
const WARMUP_CONNECTIONS = 10;
// Chaining needs only one token per connection; each run (and the warm-up) loses at most one per
// connection (rotated by the server, answer unread when the run stops).
const REFRESH_SEED = num('BENCH_REFRESH_SEED', WARMUP_CONNECTIONS + REFRESH_CONNECTIONS.reduce((a, b) => a + b, 0) + Math.max(...REFRESH_CONNECTIONS) + 20);
const INTROSPECT_CONNECTIONS = num('BENCH_INTROSPECT_CONNECTIONS', REF_CONNECTIONS);
const VERIFY_ROUNDS = num('BENCH_VERIFY_ROUNDS', byMode(60, 3));
const VERIFY_ITERATIONS = num('BENCH_VERIFY_ITERATIONS', byMode(100, 10));
const REVOKE_GRANTS = num('BENCH_REVOKE_GRANTS', byMode(40, 3));
const REVOKE_TTL = num('BENCH_STATUS_LIST_TTL', 1);
const EDGE_ROUNDS = num('BENCH_EDGE_ROUNDS', byMode(2, 1));
const TIMING_TRIES = num('BENCH_TIMING_TRIES', byMode(400, 20));
const TIMING_WARMUP = num('BENCH_TIMING_WARMUP', byMode(100, 10));
const PROPAGATION_BOUND_MS = 10_000;
const SCALEOUT_CONNECTIONS = num('BENCH_SCALEOUT_CONNECTIONS', REF_CONNECTIONS);
// The refresh run of phase 9 on PostgreSQL: one warm-up and one run, each losing at most one token per connection.
const SCALEOUT_REFRESH_SEED = WARMUP_CONNECTIONS + SCALEOUT_CONNECTIONS + 20;

const log = (msg) => process.stderr.write(`${msg}\n`);

/** A query string the lean routes leave to koa (they take their exact path only); koa's routes ignore it. */
const VIA_KOA = '?via=koa';
/** Phase 3's GETs: label, path, request headers. */
const DOCUMENTS = [
  ['/.well-known/jwks.json', '/.well-known/jwks.json', {}],
  ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server', {}],
  ['/statuslists/1', '/statuslists/1', {}],
  ['/statuslists/1 (gzip)', '/statuslists/1', { 'accept-encoding': 'gzip, deflate, br' }],
];

class BenchBroken extends Error {}

// ---- helpers --------------------------------------------------------------------------------

/**
 * Phase 2's request. A target with many clients (Grantor in its default configuration: rate limits
 * on) gets each request from the next client and the next X-Forwarded-For address, round-robin
 * (bench/load-child.js), so the load stays within the per-client and per-address limits.
 */
function tokenRequest(target, tokenPath) {
  const basic = Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64');
  const rotate = target.credentials?.length > 1
    ? {
        authorizations: target.credentials.map((c) => basicAuth(c.clientId, c.clientSecret)),
        forwardedFor: target.credentials.map((_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
      }
    : undefined;
  return {
    rotate,
    url: `${target.url}${tokenPath}`,
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    // The same job for both servers: one named resource (RFC 8707), one scope.
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: target.resource, scope: target.scope }).toString(),
  };
}

/** One real request first: a 200 with an RS256 at+jwt for the resource, or the bench stops. */
async function verifyIssuance(target, req) {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  const fail = (why) => new BenchBroken(`${target.name}: token request did not give a JWT access token (${why}): HTTP ${res.status} ${text.slice(0, 400)}\n${target.logs?.() ?? ''}`);
  if (res.status !== 200) throw fail('status');
  let body;
  try { body = JSON.parse(text); } catch { throw fail('not JSON'); }
  const parts = typeof body.access_token === 'string' ? body.access_token.split('.') : [];
  if (parts.length !== 3 || parts.some((p) => !p)) throw fail('not three dot-separated parts');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (header.alg !== 'RS256') throw fail(`alg ${header.alg}`);
  if (claims.aud !== target.resource && !(Array.isArray(claims.aud) && claims.aud.includes(target.resource))) throw fail(`aud ${claims.aud}`);
  if (Buffer.from(parts[2], 'base64url').length !== 256) throw fail('signature is not RSA-2048 sized');
  return { header, claims, tokenBytes: body.access_token.length };
}

function basicAuth(id, secret) { return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`; }

/** RFC 7662 introspection by `caller` (client_secret_basic); resolves to the JSON answer. */
async function introspect(baseUrl, caller, token) {
  const res = await fetch(`${baseUrl}/oauth/introspect`, {
    method: 'POST',
    headers: { Authorization: basicAuth(caller.client_id, caller.client_secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new BenchBroken(`introspection answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function verifyGet(target, url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new BenchBroken(`${target.name}: GET ${url} answered ${res.status}`);
}

/** One autocannon run with CPU accounting; throws if any answer was not 2xx. */
function load(loader, target, label, req, connections, seconds) {
  return measured(target, loader.pid, label, connections, seconds, () => loader.run({ ...req, connections, duration: seconds }), { strict: true });
}

/**
 * One scripted autocannon run (bench/scripted-load-child.js) with CPU accounting. Non-2xx answers
 * and failed checks are counted and reported (and judged by a target), not thrown: they are findings.
 */
function scriptedLoad(scripted, target, label, script, opts, connections, seconds) {
  return measured(target, scripted.pid, label, connections, seconds, () => scripted.run(script, { ...opts, connections, duration: seconds }), { strict: false });
}

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
  await sleep(300); // let closed sockets and GC settle between runs
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

async function warmUp(loader, target, req) {
  log(`  ${target.name}: warm-up ${WARMUP_SECONDS} s`);
  const r = await loader.run({ ...req, connections: 10, duration: WARMUP_SECONDS });
  if (r.non2xx > 0 || r.errors > 0) throw new BenchBroken(`${target.name}: warm-up had ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statusCodeStats)})\n${target.logs?.() ?? ''}`);
}

// ---- the run --------------------------------------------------------------------------------

async function main() {
  const startedAt = Date.now();
  const cores = os.availableParallelism();
  const env = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpu: os.cpus()[0]?.model?.trim(), cores, loadavg: os.loadavg().map((v) => round(v, 2)) };
  log(`bench: node ${env.node}, ${cores} cores (${env.cpu}), load average ${env.loadavg.join(' ')}`);

  // 1. signing ceiling
  let signing = null;
  if (!ONLY_GRANTOR) {
    log('1/9 RS256 signing ceiling');
    signing = await measureSigningCeiling({ seconds: SIGN_SECONDS, log });
  }
  // THE CEILING: jose signing on every core, in whichever of its two all-core shapes is faster
  // (a worker thread per core, or one event loop feeding the libuv pool).
  const joseBest = (m) => Math.max(m.joseAll.signaturesPerSecond, m.joseOneLoopPool.signaturesPerSecond);
  let ceiling = signing ? joseBest(signing) : undefined;
  let rawCeiling = signing?.nodeAll.signaturesPerSecond;

  const loader = await startLoadGenerator();

  // 2 + 3. Grantor
  log('2/9 Grantor client_credentials');
  const grantor = await startGrantor({ cpuProfDir: CPU_PROF_DIR, clients: LOAD_CLIENTS });
  const gReq = tokenRequest(grantor, '/oauth/token');
  const gSample = await verifyIssuance(grantor, gReq);
  await verifyGet(grantor, `${grantor.url}/.well-known/jwks.json`);
  await verifyGet(grantor, `${grantor.url}/.well-known/oauth-authorization-server`);
  await warmUp(loader, grantor, gReq);
  const grantorToken = [];
  for (const c of CONNECTIONS) grantorToken.push(await load(loader, grantor, 'POST /oauth/token', gReq, c, SECONDS));
  // The bare signer at c=50 (Grantor idle): node:http and the same signature, nothing else — the
  // most any HTTP token server reaches on this machine under this load generator.
  let bare = null;
  if (signing) {
    const bareSigner = await startBareSigner({ resource: grantor.resource, scope: grantor.scope });
    const bReq = tokenRequest(bareSigner, '/oauth/token');
    await verifyIssuance(bareSigner, bReq);
    await warmUp(loader, bareSigner, bReq);
    bare = await load(loader, bareSigner, 'POST (bare signer)', bReq, REF_CONNECTIONS, SECONDS);
    await bareSigner.stop();
  }
  // The all-core ceilings again, right after the issuance runs (Grantor idle): the ratios use the
  // mean of the two measurements, so a shared machine's drift over the minute between them evens
  // out instead of favouring or penalising issuance.
  let signingAfter = null;
  if (signing) {
    log('  signing ceilings again, after the issuance runs');
    signingAfter = await measureSigningCeiling({ seconds: SIGN_SECONDS, log, only: ['nodeAll', 'joseAll', 'joseOneLoopPool'] });
    ceiling = (joseBest(signing) + joseBest(signingAfter)) / 2;
    rawCeiling = (signing.nodeAll.signaturesPerSecond + signingAfter.nodeAll.signaturesPerSecond) / 2;
  }
  log('3/9 Grantor well-known documents and the status list: through koa, then from prepared bytes');
  const documents = [];
  for (const [label, docPath, headers] of DOCUMENTS) {
    const req = (query) => ({ url: `${grantor.url}${docPath}${query}`, method: 'GET', headers });
    const koa = await load(loader, grantor, `GET ${label} via koa`, req(VIA_KOA), REF_CONNECTIONS, SECONDS);
    const lean = await load(loader, grantor, `GET ${label}`, req(''), REF_CONNECTIONS, SECONDS);
    documents.push({ label, koa, lean });
  }
  const [{ lean: jwks }, { lean: metadata }] = documents;
  await grantor.stop();

  // 2b. what the access log and the rate limiter cost (fresh servers, back to back)
  log(`2b what logging and rate limiting cost: c=${REF_CONNECTIONS}, ${EDGE_ROUNDS} round(s) of default / LOG_LEVEL=warn / limits off`);
  const edgeCosts = await measureEdgeCosts({
    rounds: EDGE_ROUNDS,
    connections: REF_CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    tokenRequest,
    verifyIssuance,
    warmUp: (target, req) => warmUp(loader, target, req),
    load: (target, label, req, c, seconds) => load(loader, target, label, req, c, seconds),
    log,
  });

  // Phases 4-6 drive one client (a public app's refresh chains, one introspecting resource server)
  // far past the per-client limit of 1200/min: a Grantor of their own, rate limits off, access log on.
  const delegatedGrantor = await startGrantor({ env: LIMITS_OFF });

  // 4. the refresh grant: seed refresh tokens through the code flow, then rotate them under load
  log('4/9 Grantor refresh grant');
  const delegated = await prepareDelegated(delegatedGrantor);
  const seed = await seedRefreshTokens({ person: delegated.person, username: delegated.username, password: delegated.password, count: REFRESH_SEED });
  if (new Set(seed.tokens).size !== REFRESH_SEED) throw new BenchBroken(`seeding gave ${new Set(seed.tokens).size} distinct refresh tokens, not ${REFRESH_SEED}`);
  log(`  seeded ${seed.tokens.length} refresh tokens through the code flow in ${seed.seconds.toFixed(1)} s (${fmt.int(seed.tokens.length / seed.seconds)}/s)`);
  const scripted = await startScriptedLoadGenerator();
  await scripted.setPool(seed.tokens);
  const refreshReq = {
    url: `${delegatedGrantor.url}/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    clientId: delegated.app.client_id,
  };
  log(`  grantor: refresh warm-up ${WARMUP_SECONDS} s`);
  const refreshWarm = await scripted.run('refresh', { ...refreshReq, connections: WARMUP_CONNECTIONS, duration: WARMUP_SECONDS });
  if (refreshWarm.script.bad > 0 || refreshWarm.errors > 0) throw new BenchBroken(`refresh warm-up: ${refreshWarm.script.bad} failed rotations (${refreshWarm.script.firstBad}), ${refreshWarm.errors} errors\n${delegatedGrantor.logs()}`);
  const grantorRefresh = [];
  for (const c of REFRESH_CONNECTIONS) grantorRefresh.push(await scriptedLoad(scripted, delegatedGrantor, 'POST /oauth/token grant_type=refresh_token', 'refresh', refreshReq, c, SECONDS));
  // The chains are intact: a token left in the pool is live (no reuse was detected, the grant stands).
  const pooled = await scripted.peekPool();
  const chainCheck = { poolLeft: pooled.pool, ...(pooled.sample ? await introspect(delegatedGrantor.url, delegated.rs, pooled.sample) : { active: false }) };

  // 5. introspection of a valid access token by a resource server (the `introspect` permission)
  log('5/9 Grantor introspection');
  const accessToken = await clientCredentialsToken(delegatedGrantor.url, { clientId: delegatedGrantor.clientId, clientSecret: delegatedGrantor.clientSecret, scope: delegatedGrantor.scope, resource: delegatedGrantor.resource });
  const introspected = await introspect(delegatedGrantor.url, delegated.rs, accessToken);
  if (introspected.active !== true) throw new BenchBroken(`introspection of a fresh access token answered ${JSON.stringify(introspected)}`);
  const introspectReq = {
    url: `${delegatedGrantor.url}/oauth/introspect`,
    method: 'POST',
    headers: { authorization: basicAuth(delegated.rs.client_id, delegated.rs.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken }).toString(),
  };
  log(`  grantor: introspection warm-up ${WARMUP_SECONDS} s`);
  const introspectWarm = await scripted.run('introspect', { ...introspectReq, connections: WARMUP_CONNECTIONS, duration: WARMUP_SECONDS });
  if (introspectWarm.script.bad > 0 || introspectWarm.errors > 0) throw new BenchBroken(`introspection warm-up: ${introspectWarm.script.bad} bad answers (${introspectWarm.script.firstBad}), ${introspectWarm.errors} errors\n${delegatedGrantor.logs()}`);
  const introspectionKoa = await scriptedLoad(scripted, delegatedGrantor, 'POST /oauth/introspect via koa', 'introspect', { ...introspectReq, url: `${introspectReq.url}${VIA_KOA}` }, INTROSPECT_CONNECTIONS, SECONDS);
  const introspection = await scriptedLoad(scripted, delegatedGrantor, 'POST /oauth/introspect', 'introspect', introspectReq, INTROSPECT_CONNECTIONS, SECONDS);

  // 6. the resource-server module's cost per verification, in this process (Grantor idle)
  log(`6/9 resource-server module: cost per verification (${VERIFY_ROUNDS} rounds × ${VERIFY_ITERATIONS} per variant)`);
  const verifyCost = await measureVerifyCost({ grantor: delegatedGrantor, token: accessToken, rounds: VERIFY_ROUNDS, iterations: VERIFY_ITERATIONS });
  // 6b. does the answer time tell whether a client_id exists? (bench/client-auth-timing.js)
  log('6/9 client authentication timing: wrong secret vs unknown client_id (interleaved)');
  const authTiming = await measureClientAuthTiming({ grantor: delegatedGrantor, tries: TIMING_TRIES, warmup: TIMING_WARMUP, log });
  await delegatedGrantor.stop();

  // 7. revocation propagation, on a Grantor of its own with a short status list ttl
  log(`7/9 revocation propagation (a second Grantor with STATUS_LIST_TTL=${REVOKE_TTL})`);
  const revGrantor = await startGrantor({ env: { STATUS_LIST_TTL: String(REVOKE_TTL) } });
  const revocation = await measureRevocationPropagation({ grantor: revGrantor, ttl: REVOKE_TTL, grants: REVOKE_GRANTS, boundMs: PROPAGATION_BOUND_MS, log });
  await revGrantor.stop();

  // 8. node-oidc-provider
  let oidc = null;
  let oidcToken = [];
  if (!ONLY_GRANTOR) {
    log('8/9 node-oidc-provider');
    oidc = await startOidcProvider({ resource: grantor.resource, scope: grantor.scope });
    const oReq = tokenRequest(oidc, oidc.tokenPath);
    oidc.sample = await verifyIssuance(oidc, oReq);
    await warmUp(loader, oidc, oReq);
    for (const c of OIDC_CONNECTIONS) oidcToken.push(await load(loader, oidc, 'POST /token', oReq, c, SECONDS));
    await oidc.stop();
  }

  // 9. scale-out: SQLite and PostgreSQL, 1 process and WORKERS=2, each a fresh server, back to back
  log(`9/9 scale-out: client_credentials at c=${SCALEOUT_CONNECTIONS} on SQLite and PostgreSQL, 1 process and WORKERS=2`);
  const scaleOut = await measureScaleOut({
    loader,
    scripted,
    connections: SCALEOUT_CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    warmupConnections: WARMUP_CONNECTIONS,
    refreshSeed: SCALEOUT_REFRESH_SEED,
    tokenRequest,
    verifyIssuance,
    introspect,
    log,
  });

  // ---- figures ------------------------------------------------------------------------------
  const at = (runs, c) => runs.find((r) => r.connections === c);
  const best = grantorToken.reduce((a, b) => (b.rps > a.rps ? b : a));
  const g50 = at(grantorToken, REF_CONNECTIONS);
  const o50 = at(oidcToken, REF_CONNECTIONS);
  const oBest = oidcToken.length ? oidcToken.reduce((a, b) => (b.rps > a.rps ? b : a)) : undefined;
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
  };
  // CPU cost of one RS256 signature on one core, and how much of Grantor's per-request CPU it is.
  const signMs = signing ? 1000 / signing.nodeSingle.signaturesPerSecond : null;
  const signShare = signMs && g50?.cpu.serverMsPerRequest ? signMs / g50.cpu.serverMsPerRequest : null;
  const r50 = at(grantorRefresh, REF_CONNECTIONS);
  ratios.refreshOverClientCredentialsAt50 = r50 && g50 ? r50.rps / g50.rps : null;
  const refreshClean = grantorRefresh.every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.script.bad === 0 && r.script.starved === 0);
  const introspectionClean = [introspection, introspectionKoa].every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.script.bad === 0);
  const ttlBoundMs = (REVOKE_TTL + 1) * 1000;
  const revocationOk = revocation.timedOut === 0 && revocation.errors.length === 0;
  const SCALEOUT_ROWS = Object.values(scaleOut.runs).map((r) => r.setup);
  const so = scaleOut.ratios;
  const r50Phase4 = at(grantorRefresh, SCALEOUT_CONNECTIONS);
  const soRefresh = scaleOut.refresh?.cpu ? scaleOut.refresh : null;
  const refreshPgOverSqlite = soRefresh && r50Phase4 ? soRefresh.rps / r50Phase4.rps : null;
  const g50Phase2 = at(grantorToken, SCALEOUT_CONNECTIONS);

  const targets = [
    {
      name: 'issuance >= 80% of the all-core signing ceiling',
      measured: ratios.issuanceOverCeilingBest,
      detail: ceiling ? `${fmt.int(best.rps)} req/s at c=${best.connections} / ${fmt.int(ceiling)} sig/s = ${fmt.pct(ratios.issuanceOverCeilingBest * 100)} (at c=${REF_CONNECTIONS}: ${fmt.pct((ratios.issuanceOverCeilingAt50 ?? NaN) * 100) ?? 'n/a'})` : 'not measured',
      pass: ceiling ? ratios.issuanceOverCeilingBest >= 0.8 : null,
    },
    {
      name: 'the access log costs <= 5% of issuance',
      measured: edgeCosts.logCost,
      detail: `at c=${REF_CONNECTIONS}, mean of ${edgeCosts.rounds} round(s): ${fmt.int(edgeCosts.rows[0].meanRps)} req/s at info vs ${fmt.int(edgeCosts.rows[1].meanRps)} at warn = ${fmt.pct(edgeCosts.logCost * 100)} (CPU per request ${fmt.pct((edgeCosts.logCpuCost ?? NaN) * 100) ?? 'n/a'})`,
      pass: edgeCosts.logCost <= 0.05,
    },
    {
      name: `p99 < 50 ms at ${REF_CONNECTIONS} connections`,
      measured: g50?.latencyMs.p99 ?? null,
      detail: g50 ? `p99 ${g50.latencyMs.p99} ms` : `no c=${REF_CONNECTIONS} run`,
      pass: g50 ? g50.latencyMs.p99 < 50 : null,
    },
    {
      name: '>= 1.5x node-oidc-provider',
      measured: ratios.grantorOverOidcProviderAt50,
      detail: ratios.grantorOverOidcProviderAt50 ? `at c=${REF_CONNECTIONS}: ${fmt.int(g50.rps)} / ${fmt.int(o50.rps)} req/s = ${fmt.ratio(ratios.grantorOverOidcProviderAt50)}` : 'not measured',
      pass: ratios.grantorOverOidcProviderAt50 ? ratios.grantorOverOidcProviderAt50 >= 1.5 : null,
    },
    {
      name: 'refresh: every request rotates, 0 non-2xx',
      measured: grantorRefresh.reduce((n, r) => n + r.non2xx + r.script.bad, 0),
      detail: grantorRefresh.map((r) => `c=${r.connections}: ${fmt.int(r.script.ok)} rotated, ${r.non2xx} non-2xx, ${r.errors} errors`).join('; ') + `; a pooled token afterwards: ${chainCheck.active ? 'active' : 'NOT active'}`,
      pass: refreshClean && chainCheck.active === true,
    },
    {
      name: 'introspection: 0 non-2xx, every answer active',
      measured: introspection.non2xx + introspection.script.bad,
      detail: `c=${introspection.connections}: ${fmt.int(introspection.script.ok)} active of ${fmt.int(introspection.requests)}, ${introspection.non2xx} non-2xx, ${introspection.errors} errors`,
      pass: introspectionClean,
    },
    {
      name: `revocation propagation p99 <= ttl + 1 s`,
      measured: revocation.p99Ms,
      detail: `p99 ${fmt.int(revocation.p99Ms)} ms vs ${fmt.int(ttlBoundMs)} ms (ttl ${REVOKE_TTL} s; p50 ${fmt.int(revocation.p50Ms)}, max ${fmt.int(revocation.maxMs)} ms; ${revocation.timedOut} over ${PROPAGATION_BOUND_MS / 1000} s, ${revocation.errors.length} refused for another reason)`,
      pass: revocationOk && revocation.p99Ms <= ttlBoundMs,
    },
    {
      name: 'resource-server verify within 10% of bare jwtVerify',
      measured: verifyCost.ratio,
      detail: `${verifyCost.module.wallUs.toFixed(1)} µs vs ${verifyCost.bare.wallUs.toFixed(1)} µs per verify; per-round ratio ${fmt.ratio(verifyCost.ratio)} (CPU ${fmt.ratio(verifyCost.cpuRatio)})`,
      pass: verifyCost.ratio <= 1.1,
    },
    {
      name: 'unknown client_id timed like a wrong secret (±10%)',
      measured: Math.max(...Object.values(authTiming.ratios).map((r) => Math.abs(r - 1))),
      detail: `median ratio unknown / wrong secret: Basic ${fmt.ratio(authTiming.ratios.basic)}, post ${fmt.ratio(authTiming.ratios.post)}; answers ${authTiming.sameAnswers ? 'identical' : 'DIFFERENT'}`,
      pass: authTiming.pass,
    },
  ];

  // Measurements during which other processes took a sizeable share of the 2 cores.
  const NOISY_PCT = 25;
  const noisy = [
    ...(signing ? [['signing ceiling (jose, all cores)', signing.joseAll.othersPctOfOneCore]] : []),
    ...grantorToken.map((r) => [`Grantor client_credentials c=${r.connections}`, r.cpu.othersPctOfOneCore]),
    ...edgeCosts.rows.flatMap((row) => row.runs.map((r, i) => [`2b ${row.label}, round ${i + 1}`, r.cpu.othersPctOfOneCore])),
    ...(bare ? [['bare signer c=50', bare.cpu.othersPctOfOneCore]] : []),
    ...documents.flatMap((d) => [[`Grantor ${d.label} via koa`, d.koa.cpu.othersPctOfOneCore], [`Grantor ${d.label}`, d.lean.cpu.othersPctOfOneCore]]),
    ...oidcToken.map((r) => [`oidc-provider client_credentials c=${r.connections}`, r.cpu.othersPctOfOneCore]),
    ...grantorRefresh.map((r) => [`Grantor refresh c=${r.connections}`, r.cpu.othersPctOfOneCore]),
    [`Grantor introspection via koa c=${introspectionKoa.connections}`, introspectionKoa.cpu.othersPctOfOneCore],
    [`Grantor introspection c=${introspection.connections}`, introspection.cpu.othersPctOfOneCore],
    ...SCALEOUT_ROWS.filter(({ key }) => scaleOut.runs[key]?.cpu).map(({ key, label }) => [`scale-out ${label}`, scaleOut.runs[key].cpu.othersPctOfOneCore]),
    ...(scaleOut.refresh?.cpu ? [['scale-out PostgreSQL refresh', scaleOut.refresh.cpu.othersPctOfOneCore]] : []),
  ].filter(([, others]) => others > NOISY_PCT).map(([label, others]) => ({ label, others }));

  if (SMOKE) {
    // Sane results from every phase, or the build fails (the loads of 2, 2b, 3 and 8 already throw on any non-2xx).
    const broken = [];
    const positive = (label, v) => { if (!(typeof v === 'number' && v > 0)) broken.push(`${label}: ${v}`); };
    if (signing) for (const k of ['nodeSingle', 'nodeAll', 'joseSingle', 'joseAll', 'joseOneLoopPool']) positive(`signing ${k} sig/s`, signing[k].signaturesPerSecond);
    for (const r of [...grantorToken, ...documents.flatMap((d) => [d.koa, d.lean]), ...grantorRefresh, introspection, introspectionKoa, ...oidcToken, ...(bare ? [bare] : [])]) positive(`${r.connections} connections req/s`, r.rps);
    for (const row of edgeCosts.rows) positive(`2b ${row.label} req/s`, row.meanRps);
    if (!refreshClean || chainCheck.active !== true) broken.push(`refresh: ${JSON.stringify(grantorRefresh.map((r) => ({ non2xx: r.non2xx, bad: r.script.bad, starved: r.script.starved, firstBad: r.script.firstBad })))}, pooled token active ${chainCheck.active}`);
    if (!introspectionClean) broken.push(`introspection: ${introspection.non2xx} non-2xx, ${introspection.script.bad} not active (${introspection.script.firstBad})`);
    positive('verify µs (module)', verifyCost.module.wallUs);
    if (!authTiming.sameAnswers || authTiming.unexpected) broken.push(`client-auth timing: answers differ or unexpected: ${JSON.stringify(authTiming.unexpected ?? null)}`);
    if (!revocationOk) broken.push(`revocation: ${revocation.timedOut} not refused within the bound, ${revocation.errors.length} refused for another reason (${revocation.errors[0] ?? ''})`);
    for (const r of Object.values(scaleOut.runs)) {
      if (r.skipped) continue;
      if (!r.cpu || r.non2xx || r.errors || r.timeouts) broken.push(`scale-out ${r.setup?.label}: ${r.error ?? `${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`}`);
    }
    if (scaleOut.postgres.reachable && !soRefresh) broken.push(`scale-out PostgreSQL refresh: ${scaleOut.refresh?.error ?? 'not run'}`);
    if (soRefresh && (soRefresh.non2xx || soRefresh.script.bad)) broken.push(`scale-out PostgreSQL refresh: ${soRefresh.non2xx} non-2xx, ${soRefresh.script.bad} failed rotations`);
    if (broken.length) throw new BenchBroken(`smoke run: phases gave insane results:\n  ${broken.join('\n  ')}`);
  }

  // ---- printout -----------------------------------------------------------------------------
  const out = [];
  const p = (s = '') => out.push(s);
  p('');
  p(`Grantor bench — node ${env.node}, ${env.platform}, ${cores} cores (${env.cpu}), load avg at start ${env.loadavg.join(' ')}`);
  p(`NOTE: the load generator (autocannon, ${SECONDS} s per run) runs in its own process ON THE SAME ${cores}-CORE MACHINE and competes`);
  p('      with the server for CPU (see "loadgen CPU"); the signing ceiling was measured with the machine otherwise idle.');
  p('      The machine is shared: "others CPU" is what every other process used meanwhile (% of one core).');
  p('      Sections 5 and 6 use a second autocannon process that builds each request and reads each answer (bench/scripted-load-child.js).');
  if (CPU_PROF_DIR) p(`NOTE: Grantor ran under --cpu-prof (profile in ${CPU_PROF_DIR}): its figures are skewed by the profiler.`);
  if (signing) {
    p('');
    p(`1. RS256 signing ceiling (RSA-2048, Grantor-shaped at+jwt, ${SIGN_SECONDS} s per row, worker_threads; libuv pool ${signing.uvThreadpoolSize} threads)`);
    const row = (label, r, note = '') => [label, r.threads, r.inflight ?? 1, fmt.int(r.signaturesPerSecond), fmt.pct(r.cpuPctOfOneCore), fmt.pct(r.othersPctOfOneCore), note];
    p(table(['primitive', 'threads', 'in flight', 'sig/s', 'bench CPU', 'others CPU', ''], [
      row('node:crypto sign() KeyObject (sync)', signing.nodeSingle, 'single core'),
      row('node:crypto sign() KeyObject (sync)', signing.nodeAll, 'all cores'),
      row('jose SignJWT, PKCS8 CryptoKey', signing.joseSingle, 'single core'),
      row('jose SignJWT, PKCS8 CryptoKey', signing.joseAll, 'all cores'),
      row('jose SignJWT, one JS thread', signing.joseOneLoopPool, "Grantor's shape: 1 event loop + libuv pool"),
      row('node:crypto sign() KeyObject (sync)', signingAfter.nodeAll, 'all cores, again after 2'),
      row('jose SignJWT, PKCS8 CryptoKey', signingAfter.joseAll, 'all cores, again after 2'),
      row('jose SignJWT, one JS thread', signingAfter.joseOneLoopPool, 'again after 2'),
    ], { align: [false, true, true, true, true, true, false] }));
    p(`   THE CEILING: jose on all cores, the faster of its two shapes, mean of before and after 2 = ${fmt.int(ceiling)} sig/s`);
    p(`   (the raw node:crypto all-core ceiling, mean of before and after 2: ${fmt.int(rawCeiling)} sig/s)`);
    p(`   one signature costs ~${fmt.ms(signMs)} ms of CPU (1 / node single-core rate); "others CPU" = other processes on the machine`);
    p(`   meanwhile (% of one core): well above 0 means a neighbour took cores and the ceiling reads low.`);
  }
  p('');
  p(`2. Grantor POST /oauth/token (client_credentials, client_secret_basic, resource + scope; SQLite) — token ${gSample.tokenBytes} bytes`);
  p(`   Grantor as operators run it: access log at info, rate limits on (1200/min per client, 6000/min per address); the load`);
  p(`   rotates over ${LOAD_CLIENTS} clients and X-Forwarded-For addresses (TRUST_PROXY=127.0.0.1), so no request is limited.`);
  const tokenRow = (r) => [
    r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx,
    ceiling ? fmt.pct((r.rps / ceiling) * 100) : undefined,
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  const tokenHeaders = ['conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'of ceiling', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'];
  p(table(tokenHeaders, grantorToken.map(tokenRow)));
  if (bare) {
    p(`   the bare signer (bench/bare-signer-child.js: node:http + the same RS256 signature on the pool, nothing else), same load, c=${REF_CONNECTIONS}:`);
    p(table(tokenHeaders, [tokenRow(bare)]));
    p(`   Grantor at c=${REF_CONNECTIONS} reaches ${fmt.pct((ratios.grantorOverBareSignerAt50 ?? NaN) * 100)} of the bare signer; the bare signer reaches ${fmt.pct((ratios.bareSignerOverRawCeiling ?? NaN) * 100)} of the raw ceiling.`);
  }
  p('   (CPU columns are % of ONE core. server CPU: all threads of the server process; event loop: its main thread alone, so');
  p('    ~100% means the event loop is the bottleneck; CPU ms/req: server CPU per request; others CPU: every other process on the machine)');
  p('');
  p(`2b. What the access log and the rate limiter cost: POST /oauth/token as in 2 at c=${REF_CONNECTIONS}, fresh servers back to back,`);
  p(`    ${edgeCosts.rounds} round(s) of the three; the load spread over ${LOAD_CLIENTS} clients and X-Forwarded-For addresses in every row`);
  p(table(['setup', 'req/s (mean)', 'each round', 'p99 ms (each)', 'CPU ms/req (mean)', 'non-2xx', 'others CPU (each)'], edgeCosts.rows.map((row) => [
    row.label, fmt.int(row.meanRps), row.runs.map((r) => fmt.int(r.rps)).join(' / '), row.runs.map((r) => fmt.ms(r.latencyMs.p99)).join(' / '),
    fmt.ms(row.meanCpuMsPerRequest ?? undefined), row.runs.reduce((n, r) => n + r.non2xx, 0), row.runs.map((r) => fmt.pct(r.cpu.othersPctOfOneCore)).join(' / '),
  ]), { align: [false, true, true, true, true, true, true] }));
  p(`   the access log at info costs ${fmt.pct(edgeCosts.logCost * 100)} of issuance (${fmt.pct((edgeCosts.logCpuCost ?? NaN) * 100) ?? 'n/a'} more server CPU per request);`);
  p(`   the rate limiter (per client and per address) costs ${fmt.pct(edgeCosts.limiterCost * 100)} (${fmt.pct((edgeCosts.limiterCpuCost ?? NaN) * 100) ?? 'n/a'} more CPU per request). Negative: within the noise.`);
  p('');
  p(`3. Grantor well-known documents and the status list at c=${REF_CONNECTIONS}: through koa (\`${VIA_KOA}\`), then from prepared bytes (the lean route), back to back`);
  const docRow = (label, r) => [label, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), r.non2xx, fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore)];
  p(table(['GET', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'],
    documents.flatMap((d) => [docRow(`${d.label} via koa`, d.koa), docRow(`${d.label} prepared`, d.lean)]),
    { align: [false, ...Array(9).fill(true)] }));
  p(table(['GET', 'prepared / koa req/s', 'koa / prepared CPU ms per request'], documents.map((d) => [d.label, fmt.ratio(d.lean.rps / d.koa.rps), fmt.ratio(d.koa.cpu.serverMsPerRequest / d.lean.cpu.serverMsPerRequest)])));
  if (oidcToken.length) {
    p('');
    p(`4. node-oidc-provider v9 POST /token (same job: client_credentials, Basic, RS256 at+jwt for the resource, in-memory adapter) — token ${oidc.sample.tokenBytes} bytes`);
    p(table(tokenHeaders, oidcToken.map(tokenRow)));
    p('');
    p(table(['conns', 'Grantor req/s', 'oidc-provider req/s', 'Grantor / oidc-provider'], OIDC_CONNECTIONS.map((c) => {
      const g = at(grantorToken, c);
      const o = at(oidcToken, c);
      return [c, fmt.int(g?.rps), fmt.int(o?.rps), g && o ? fmt.ratio(g.rps / o.rps) : undefined];
    })));
  }
  p('');
  p('5. Grantor POST /oauth/token grant_type=refresh_token (public client; every request spends its refresh token and stores the successor)');
  p('   5 to 7 run on a Grantor with rate limits off (one public app, one resource server: far past 1200/min per client), access log at info.');
  p(`   seeding: ${seed.tokens.length} refresh tokens through the authorization code flow over HTTP (one sign-in and consent, then per token`);
  p(`   GET /oauth/authorize with PKCE → 302 with a code, POST /oauth/token) in ${seed.seconds.toFixed(1)} s = ${fmt.int(seed.tokens.length / seed.seconds)} tokens/s, 8 at a time.`);
  p('   Each connection walks its own rotation chain (the successor of each answer is the next request\'s token).');
  const refreshRow = (r) => [
    r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, fmt.int(r.script.ok),
    ceiling ? fmt.pct((r.rps / ceiling) * 100) : undefined,
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  p(table(['conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'rotated', 'of ceiling', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'], grantorRefresh.map(refreshRow)));
  p(`   afterwards: ${chainCheck.poolLeft} chains left in the pool; one introspected → active ${chainCheck.active}${chainCheck.token_type ? ` (${chainCheck.token_type})` : ''}`);
  p('');
  p(table(['conns', 'client_credentials req/s', 'p99 ms', 'refresh req/s', 'p99 ms', 'refresh / client_credentials'], REFRESH_CONNECTIONS.map((c) => {
    const g = at(grantorToken, c);
    const r = at(grantorRefresh, c);
    return [c, fmt.int(g?.rps), fmt.ms(g?.latencyMs.p99), fmt.int(r?.rps), fmt.ms(r?.latencyMs.p99), g && r ? fmt.ratio(r.rps / g.rps) : undefined];
  })));
  p('');
  p(`6. Grantor POST /oauth/introspect (client_secret_basic, a client with the \`introspect\` permission, a valid client_credentials access token of ${accessToken.length} bytes)`);
  const introspectRow = (label, r) => [
    label, r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, fmt.int(r.script.ok),
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  p(table(['path', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'active', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'], [
    introspectRow(`koa (${VIA_KOA})`, introspectionKoa),
    introspectRow('lean', introspection),
  ]));
  p(`   lean / koa: ${fmt.ratio(introspection.rps / introspectionKoa.rps)} req/s, ${fmt.ratio(introspectionKoa.cpu.serverMsPerRequest / introspection.cpu.serverMsPerRequest)} less CPU per request (both share the single verification and the shared grant reads)`);
  p('');
  p(`7. Resource-server module verify() vs bare jose jwtVerify, in-process, one ${verifyCost.tokenBytes}-byte token, warm; median of ${verifyCost.rounds} rounds × ${verifyCost.iterations} sequential verifies`);
  p('   ("vs bare": median over rounds of the ratio within a round — the variants ran back to back — robust to the shared machine\'s drift)');
  const us = (v) => (v === undefined ? undefined : v.toFixed(1));
  p(table(['verifier', 'µs/verify', 'rounds min–max', 'CPU µs/verify', 'vs bare'], [
    ['createVerifier().verify (module: remote JWKS, checks, status list bit)', us(verifyCost.module.wallUs), `${us(verifyCost.module.wallUsMin)}–${us(verifyCost.module.wallUsMax)}`, us(verifyCost.module.cpuUs), fmt.ratio(verifyCost.ratio)],
    ['jwtVerify + createLocalJWKSet, same checks (bare)', us(verifyCost.bare.wallUs), `${us(verifyCost.bare.wallUsMin)}–${us(verifyCost.bare.wallUsMax)}`, us(verifyCost.bare.cpuUs), fmt.ratio(1)],
    ['jwtVerify + createLocalJWKSet, signature only', us(verifyCost.bareNoChecks.wallUs), `${us(verifyCost.bareNoChecks.wallUsMin)}–${us(verifyCost.bareNoChecks.wallUsMax)}`, us(verifyCost.bareNoChecks.cpuUs), fmt.ratio(verifyCost.signatureOnlyRatio)],
  ], { align: [false, true, true, true, true] }));
  p('   (CPU µs: the bench process, all threads — WebCrypto verifies RSA on the libuv pool)');
  p('');
  p(`8. Revocation propagation: DELETE /admin/grants/:id answered → the module's verifier refuses the token (Grantor with STATUS_LIST_TTL=${revocation.ttl})`);
  p(`   ${revocation.grants} client_credentials grants (one client and token each, all verified OK first), revoked one after another with random`);
  p(`   ${revocation.gapMs[0]}–${revocation.gapMs[1]} ms gaps; each token verified every ${revocation.pollMs} ms from its revocation's answer (bound ${revocation.boundMs / 1000} s); one verifier,`);
  p(`   with steady traffic (a live token verified every ${revocation.pollMs} ms: ${fmt.int(revocation.traffic.verifies)} verifies, ${revocation.traffic.errors} refused).`);
  p(table(['grants', 'ttl s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'min ms', 'over bound', 'other refusals', 'target p99 ≤ ms'], [[
    revocation.grants, revocation.ttl, fmt.int(revocation.p50Ms), fmt.int(revocation.p90Ms), fmt.int(revocation.p99Ms), fmt.int(revocation.maxMs), fmt.int(revocation.minMs), revocation.timedOut, revocation.errors.length, fmt.int(ttlBoundMs),
  ]]));
  p(`   DELETE /admin/grants/:id itself: p50 ${fmt.ms(revocation.revokeRequestP50Ms)} ms, max ${fmt.ms(revocation.revokeRequestMaxMs)} ms (timing starts when its answer is read)`);
  if (revocation.errors.length) p(`   refused for another reason: ${revocation.errors[0]}`);
  p(`   idle verifier (list fetched, idle past its ttl, grant revoked, idle ${revocation.idleProbe.afterSeconds.toFixed(1)} s more): first verify ${revocation.idleProbe.firstVerify}, next ${revocation.idleProbe.secondVerify}`);
  p('');
  p(`9. Scale-out: POST /oauth/token client_credentials (the request of 2, one client) at c=${SCALEOUT_CONNECTIONS}, ${SECONDS} s each, on four fresh servers one after`);
  p('   another, rate limits off (the refresh run drives one public client), access log at info.');
  p('   another (each: start, one checked token, warm-up, run, stop). SQLite 1 process is measured again here, back to back with');
  p(`   the others, not taken from 2. PostgreSQL: ${scaleOut.postgres.url} (${scaleOut.postgres.from === 'default' ? 'default' : `from ${scaleOut.postgres.from}`}), a fresh schema per server, dropped after it.`);
  if (!scaleOut.postgres.reachable) p(`   skipped: no PostgreSQL (set BENCH_DATABASE_URL) — ${scaleOut.postgres.reason}`);
  const soRow = ({ key, label }) => {
    const r = scaleOut.runs[key];
    if (!r?.cpu) return [label, r?.skipped ? 'skipped' : 'FAILED', ...Array(12).fill(undefined)];
    return [
      label, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, r.errors + r.timeouts,
      fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverPrimaryPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest),
      fmt.pct(r.cpu.postgresPctOfOneCore), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
    ];
  };
  p(table(['setup', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'server CPU', 'primary', 'busiest loop', 'CPU ms/req', 'postgres CPU', 'loadgen CPU', 'others CPU'], SCALEOUT_ROWS.map(soRow), { align: [false, ...Array(13).fill(true)] }));
  p('   (% of ONE core. server CPU: every process of the server — for WORKERS=2 the cluster primary and both workers — all threads;');
  p('    primary: the cluster primary alone (it accepts the connections and hands them to the workers); busiest loop: the busiest');
  p('    serving event loop; postgres CPU: every `postgres` process on the machine; others CPU: everything else but the load generator)');
  for (const { key, label } of SCALEOUT_ROWS) {
    const r = scaleOut.runs[key];
    if (r?.error) p(`   ${label}: FAILED: ${r.error}`);
    if (r?.cpu?.serverWorkersPctOfOneCore) p(`   ${label}: workers ${r.cpu.serverWorkersPctOfOneCore.map((v) => fmt.pct(v)).join(' + ')}, primary ${fmt.pct(r.cpu.serverPrimaryPctOfOneCore)}`);
    if (r?.cpu && (r.non2xx || r.errors || r.timeouts)) p(`   ${label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts of ${fmt.int(r.requests)} (status codes ${JSON.stringify(r.statusCodeStats)})`);
    if (r?.cpu?.serverProcessesGone) p(`   ${label}: ${r.cpu.serverProcessesGone} server process(es) exited during the run (their CPU is missing)`);
    if (r?.warmup && (r.warmup.non2xx || r.warmup.errors)) p(`   ${label}: warm-up had ${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors`);
    if (r?.schemaDropError) p(`   ${label}: dropping its schema failed: ${r.schemaDropError}`);
  }
  if (g50Phase2) p(`   for reference, 2's SQLite c=${SCALEOUT_CONNECTIONS} earlier in this run: ${fmt.int(g50Phase2.rps)} req/s, p99 ${fmt.ms(g50Phase2.latencyMs.p99)} ms, others CPU ${fmt.pct(g50Phase2.cpu.othersPctOfOneCore)}`);
  p('');
  p(`   refresh grant at c=${SCALEOUT_CONNECTIONS} (the script of 5; chains seeded through the code flow on each server)`);
  const refreshSoRow = (label, r) => [
    label, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, fmt.int(r.script?.ok), r.script?.bad,
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.postgresPctOfOneCore), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  const refreshSoRows = [];
  if (soRefresh) refreshSoRows.push(refreshSoRow('PostgreSQL, 1 process (this phase)', soRefresh));
  if (r50Phase4) refreshSoRows.push(refreshSoRow('SQLite, 1 process (5, earlier in this run)', r50Phase4));
  p(table(['setup', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'rotated', 'failed', 'server CPU', 'event loop', 'CPU ms/req', 'postgres CPU', 'loadgen CPU', 'others CPU'], refreshSoRows, { align: [false, ...Array(13).fill(true)] }));
  if (!soRefresh) p(`   PostgreSQL refresh: ${scaleOut.refresh?.skipped ? `skipped (${scaleOut.refresh.skipped})` : `FAILED: ${scaleOut.refresh?.error ?? 'not run'}`}`);
  else p(`   PostgreSQL: ${soRefresh.seeded} refresh tokens seeded in ${soRefresh.seedSeconds.toFixed(1)} s; afterwards ${soRefresh.chainCheck.poolLeft} chains left, one introspected → active ${soRefresh.chainCheck.active}`);
  p('');
  p('   ratios (req/s)');
  p(`     PostgreSQL / SQLite:   1 process ${fmt.ratio(so.postgresOverSqlite1Process) ?? 'n/a'}, WORKERS=2 ${fmt.ratio(so.postgresOverSqliteWorkers2) ?? 'n/a'}; refresh, 1 process ${fmt.ratio(refreshPgOverSqlite) ?? 'n/a'} (SQLite figure from 5)`);
  p(`     WORKERS=2 / 1 process: SQLite ${fmt.ratio(so.workers2Over1Sqlite) ?? 'n/a'}, PostgreSQL ${fmt.ratio(so.workers2Over1Postgres) ?? 'n/a'}`);
  for (const { key, label } of SCALEOUT_ROWS) if (scaleOut.runs[key]?.cpu) p(`     what limits ${label}: ${bottleneck(scaleOut.runs[key])}`);
  if (soRefresh) p(`     what limits the PostgreSQL refresh grant: ${bottleneck(soRefresh)}`);
  p('');
  p('Ratios');
  p(`  issuance / signing ceiling: best ${fmt.pct((ratios.issuanceOverCeilingBest ?? NaN) * 100) ?? 'n/a'} (c=${best.connections}), at c=${REF_CONNECTIONS} ${fmt.pct((ratios.issuanceOverCeilingAt50 ?? NaN) * 100) ?? 'n/a'}`);
  p(`  issuance / raw node:crypto all-core ceiling: best ${fmt.pct((ratios.issuanceOverRawCeilingBest ?? NaN) * 100) ?? 'n/a'} (Grantor signs with node:crypto; HTTP and the load generator share the same cores)`);
  if (bare) p(`  Grantor / bare signer at c=${REF_CONNECTIONS}: ${fmt.pct(ratios.grantorOverBareSignerAt50 * 100)} (a server that only signs reaches ${fmt.pct(ratios.bareSignerOverRawCeiling * 100)} of the raw ceiling here)`);
  if (signShare) p(`  signing is ~${fmt.pct(signShare * 100)} of Grantor's CPU per token at c=${REF_CONNECTIONS} (${fmt.ms(signMs)} of ${fmt.ms(g50.cpu.serverMsPerRequest)} ms); the rest is node:http, form parsing, client authentication, JSON (the lean token path bypasses koa)`);
  p(`  Grantor / node-oidc-provider at c=${REF_CONNECTIONS}: ${fmt.ratio(ratios.grantorOverOidcProviderAt50) ?? 'n/a'}; best vs best: ${fmt.ratio(ratios.grantorOverOidcProviderBest) ?? 'n/a'}`);
  if (g50) p(`  what limits Grantor at c=${REF_CONNECTIONS}: ${bottleneck(g50)}`);
  p(`  refresh / client_credentials at c=${REF_CONNECTIONS}: ${fmt.ratio(ratios.refreshOverClientCredentialsAt50) ?? 'n/a'}${r50 ? ` (${fmt.ms(r50.cpu.serverMsPerRequest)} vs ${fmt.ms(g50?.cpu.serverMsPerRequest)} ms of server CPU per request)` : ''}`);
  if (r50) p(`  what limits the refresh grant at c=${REF_CONNECTIONS}: ${bottleneck(r50)}`);
  p(`  scale-out at c=${SCALEOUT_CONNECTIONS}: PostgreSQL / SQLite ${fmt.ratio(so.postgresOverSqlite1Process) ?? 'n/a'} (1 process), ${fmt.ratio(so.postgresOverSqliteWorkers2) ?? 'n/a'} (WORKERS=2); WORKERS=2 / 1: SQLite ${fmt.ratio(so.workers2Over1Sqlite) ?? 'n/a'}, PostgreSQL ${fmt.ratio(so.workers2Over1Postgres) ?? 'n/a'}`);
  p(`  what limits introspection at c=${introspection.connections}: ${bottleneck(introspection)}`);
  p('');
  p('Targets (informative, not asserted)');
  for (const t of targets) p(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.name.padEnd(50)} ${t.detail}`);
  if (noisy.length) {
    p('');
    p(`NOISY NEIGHBOUR: other processes used more than ${NOISY_PCT}% of a core during ${noisy.length} measurement(s); their figures (and any`);
    p('target built on them) read low and vary from run to run:');
    for (const n of noisy) p(`  ${n.label.padEnd(50)} others ${fmt.pct(n.others)}`);
  }
  p('');
  process.stdout.write(out.join('\n') + '\n');

  const json = {
    env: { ...env, seconds: SECONDS, signSeconds: SIGN_SECONDS, warmupSeconds: WARMUP_SECONDS, loadGenerator: 'autocannon in a child process on the same machine', cpuProfile: Boolean(CPU_PROF_DIR) },
    signing: signing && {
      primitiveForCeiling: 'jose SignJWT + importPKCS8 CryptoKey (WebCrypto on the libuv pool), all cores: the faster of one worker_thread per core (two in flight each) and one event loop (2 x cores in flight); mean of before and after the issuance runs',
      cores: signing.cores,
      ceilingSigPerSec: round(ceiling),
      singleCoreSigPerSec: round(signing.joseSingle.signaturesPerSecond),
      nodeCryptoSingleSigPerSec: round(signing.nodeSingle.signaturesPerSecond),
      nodeCryptoAllSigPerSec: round(signing.nodeAll.signaturesPerSecond),
      nodeCryptoAllAfterSigPerSec: round(signingAfter.nodeAll.signaturesPerSecond),
      joseAllAfterSigPerSec: round(signingAfter.joseAll.signaturesPerSecond),
      joseOneThreadPoolAfterSigPerSec: round(signingAfter.joseOneLoopPool.signaturesPerSecond),
      rawCeilingSigPerSec: round(rawCeiling),
      joseSingleSigPerSec: round(signing.joseSingle.signaturesPerSecond),
      joseAllSigPerSec: round(signing.joseAll.signaturesPerSecond),
      joseOneThreadPoolSigPerSec: round(signing.joseOneLoopPool.signaturesPerSecond),
      joseOneThreadPoolInFlight: signing.joseOneLoopPool.inflight,
      signCpuMs: round(signMs, 3),
      othersCpuPctOfOneCoreDuringCeiling: round(signing.joseAll.othersPctOfOneCore),
    },
    grantor: {
      token: grantorToken.map(jsonRun),
      jwks: jsonRun(jwks),
      metadata: jsonRun(metadata),
      documents: documents.map((d) => ({ label: d.label, koa: jsonRun(d.koa), prepared: jsonRun(d.lean) })),
      bestConnections: best.connections,
      bestRps: round(best.rps),
    },
    refresh: {
      seeded: seed.tokens.length,
      seedSeconds: round(seed.seconds, 2),
      seedTokensPerSecond: round(seed.tokens.length / seed.seconds),
      runs: grantorRefresh.map((r) => ({ ...jsonRun(r), rotated: r.script.ok, failedRotations: r.script.bad, starved: r.script.starved, firstFailure: r.script.firstBad, poolBefore: r.script.poolBefore, poolAfter: r.script.poolAfter })),
      chainCheck: { poolLeft: chainCheck.poolLeft, active: chainCheck.active === true },
    },
    edgeCosts: {
      rounds: edgeCosts.rounds,
      connections: edgeCosts.connections,
      rows: edgeCosts.rows.map((row) => ({ key: row.key, label: row.label, meanRps: round(row.meanRps), meanCpuMsPerRequest: round(row.meanCpuMsPerRequest, 3), runs: row.runs.map(jsonRun) })),
      logCost: round(edgeCosts.logCost, 3),
      limiterCost: round(edgeCosts.limiterCost, 3),
      logCpuCost: round(edgeCosts.logCpuCost, 3),
      limiterCpuCost: round(edgeCosts.limiterCpuCost, 3),
    },
    introspectionKoa: jsonRun(introspectionKoa),
    introspection: { ...jsonRun(introspection), active: introspection.script.ok, notActive: introspection.script.bad, firstFailure: introspection.script.firstBad },
    resourceServerVerify: {
      rounds: verifyCost.rounds,
      iterations: verifyCost.iterations,
      moduleUs: round(verifyCost.module.wallUs, 2),
      bareJwtVerifyUs: round(verifyCost.bare.wallUs, 2),
      bareSignatureOnlyUs: round(verifyCost.bareNoChecks.wallUs, 2),
      moduleCpuUs: round(verifyCost.module.cpuUs, 2),
      bareCpuUs: round(verifyCost.bare.cpuUs, 2),
      ratio: round(verifyCost.ratio, 3),
      cpuRatio: round(verifyCost.cpuRatio, 3),
      ratioOfMedians: round(verifyCost.ratioOfMedians, 3),
    },
    clientAuthTiming: {
      tries: authTiming.tries,
      mediansMs: Object.fromEntries(Object.entries(authTiming.medians).map(([k, v]) => [k, round(v, 4)])),
      ratios: { basic: round(authTiming.ratios.basic, 3), post: round(authTiming.ratios.post, 3) },
      freshUnknownRatio: round(authTiming.freshUnknownRatio, 3),
      sameAnswers: authTiming.sameAnswers,
      unexpected: authTiming.unexpected ?? null,
    },
    revocationPropagation: {
      ttlSeconds: revocation.ttl,
      grants: revocation.grants,
      gapMs: revocation.gapMs,
      pollMs: revocation.pollMs,
      boundMs: revocation.boundMs,
      p50Ms: round(revocation.p50Ms),
      p90Ms: round(revocation.p90Ms),
      p99Ms: round(revocation.p99Ms),
      maxMs: round(revocation.maxMs),
      minMs: round(revocation.minMs),
      timedOut: revocation.timedOut,
      otherRefusals: revocation.errors,
      revokeRequestP50Ms: round(revocation.revokeRequestP50Ms, 2),
      trafficVerifies: revocation.traffic.verifies,
      trafficRefusals: revocation.traffic.errors,
      idleProbe: revocation.idleProbe,
    },
    oidcProvider: oidcToken.length ? { token: oidcToken.map(jsonRun) } : null,
    bareSigner: bare ? jsonRun(bare) : null,
    scaleOut: {
      connections: scaleOut.connections,
      seconds: scaleOut.seconds,
      sqlite1ProcessRemeasured: true,
      phase2SqliteRpsSameConnections: g50Phase2 ? round(g50Phase2.rps) : null,
      keyEncryptionSecretSet: true,
      postgres: scaleOut.postgres,
      runs: Object.fromEntries(Object.values(scaleOut.runs).map((r) => [r.setup.key, jsonScaleOut(r)])),
      refreshPostgres1Process: soRefresh
        ? { ...jsonScaleOut(soRefresh), rotated: soRefresh.script.ok, failedRotations: soRefresh.script.bad, starved: soRefresh.script.starved, firstFailure: soRefresh.script.firstBad, seeded: soRefresh.seeded, chainCheck: soRefresh.chainCheck }
        : { skipped: scaleOut.refresh?.skipped ?? null, error: scaleOut.refresh?.error ?? null },
      refreshSqlite1ProcessFromPhase4Rps: r50Phase4 ? round(r50Phase4.rps) : null,
      ratios: {
        postgresOverSqlite1Process: round(so.postgresOverSqlite1Process, 3),
        postgresOverSqliteWorkers2: round(so.postgresOverSqliteWorkers2, 3),
        workers2Over1Sqlite: round(so.workers2Over1Sqlite, 3),
        workers2Over1Postgres: round(so.workers2Over1Postgres, 3),
        refreshPostgresOverSqlite1Process: round(refreshPgOverSqlite, 3),
      },
    },
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v, 3)])),
    signingShareOfServerCpuAt50: round(signShare, 3),
    targets: targets.map((t) => ({ name: t.name, measured: typeof t.measured === 'number' ? round(t.measured, 3) : t.measured, pass: t.pass })),
    noisyMeasurements: noisy.map((n) => ({ label: n.label, othersCpuPctOfOneCore: round(n.others) })),
    elapsedSeconds: round((Date.now() - startedAt) / 1000),
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
}

/** A one-line reading of a run's CPU figures: event loop bound, CPU bound, or waiting. */
function bottleneck(r) {
  const loop = r.cpu.serverLoopPctOfOneCore;
  const busy = r.cpu.machineBusyPct;
  if (loop === undefined || busy === undefined) return 'unknown (no /proc)';
  if (loop >= 90) return `the event loop (main thread ${fmt.pct(loop)} busy)`;
  if (busy >= 90) return `the machine's CPU (${fmt.pct(busy)} of all cores busy: server, load generator and others)`;
  return `neither the event loop (${fmt.pct(loop)}) nor the CPU (machine ${fmt.pct(busy)} busy) is saturated: requests wait on something serial (a pool, a lock, one connection)`;
}

/** A scale-out row: jsonRun's figures plus the whole server's CPU split, or why there is none. */
function jsonScaleOut(r) {
  const base = { database: r.setup?.db, workers: r.setup?.workers };
  if (!r.cpu) return { ...base, skipped: r.skipped ?? null, error: r.error ?? null };
  return {
    ...base,
    ...jsonRun(r),
    timeouts: r.timeouts,
    statusCodeStats: r.statusCodeStats,
    serverProcesses: r.cpu.serverProcesses,
    serverProcessesGone: r.cpu.serverProcessesGone,
    serverPrimaryCpuPctOfOneCore: round(r.cpu.serverPrimaryPctOfOneCore),
    serverWorkersCpuPctOfOneCore: r.cpu.serverWorkersPctOfOneCore?.map((v) => round(v)) ?? null,
    postgresCpuPctOfOneCore: round(r.cpu.postgresPctOfOneCore),
    startSeconds: r.startSeconds === undefined ? undefined : round(r.startSeconds, 2),
    warmup: r.warmup,
    schemaDropError: r.schemaDropError,
  };
}

function jsonRun(r) {
  return {
    connections: r.connections,
    rps: round(r.rps),
    requests: r.requests,
    seconds: r.seconds,
    p50Ms: r.latencyMs.p50,
    p90Ms: r.latencyMs.p90,
    p99Ms: r.latencyMs.p99,
    maxMs: r.latencyMs.max,
    non2xx: r.non2xx,
    errors: r.errors,
    serverCpuPctOfOneCore: round(r.cpu.serverPctOfOneCore),
    serverEventLoopCpuPctOfOneCore: round(r.cpu.serverLoopPctOfOneCore),
    serverCpuMsPerRequest: round(r.cpu.serverMsPerRequest, 3),
    loadgenCpuPctOfOneCore: round(r.cpu.loadgenPctOfOneCore),
    machineBusyPct: round(r.cpu.machineBusyPct),
    othersCpuPctOfOneCore: round(r.cpu.othersPctOfOneCore),
  };
}

// ---- lifecycle ------------------------------------------------------------------------------

let exiting = false;
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await cleanupAll();
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
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
