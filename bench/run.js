/**
 * `npm run bench`: Grantor's client_credentials issuance against the machine's RS256 signing
 * ceiling and against node-oidc-provider doing the same job, in one run.
 *
 *   1. signing ceiling: worker_threads signing Grantor-shaped RS256 JWTs (node:crypto and jose)
 *   2. Grantor POST /oauth/token at several concurrencies (child process, temp SQLite + keys)
 *   3. Grantor GET /.well-known/jwks.json and /.well-known/oauth-authorization-server
 *   4. node-oidc-provider v9 POST /token, same job, own child process
 *   5. targets from the issue as PASS/FAIL lines (informative: exit code 0 unless broken)
 *
 * Prints a table and a final line `BENCH_JSON {...}` with every figure.
 *
 * env: BENCH_SECONDS (per load run, default 5), BENCH_SIGN_SECONDS (per signing run, default 3),
 *      BENCH_WARMUP_SECONDS (default 2), BENCH_CONNECTIONS (default 1,10,50,100),
 *      BENCH_OIDC_CONNECTIONS (default: same as BENCH_CONNECTIONS),
 *      BENCH_ONLY=grantor (skip the signing ceiling and oidc-provider, e.g. when profiling),
 *      BENCH_CPU_PROF=<dir> (run Grantor under `node --cpu-prof`, profile written to <dir> at stop;
 *      the figures of such a run are skewed by the profiler).
 */
import os from 'node:os';
import path from 'node:path';
import { startGrantor } from './grantor-server.js';
import { startLoadGenerator } from './load.js';
import { startOidcProvider } from './oidc-provider-peer.js';
import { cleanupAll, cpuMeter, sleep } from './procs.js';
import { fmt, round, table } from './report.js';
import { measureSigningCeiling } from './signing-ceiling.js';

const num = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const list = (name, def) => (process.env[name] ? process.env[name].split(/[\s,]+/).filter(Boolean).map(Number) : def);

const SECONDS = num('BENCH_SECONDS', 5);
const SIGN_SECONDS = num('BENCH_SIGN_SECONDS', 3);
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = list('BENCH_CONNECTIONS', [1, 10, 50, 100]);
const OIDC_CONNECTIONS = list('BENCH_OIDC_CONNECTIONS', CONNECTIONS);
const ONLY_GRANTOR = process.env.BENCH_ONLY === 'grantor';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
const REF_CONNECTIONS = 50; // the p99 and comparison point

const log = (msg) => process.stderr.write(`${msg}\n`);

class BenchBroken extends Error {}

// ---- helpers --------------------------------------------------------------------------------

function tokenRequest(target, tokenPath) {
  const basic = Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64');
  return {
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

async function verifyGet(target, url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new BenchBroken(`${target.name}: GET ${url} answered ${res.status}`);
}

/** One autocannon run with CPU accounting; throws if any answer was not 2xx. */
async function load(loader, target, label, req, connections, seconds) {
  log(`  ${target.name}: ${label} c=${connections} for ${seconds} s`);
  const meter = cpuMeter({ server: target.pid, loadgen: loader.pid }, { mainThreadOf: ['server'] });
  const r = await loader.run({ ...req, connections, duration: seconds });
  const cpu = meter.end();
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0 || r.total === 0) {
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
    log('1/4 RS256 signing ceiling');
    signing = await measureSigningCeiling({ seconds: SIGN_SECONDS, log });
  }
  const ceiling = signing?.joseAll.signaturesPerSecond;

  const loader = await startLoadGenerator();

  // 2 + 3. Grantor
  log('2/4 Grantor');
  const grantor = await startGrantor({ cpuProfDir: CPU_PROF_DIR });
  const gReq = tokenRequest(grantor, '/oauth/token');
  const gSample = await verifyIssuance(grantor, gReq);
  await verifyGet(grantor, `${grantor.url}/.well-known/jwks.json`);
  await verifyGet(grantor, `${grantor.url}/.well-known/oauth-authorization-server`);
  await warmUp(loader, grantor, gReq);
  const grantorToken = [];
  for (const c of CONNECTIONS) grantorToken.push(await load(loader, grantor, 'POST /oauth/token', gReq, c, SECONDS));
  log('3/4 Grantor well-known documents');
  const jwks = await load(loader, grantor, 'GET /.well-known/jwks.json', { url: `${grantor.url}/.well-known/jwks.json`, method: 'GET' }, REF_CONNECTIONS, SECONDS);
  const metadata = await load(loader, grantor, 'GET /.well-known/oauth-authorization-server', { url: `${grantor.url}/.well-known/oauth-authorization-server`, method: 'GET' }, REF_CONNECTIONS, SECONDS);
  await grantor.stop();

  // 4. node-oidc-provider
  let oidc = null;
  let oidcToken = [];
  if (!ONLY_GRANTOR) {
    log('4/4 node-oidc-provider');
    oidc = await startOidcProvider({ resource: grantor.resource, scope: grantor.scope });
    const oReq = tokenRequest(oidc, oidc.tokenPath);
    oidc.sample = await verifyIssuance(oidc, oReq);
    await warmUp(loader, oidc, oReq);
    for (const c of OIDC_CONNECTIONS) oidcToken.push(await load(loader, oidc, 'POST /token', oReq, c, SECONDS));
    await oidc.stop();
  }

  // ---- figures ------------------------------------------------------------------------------
  const at = (runs, c) => runs.find((r) => r.connections === c);
  const best = grantorToken.reduce((a, b) => (b.rps > a.rps ? b : a));
  const g50 = at(grantorToken, REF_CONNECTIONS);
  const o50 = at(oidcToken, REF_CONNECTIONS);
  const oBest = oidcToken.length ? oidcToken.reduce((a, b) => (b.rps > a.rps ? b : a)) : undefined;
  const ratios = {
    issuanceOverCeilingBest: ceiling ? best.rps / ceiling : null,
    issuanceOverCeilingAt50: ceiling && g50 ? g50.rps / ceiling : null,
    grantorOverOidcProviderAt50: g50 && o50 ? g50.rps / o50.rps : null,
    grantorOverOidcProviderBest: oBest ? best.rps / oBest.rps : null,
  };
  // CPU cost of one RS256 signature on one core, and how much of Grantor's per-request CPU it is.
  const signMs = signing ? 1000 / signing.nodeSingle.signaturesPerSecond : null;
  const signShare = signMs && g50?.cpu.serverMsPerRequest ? signMs / g50.cpu.serverMsPerRequest : null;

  const targets = [
    {
      name: 'issuance >= 80% of the all-core signing ceiling',
      measured: ratios.issuanceOverCeilingBest,
      detail: ceiling ? `${fmt.int(best.rps)} req/s at c=${best.connections} / ${fmt.int(ceiling)} sig/s = ${fmt.pct(ratios.issuanceOverCeilingBest * 100)} (at c=${REF_CONNECTIONS}: ${fmt.pct((ratios.issuanceOverCeilingAt50 ?? NaN) * 100) ?? 'n/a'})` : 'not measured',
      pass: ceiling ? ratios.issuanceOverCeilingBest >= 0.8 : null,
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
  ];

  // ---- printout -----------------------------------------------------------------------------
  const out = [];
  const p = (s = '') => out.push(s);
  p('');
  p(`Grantor bench — node ${env.node}, ${env.platform}, ${cores} cores (${env.cpu}), load avg at start ${env.loadavg.join(' ')}`);
  p(`NOTE: the load generator (autocannon, ${SECONDS} s per run) runs in its own process ON THE SAME ${cores}-CORE MACHINE and competes`);
  p('      with the server for CPU (see "loadgen CPU"); the signing ceiling was measured with the machine otherwise idle.');
  p('      The machine is shared: "others CPU" is what every other process used meanwhile (% of one core).');
  if (CPU_PROF_DIR) p(`NOTE: Grantor ran under --cpu-prof (profile in ${CPU_PROF_DIR}): its figures are skewed by the profiler.`);
  if (signing) {
    p('');
    p(`1. RS256 signing ceiling (RSA-2048, Grantor-shaped at+jwt, ${SIGN_SECONDS} s per row, worker_threads; libuv pool ${signing.uvThreadpoolSize} threads)`);
    const row = (label, r, note = '') => [label, r.threads, r.inflight ?? 1, fmt.int(r.signaturesPerSecond), fmt.pct(r.cpuPctOfOneCore), fmt.pct(r.othersPctOfOneCore), note];
    p(table(['primitive', 'threads', 'in flight', 'sig/s', 'bench CPU', 'others CPU', ''], [
      row('node:crypto sign() KeyObject (sync)', signing.nodeSingle, 'single core'),
      row('node:crypto sign() KeyObject (sync)', signing.nodeAll, 'all cores'),
      row('jose SignJWT, PKCS8 CryptoKey', signing.joseSingle, 'single core'),
      row('jose SignJWT, PKCS8 CryptoKey', signing.joseAll, 'all cores = THE CEILING'),
      row('jose SignJWT, one JS thread', signing.joseOneLoopPool, "Grantor's shape: 1 event loop + libuv pool"),
    ], { align: [false, true, true, true, true, true, false] }));
    p(`   one signature costs ~${fmt.ms(signMs)} ms of CPU (1 / node single-core rate); "others CPU" = other processes on the machine`);
    p(`   meanwhile (% of one core): well above 0 means a neighbour took cores and the ceiling reads low.`);
  }
  p('');
  p(`2. Grantor POST /oauth/token (client_credentials, client_secret_basic, resource + scope; SQLite) — token ${gSample.tokenBytes} bytes`);
  const tokenRow = (r) => [
    r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx,
    ceiling ? fmt.pct((r.rps / ceiling) * 100) : undefined,
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  const tokenHeaders = ['conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'of ceiling', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'];
  p(table(tokenHeaders, grantorToken.map(tokenRow)));
  p('   (CPU columns are % of ONE core. server CPU: all threads of the server process; event loop: its main thread alone, so');
  p('    ~100% means the event loop is the bottleneck; CPU ms/req: server CPU per request; others CPU: every other process on the machine)');
  p('');
  p(`3. Grantor well-known documents at c=${REF_CONNECTIONS}`);
  const docRow = (label, r) => [label, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), r.non2xx, fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.pct(r.cpu.loadgenPctOfOneCore)];
  p(table(['GET', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU', 'event loop', 'loadgen CPU'], [
    docRow('/.well-known/jwks.json', jwks),
    docRow('/.well-known/oauth-authorization-server', metadata),
  ], { align: [false, true, true, true, true, true, true, true] }));
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
  p('Ratios');
  p(`  issuance / signing ceiling: best ${fmt.pct((ratios.issuanceOverCeilingBest ?? NaN) * 100) ?? 'n/a'} (c=${best.connections}), at c=${REF_CONNECTIONS} ${fmt.pct((ratios.issuanceOverCeilingAt50 ?? NaN) * 100) ?? 'n/a'}`);
  if (signShare) p(`  signing is ~${fmt.pct(signShare * 100)} of Grantor's CPU per token at c=${REF_CONNECTIONS} (${fmt.ms(signMs)} of ${fmt.ms(g50.cpu.serverMsPerRequest)} ms); the rest is HTTP, koa, knex/SQLite, JSON…`);
  p(`  Grantor / node-oidc-provider at c=${REF_CONNECTIONS}: ${fmt.ratio(ratios.grantorOverOidcProviderAt50) ?? 'n/a'}; best vs best: ${fmt.ratio(ratios.grantorOverOidcProviderBest) ?? 'n/a'}`);
  if (g50) p(`  what limits Grantor at c=${REF_CONNECTIONS}: ${bottleneck(g50)}`);
  p('');
  p('Targets (informative, not asserted)');
  for (const t of targets) p(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.name.padEnd(50)} ${t.detail}`);
  p('');
  process.stdout.write(out.join('\n') + '\n');

  const json = {
    env: { ...env, seconds: SECONDS, signSeconds: SIGN_SECONDS, warmupSeconds: WARMUP_SECONDS, loadGenerator: 'autocannon in a child process on the same machine', cpuProfile: Boolean(CPU_PROF_DIR) },
    signing: signing && {
      primitiveForCeiling: 'jose SignJWT + importPKCS8 CryptoKey (WebCrypto, libuv pool), one worker_thread per core, two signatures in flight each',
      cores: signing.cores,
      ceilingSigPerSec: round(ceiling),
      singleCoreSigPerSec: round(signing.joseSingle.signaturesPerSecond),
      nodeCryptoSingleSigPerSec: round(signing.nodeSingle.signaturesPerSecond),
      nodeCryptoAllSigPerSec: round(signing.nodeAll.signaturesPerSecond),
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
      bestConnections: best.connections,
      bestRps: round(best.rps),
    },
    oidcProvider: oidcToken.length ? { token: oidcToken.map(jsonRun) } : null,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v, 3)])),
    signingShareOfServerCpuAt50: round(signShare, 3),
    targets: targets.map((t) => ({ name: t.name, measured: typeof t.measured === 'number' ? round(t.measured, 3) : t.measured, pass: t.pass })),
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
