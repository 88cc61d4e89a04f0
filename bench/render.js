// @ts-check
/**
 * The one renderer of the bench: turns the results of every phase (bench/run.js) into the printed
 * tables and the `BENCH_JSON {...}` line, so a figure is printed and exported from one place.
 */
import { AS_FILED_COMMIT } from './as-filed.js';
import { renderDpop } from './dpop.js';
import { at, deriveFigures, spreadOf } from './figures.js';
import { LOAD_CLIENTS } from './grantor-server.js';
import { VIA_KOA } from './load-runs.js';
import { fmt, round, table } from './report.js';
import { benchTargets, NOISY_PCT, noisyMeasurements } from './targets.js';

/** @typedef {import('./types.js').MeasuredRun} MeasuredRun */
/** @typedef {import('./scale-out.js').ScaleOutSetup['key']} ScaleOutKey */

/** a / b, or undefined when either is unknown. @param {number | undefined} a @param {number | undefined} b */
const per = (a, b) => (a !== undefined && b !== undefined ? a / b : undefined);

/**
 * The printout and the BENCH_JSON object of one run.
 * @param {import('./types.js').BenchResults} results every phase's result (bench/run.js)
 * @returns {{ text: string, json: Record<string, unknown> }}
 */
export function render(results) {
  const { config, env, startedAt, signing, signingAfter, issuance, documents, edgeCosts, delegated, revocation, streamCost, dpop, registration, metadataDocuments, oidcProvider, scaleOut } = results;
  const f = deriveFigures(results);
  const { ceiling, rawCeiling, best, g50, r50, ratios, signMs, signShare, soRefresh, r50Phase4, refreshPgOverSqlite, g50Phase2, ttlBoundMs } = f;
  const targets = benchTargets(results, f);
  const noisy = noisyMeasurements(results, f);
  const { cpuProfDir: CPU_PROF_DIR, oidcConnections: OIDC_CONNECTIONS, refreshConnections: REFRESH_CONNECTIONS, refConnections: REF_CONNECTIONS,
    scaleOutConnections: SCALEOUT_CONNECTIONS, seconds: SECONDS, signSeconds: SIGN_SECONDS, warmupSeconds: WARMUP_SECONDS } = config;
  const SCALEOUT_ROWS = f.scaleOutRows;
  const { cores } = env;
  const { sample: gSample, runs: grantorToken, bare } = issuance;
  const [{ lean: jwks }, { lean: metadata }] = documents.rows;
  const { refresh: { seed, runs: grantorRefresh, chainCheck }, otherGrants, introspection: { accessToken, lean: introspection, koa: introspectionKoa, asFiled: introspectionAsFiled, asFiledSkipped: introspectionAsFiledSkipped }, verifyCost, authTiming } = delegated;
  const oidc = oidcProvider;
  const oidcToken = oidcProvider?.token ?? [];
  const oidcRefresh = oidcProvider?.refresh ?? [];
  const oidcSeed = oidcProvider?.seed;
  const so = scaleOut.ratios;
  const { idleProbe } = revocation;
  // A scale-out setup's run, when it was measured; why not, when it was not.
  const soRun = (/** @type {ScaleOutKey} */ key) => { const r = scaleOut.runs[key]; return r && 'cpu' in r ? r : undefined; };
  const soSkipped = (/** @type {ScaleOutKey} */ key) => { const r = scaleOut.runs[key]; return r && 'skipped' in r ? r.skipped : undefined; };
  const soError = (/** @type {ScaleOutKey} */ key) => { const r = scaleOut.runs[key]; return r && 'error' in r ? r.error : undefined; };
  const soDropError = (/** @type {ScaleOutKey} */ key) => { const r = scaleOut.runs[key]; return r && !('skipped' in r) ? r.schemaDropError : undefined; };
  const soRefreshOutcome = /** @type {{ skipped?: string, error?: string }} */ (scaleOut.refresh ?? {});
  // ---- printout -----------------------------------------------------------------------------
  /** @type {string[]} */
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
    const row = (/** @type {string} */ label, /** @type {import('./signing-ceiling.js').SignerRun} */ r, note = '') => [label, r.threads, r.inflight ?? 1, fmt.int(r.signaturesPerSecond), fmt.pct(r.cpuPctOfOneCore), fmt.pct(r.othersPctOfOneCore), note];
    p(table(['primitive', 'threads', 'in flight', 'sig/s', 'bench CPU', 'others CPU', ''], [
      row('node:crypto sign() KeyObject (sync)', signing.nodeSingle, 'single core'),
      row('node:crypto sign() KeyObject (sync)', signing.nodeAll, 'all cores'),
      row('jose SignJWT, PKCS8 CryptoKey', signing.joseSingle, 'single core'),
      row('jose SignJWT, PKCS8 CryptoKey', signing.joseAll, 'all cores'),
      row('jose SignJWT, one JS thread', signing.joseOneLoopPool, "Grantor's shape: 1 event loop + libuv pool"),
      ...(signingAfter ? [
        row('node:crypto sign() KeyObject (sync)', signingAfter.nodeAll, 'all cores, again after 2'),
        row('jose SignJWT, PKCS8 CryptoKey', signingAfter.joseAll, 'all cores, again after 2'),
        row('jose SignJWT, one JS thread', signingAfter.joseOneLoopPool, 'again after 2'),
      ] : []),
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
  const tokenRow = (/** @type {MeasuredRun} */ r) => [
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
  const tailLine = (/** @type {string} */ label, /** @type {MeasuredRun | undefined} */ r) =>
    r?.tail && p(`   ${label}: p99/p50 ${fmt.ratio(r.tail.spread)}; of the ${r.tail.over} answers at or over the p99, ${fmt.pct(r.tail.atStart * 100)} sent in the first 300 ms, ` +
      `${fmt.pct(r.tail.inBursts * 100)} in ${r.tail.bursts.length} burst(s); without the first 300 ms p99/p50 ${fmt.ratio(r.tail.steadySpread)}, ` +
      `within each 250 ms ${fmt.ratio(r.tail.windowSpread)}`);
  p(`   Where the p99 at c=${REF_CONNECTIONS} comes from (bench/tail.js; a burst: a 100 ms window whose requests are late together, >= ${REF_CONNECTIONS / 2} of them over the p99):`);
  tailLine('Grantor', at(grantorToken, REF_CONNECTIONS));
  tailLine('bare signer', bare ?? undefined);
  p('   (CPU columns are % of ONE core. server CPU: all threads of the server process; event loop: its main thread alone, so');
  p('    ~100% means the event loop is the bottleneck; CPU ms/req: server CPU per request; others CPU: every other process on the machine)');
  p('');
  p(`2b. What the access log and the rate limiter cost: POST /oauth/token as in 2 at c=${REF_CONNECTIONS} on three servers started once,`);
  p(`    ${edgeCosts.rounds} round(s) of the three back to back (their six orders in turn); the load spread over ${LOAD_CLIENTS} clients and`);
  p('    X-Forwarded-For addresses in every row. A cost is the median over rounds of that round\'s ratio');
  p(table(['setup', 'req/s (mean)', 'each round', 'p99 ms (each)', 'CPU ms/req (mean)', 'non-2xx', 'others CPU (each)'], edgeCosts.rows.map((row) => [
    row.label, fmt.int(row.meanRps), row.runs.map((r) => fmt.int(r.rps)).join(' / '), row.runs.map((r) => fmt.ms(r.latencyMs.p99)).join(' / '),
    fmt.ms(row.meanCpuMsPerRequest ?? undefined), row.runs.reduce((n, r) => n + r.non2xx, 0), row.runs.map((r) => fmt.pct(r.cpu.othersPctOfOneCore)).join(' / '),
  ]), { align: [false, true, true, true, true, true, true] }));
  p(`   the access log at info costs ${fmt.pct(edgeCosts.logCost * 100)} of issuance (${fmt.pct((edgeCosts.logCpuCost ?? NaN) * 100) ?? 'n/a'} more server CPU per request);`);
  p(`   the rate limiter (per client and per address) costs ${fmt.pct(edgeCosts.limiterCost * 100)} (${fmt.pct((edgeCosts.limiterCpuCost ?? NaN) * 100) ?? 'n/a'} more CPU per request). Negative: within the noise.`);
  p('');
  p(`3. Grantor well-known documents and the status list at c=${REF_CONNECTIONS}: as issue #14 was filed (${AS_FILED_COMMIT.slice(0, 7)}, "today's rate"), through koa (\`${VIA_KOA}\`),`);
  p('   then from prepared bytes (the lean route), back to back');
  if (documents.asFiledSkipped) p(`   ${documents.asFiledSkipped}`);
  const docRow = (/** @type {string} */ label, /** @type {MeasuredRun} */ r) => [label, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), r.non2xx, fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore)];
  p(table(['GET', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'],
    documents.rows.flatMap((d) => [...(d.asFiled ? [docRow(`${d.label} as filed`, d.asFiled)] : []), docRow(`${d.label} via koa`, d.koa), docRow(`${d.label} prepared`, d.lean)]),
    { align: [false, ...Array(9).fill(true)] }));
  p(table(['GET', 'prepared / as filed req/s', 'prepared / koa req/s', 'koa / prepared CPU ms per request'], documents.rows.map((d) => [
    d.label, d.asFiled ? fmt.ratio(d.lean.rps / d.asFiled.rps) : 'n/a', fmt.ratio(d.lean.rps / d.koa.rps), fmt.ratio(per(d.koa.cpu.serverMsPerRequest, d.lean.cpu.serverMsPerRequest)),
  ])));
  if (oidc) {
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
  if (oidcSeed && oidcRefresh.length) {
    p('');
    p(`4b. node-oidc-provider v9 POST /token grant_type=refresh_token (same job as 5: a public client's refresh tokens, rotated on every use, in-memory adapter);`);
    p(`   ${oidcSeed.count} refresh tokens seeded through its own authorization code flow (PKCE; login and consent granted by the bench's interaction stand-in) in ${oidcSeed.seconds.toFixed(1)} s`);
    p(table(['conns', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'rotated', 'server CPU', 'CPU ms/req', 'oidc-provider refresh / its client_credentials', 'Grantor refresh / oidc-provider refresh'], oidcRefresh.map((r) => {
      const cc = at(oidcToken, r.connections);
      const g = at(grantorRefresh, r.connections);
      return [r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), r.non2xx, fmt.int(r.script.ok), fmt.pct(r.cpu.serverPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), cc ? fmt.ratio(r.rps / cc.rps) : undefined, g ? fmt.ratio(g.rps / r.rps) : undefined];
    })));
  }
  p('');
  p('5. Grantor POST /oauth/token grant_type=refresh_token (public client; every request spends its refresh token and stores the successor)');
  p('   5 to 7 run on a Grantor with rate limits off (one public app, one resource server: far past 1200/min per client), access log at info.');
  p(`   seeding: ${seed.count} refresh tokens through the authorization code flow over HTTP (one sign-in and consent, then per token`);
  p(`   GET /oauth/authorize with PKCE → 302 with a code, POST /oauth/token) in ${seed.seconds.toFixed(1)} s = ${fmt.int(seed.count / seed.seconds)} tokens/s, 8 at a time.`);
  p('   Each connection walks its own rotation chain (the successor of each answer is the next request\'s token).');
  const refreshRow = (/** @type {import('./types.js').ScriptedRun} */ r) => [
    r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, fmt.int(r.script.ok),
    ceiling ? fmt.pct((r.rps / ceiling) * 100) : undefined,
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  p(table(['conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'rotated', 'of ceiling', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'], grantorRefresh.map(refreshRow)));
  p(`   afterwards: ${chainCheck.poolLeft} chains left in the pool; one introspected → active ${chainCheck.active}${chainCheck.tokenType ? ` (${chainCheck.tokenType})` : ''}`);
  p('');
  p(table(['conns', 'client_credentials req/s', 'p99 ms', 'refresh req/s', 'p99 ms', 'refresh / client_credentials'], REFRESH_CONNECTIONS.map((c) => {
    const g = at(grantorToken, c);
    const r = at(grantorRefresh, c);
    return [c, fmt.int(g?.rps), fmt.ms(g?.latencyMs.p99), fmt.int(r?.rps), fmt.ms(r?.latencyMs.p99), g && r ? fmt.ratio(r.rps / g.rps) : undefined];
  })));
  p('');
  p('5b. Grantor POST /oauth/token grant_type=authorization_code and token exchange (RFC 8693), on the same server');
  p('   authorization_code: a confidential web app (client_secret_basic, PKCE) redeems codes made before each run (one GET /oauth/authorize each,');
  p('   consent remembered); a run sends its stock once each, so it lasts as long as they do. Token exchange: a confidential backend listed in');
  p('   a second API\'s token_exchange_clients exchanges one person\'s access token for that API, each exchange a grant of its own.');
  const otherRow = (/** @type {string} */ label, /** @type {import('./types.js').MeasuredRun} */ r) => [
    label, r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ratio(spreadOf(r)), r.non2xx, r.seconds.toFixed(1),
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  p(table(['grant', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'p99/p50', 'non-2xx', 'seconds', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'], [
    ...otherGrants.authorizationCode.map((r) => otherRow('authorization_code', r)),
    ...otherGrants.tokenExchange.map((r) => otherRow('token exchange', r)),
  ], { align: [false, ...Array(12).fill(true)] }));
  p('');
  p(`6. Grantor POST /oauth/introspect (client_secret_basic, a client with the \`introspect\` permission, a valid client_credentials access token of ${accessToken.length} bytes)`);
  const introspectRow = (/** @type {string} */ label, /** @type {import('./types.js').ScriptedRun} */ r) => [
    label, r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, fmt.int(r.script.ok),
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  if (introspectionAsFiledSkipped) p(`   ${introspectionAsFiledSkipped}`);
  p(table(['path', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'active', 'server CPU', 'event loop', 'CPU ms/req', 'loadgen CPU', 'others CPU'], [
    ...(introspectionAsFiled ? [introspectRow(`as issue #14 was filed (${AS_FILED_COMMIT.slice(0, 7)})`, introspectionAsFiled)] : []),
    introspectRow(`koa (${VIA_KOA})`, introspectionKoa),
    introspectRow('lean', introspection),
  ]));
  if (introspectionAsFiled) p(`   lean / as filed: ${fmt.ratio(introspection.rps / introspectionAsFiled.rps)} req/s, ${fmt.ratio(per(introspectionAsFiled.cpu.serverMsPerRequest, introspection.cpu.serverMsPerRequest))} less CPU per request`);
  p(`   lean / koa: ${fmt.ratio(introspection.rps / introspectionKoa.rps)} req/s, ${fmt.ratio(per(introspectionKoa.cpu.serverMsPerRequest, introspection.cpu.serverMsPerRequest))} less CPU per request (both share the single verification and the shared grant reads)`);
  p('');
  p(`7. Resource-server module verify() vs bare jose jwtVerify, in-process, one ${verifyCost.tokenBytes}-byte token, warm; median of ${verifyCost.rounds} rounds × ${verifyCost.iterations} sequential verifies`);
  p('   ("vs bare": median over rounds of the ratio within a round — the variants ran back to back — robust to the shared machine\'s drift)');
  const us = (/** @type {number | undefined} */ v) => (v === undefined ? undefined : v.toFixed(1));
  p(table(['verifier', 'µs/verify', 'rounds min–max', 'CPU µs/verify', 'vs bare'], [
    ['createVerifier().verify (module: remote JWKS, checks, status list bit)', us(verifyCost.module.wallUs), `${us(verifyCost.module.wallUsMin)}–${us(verifyCost.module.wallUsMax)}`, us(verifyCost.module.cpuUs), fmt.ratio(verifyCost.ratio)],
    ['jwtVerify + createLocalJWKSet, same checks (bare)', us(verifyCost.bare.wallUs), `${us(verifyCost.bare.wallUsMin)}–${us(verifyCost.bare.wallUsMax)}`, us(verifyCost.bare.cpuUs), fmt.ratio(1)],
    ['jwtVerify + createLocalJWKSet, signature only', us(verifyCost.bareNoChecks.wallUs), `${us(verifyCost.bareNoChecks.wallUsMin)}–${us(verifyCost.bareNoChecks.wallUsMax)}`, us(verifyCost.bareNoChecks.cpuUs), fmt.ratio(verifyCost.signatureOnlyRatio)],
  ], { align: [false, true, true, true, true] }));
  p('   (CPU µs: the bench process, all threads — WebCrypto verifies RSA on the libuv pool)');
  p('');
  p(`7b. Client authentication: does the answer time tell whether a client_id exists? Failing POST /oauth/token client_credentials, one`);
  p(`   keep-alive connection, the kinds interleaved in a shuffled order, ${authTiming.tries} tries each after ${authTiming.warmup} rounds of warm-up (rate limits off)`);
  const ms3 = (/** @type {number | undefined} */ v) => v?.toFixed(3);
  const authRow = (/** @type {string} */ label, /** @type {string} */ method, /** @type {string} */ known) => [label, known, ms3(authTiming.medians[`${method} existing`]), ms3(authTiming.medians[`${method} unknown`]), authTiming.ratios[method]?.toFixed(3)];
  p(table(['method', 'known client', 'known ms (median)', 'unknown client_id ms', 'unknown / known'], [
    authRow('client_secret_basic', 'basic', 'wrong secret'),
    authRow('client_secret_post', 'post', 'wrong secret'),
    ...['ES256', 'RS256'].filter((alg) => authTiming.ratios[alg] !== undefined).map((alg) => authRow(`private_key_jwt ${alg}`, alg, 'bad signature')),
  ], { align: [false, false, true, true, true] }));
  p(`   answers (status, headers, body): ${authTiming.sameAnswers ? 'identical' : 'DIFFERENT'}; a fresh unknown client_id each try (one database read each): ratio ${fmt.ratio(authTiming.freshUnknownRatio)} (information)`);
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
  p(`   idle verifier (list fetched, idle past its ttl, grant revoked, idle ${idleProbe.afterSeconds.toFixed(1)} s more): first verify ${idleProbe.firstVerify}, next ${idleProbe.secondVerify}`);
  p(renderStreams(revocation, streamCost, ttlBoundMs));
  p('');
  p('8b. DPoP (RFC 9449): POST /oauth/token client_credentials with an ES256 proof (signed ahead, each sent once) beside the same');
  p('   request as bearer, alternating on a Grantor of its own (rate limits off: one client); then the resource-server module');
  p('   verifying a DPoP request (token + proof) beside a bearer token, in the bench process.');
  p(renderDpop(dpop));
  p('');
  p(`8c. Dynamic client registration (RFC 7591): POST /oauth/register, a public client's metadata as JSON, each request a new client,`);
  p(`   on a Grantor of its own with REGISTRATION=open (per-address registration limit and cap off: one load generator address), ${SECONDS} s`);
  p(table(['connections', 'registrations/s', 'p50 ms', 'p99 ms', 'server ms/req', 'server CPU %', 'non-2xx'], [[
    registration.connections, fmt.int(registration.rps), fmt.ms(registration.latencyMs.p50), fmt.ms(registration.latencyMs.p99), fmt.ms(registration.cpu.serverMsPerRequest), fmt.pct(registration.cpu.serverPctOfOneCore), registration.non2xx,
  ]]));
  p('');
  const md = metadataDocuments;
  p(`8e. Client ID Metadata Documents: GET /oauth/authorize (code, PKCE S256, no one signed in → the login page), ${SECONDS} s each, back to back on a`);
  p(`   Grantor of its own (rate limits off): an admin-registered public client, then an app whose client_id is the URL of its document,`);
  p(`   served over loopback https (throwaway CA) with Cache-Control: max-age=${md.maxAgeSeconds}`);
  const mdRow = (/** @type {string} */ label, /** @type {MeasuredRun} */ r) => [label, r.connections, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.cpu.serverMsPerRequest), r.non2xx];
  p(table(['client', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'server ms/req', 'non-2xx'], [
    mdRow('registered by an admin', md.registered),
    mdRow('metadata document URL', md.document),
  ]));
  p(`   metadata document / registered: ${fmt.ratio(md.documentOverRegistered)} req/s; the document fetched ${md.fetches} time(s) over the phase's ${md.phaseSeconds.toFixed(1)} s`);
  p(`   (${fmt.int(md.documentRequests)} requests measured; bound 1 + ⌊${md.phaseSeconds.toFixed(1)} / ${md.lifetimeSeconds} s lifetime⌋ = ${md.fetchBound} for one instance): ${md.pass ? 'once per cache lifetime' : 'MORE THAN ONCE PER LIFETIME'}`);
  p('');
  p(`9. Scale-out: POST /oauth/token client_credentials (the request of 2, one client) at c=${SCALEOUT_CONNECTIONS}, ${SECONDS} s each, on four fresh servers one after`);
  p('   another (each: start, one checked token, warm-up, run, stop), rate limits off (the refresh run drives one public client),');
  p('   access log at info. SQLite 1 process is measured again here, back to back with');
  p(`   the others, not taken from 2. PostgreSQL: ${scaleOut.postgres.url} (${scaleOut.postgres.from === 'default' ? 'default' : `from ${scaleOut.postgres.from}`}), a fresh schema per server, dropped after it.`);
  if (!scaleOut.postgres.reachable) p(`   skipped: no PostgreSQL (set BENCH_DATABASE_URL) — ${scaleOut.postgres.reason}`);
  const soRow = (/** @type {import('./scale-out.js').ScaleOutSetup} */ { key, label }) => {
    const r = soRun(key);
    if (!r) return [label, soSkipped(key) ? 'skipped' : 'FAILED', ...Array(12).fill(undefined)];
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
    const r = soRun(key);
    if (soError(key)) p(`   ${label}: FAILED: ${soError(key)}`);
    if (r?.cpu?.serverWorkersPctOfOneCore) p(`   ${label}: workers ${r.cpu.serverWorkersPctOfOneCore.map((v) => fmt.pct(v)).join(' + ')}, primary ${fmt.pct(r.cpu.serverPrimaryPctOfOneCore)}`);
    if (r && (r.non2xx || r.errors || r.timeouts)) p(`   ${label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts of ${fmt.int(r.requests)} (status codes ${JSON.stringify(r.statusCodeStats)})`);
    if (r?.cpu?.serverProcessesGone) p(`   ${label}: ${r.cpu.serverProcessesGone} server process(es) exited during the run (their CPU is missing)`);
    if (r?.warmup && (r.warmup.non2xx || r.warmup.errors)) p(`   ${label}: warm-up had ${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors`);
    if (soDropError(key)) p(`   ${label}: dropping its schema failed: ${soDropError(key)}`);
  }
  if (g50Phase2) p(`   for reference, 2's SQLite c=${SCALEOUT_CONNECTIONS} earlier in this run: ${fmt.int(g50Phase2.rps)} req/s, p99 ${fmt.ms(g50Phase2.latencyMs.p99)} ms, others CPU ${fmt.pct(g50Phase2.cpu.othersPctOfOneCore)}`);
  p('');
  p(`   refresh grant at c=${SCALEOUT_CONNECTIONS} (the script of 5; chains seeded through the code flow on each server)`);
  const refreshSoRow = (/** @type {string} */ label, /** @type {MeasuredRun & { cpu: { postgresPctOfOneCore?: number } }} */ r) => [
    label, fmt.int(r.rps), fmt.ms(r.latencyMs.p50), fmt.ms(r.latencyMs.p99), fmt.ms(r.latencyMs.max), r.non2xx, fmt.int(r.script?.ok), r.script?.bad,
    fmt.pct(r.cpu.serverPctOfOneCore), fmt.pct(r.cpu.serverLoopPctOfOneCore), fmt.ms(r.cpu.serverMsPerRequest), fmt.pct(r.cpu.postgresPctOfOneCore), fmt.pct(r.cpu.loadgenPctOfOneCore), fmt.pct(r.cpu.othersPctOfOneCore),
  ];
  /** @type {import('./report.js').Cell[][]} */
  const refreshSoRows = [];
  if (soRefresh) refreshSoRows.push(refreshSoRow('PostgreSQL, 1 process (this phase)', soRefresh));
  if (r50Phase4) refreshSoRows.push(refreshSoRow('SQLite, 1 process (5, earlier in this run)', r50Phase4));
  p(table(['setup', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'rotated', 'failed', 'server CPU', 'event loop', 'CPU ms/req', 'postgres CPU', 'loadgen CPU', 'others CPU'], refreshSoRows, { align: [false, ...Array(13).fill(true)] }));
  if (!soRefresh) p(`   PostgreSQL refresh: ${soRefreshOutcome.skipped ? `skipped (${soRefreshOutcome.skipped})` : `FAILED: ${soRefreshOutcome.error ?? 'not run'}`}`);
  else p(`   PostgreSQL: ${soRefresh.seeded} refresh tokens seeded in ${soRefresh.seedSeconds.toFixed(1)} s; afterwards ${soRefresh.chainCheck.poolLeft} chains left, one introspected → active ${soRefresh.chainCheck.active}`);
  p('');
  p('   ratios (req/s)');
  p(`     PostgreSQL / SQLite:   1 process ${fmt.ratio(so.postgresOverSqlite1Process) ?? 'n/a'}, WORKERS=2 ${fmt.ratio(so.postgresOverSqliteWorkers2) ?? 'n/a'}; refresh, 1 process ${fmt.ratio(refreshPgOverSqlite) ?? 'n/a'} (SQLite figure from 5)`);
  p(`     WORKERS=2 / 1 process: SQLite ${fmt.ratio(so.workers2Over1Sqlite) ?? 'n/a'}, PostgreSQL ${fmt.ratio(so.workers2Over1Postgres) ?? 'n/a'}`);
  for (const { key, label } of SCALEOUT_ROWS) {
    const r = soRun(key);
    if (r) p(`     what limits ${label}: ${bottleneck(r)}`);
  }
  if (soRefresh) p(`     what limits the PostgreSQL refresh grant: ${bottleneck(soRefresh)}`);
  p('');
  p('Ratios');
  p(`  issuance / signing ceiling: best ${fmt.pct((ratios.issuanceOverCeilingBest ?? NaN) * 100) ?? 'n/a'} (c=${best.connections}), at c=${REF_CONNECTIONS} ${fmt.pct((ratios.issuanceOverCeilingAt50 ?? NaN) * 100) ?? 'n/a'}`);
  p(`  issuance / raw node:crypto all-core ceiling: best ${fmt.pct((ratios.issuanceOverRawCeilingBest ?? NaN) * 100) ?? 'n/a'} (Grantor signs with node:crypto; HTTP and the load generator share the same cores)`);
  if (bare) p(`  Grantor / bare signer at c=${REF_CONNECTIONS}: ${fmt.pct((ratios.grantorOverBareSignerAt50 ?? NaN) * 100)} (a server that only signs reaches ${fmt.pct((ratios.bareSignerOverRawCeiling ?? NaN) * 100)} of the raw ceiling here)`);
  if (signShare) p(`  signing is ~${fmt.pct(signShare * 100)} of Grantor's CPU per token at c=${REF_CONNECTIONS} (${fmt.ms(signMs)} of ${fmt.ms(g50?.cpu.serverMsPerRequest)} ms); the rest is node:http, form parsing, client authentication, JSON (the lean token path bypasses koa)`);
  p(`  Grantor / node-oidc-provider at c=${REF_CONNECTIONS}: ${fmt.ratio(ratios.grantorOverOidcProviderAt50) ?? 'n/a'}; best vs best: ${fmt.ratio(ratios.grantorOverOidcProviderBest) ?? 'n/a'}`);
  if (g50) p(`  what limits Grantor at c=${REF_CONNECTIONS}: ${bottleneck(g50)}`);
  p(`  refresh / client_credentials at c=${REF_CONNECTIONS}: ${fmt.ratio(ratios.refreshOverClientCredentialsAt50) ?? 'n/a'}${r50 ? ` (${fmt.ms(r50.cpu.serverMsPerRequest)} vs ${fmt.ms(g50?.cpu.serverMsPerRequest)} ms of server CPU per request)` : ''}`);
  if (r50) p(`  what limits the refresh grant at c=${REF_CONNECTIONS}: ${bottleneck(r50)}`);
  if (ratios.oidcProviderRefreshOverClientCredentialsAt50 != null) p(`  node-oidc-provider refresh / its client_credentials at c=${REF_CONNECTIONS}: ${fmt.ratio(ratios.oidcProviderRefreshOverClientCredentialsAt50)}; Grantor refresh / node-oidc-provider refresh: ${fmt.ratio(ratios.grantorRefreshOverOidcProviderRefreshAt50)}`);
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

  const json = {
    env: { ...env, seconds: SECONDS, signSeconds: SIGN_SECONDS, warmupSeconds: WARMUP_SECONDS, loadGenerator: 'autocannon in a child process on the same machine', cpuProfile: Boolean(CPU_PROF_DIR) },
    signing: signing && signingAfter && {
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
      asFiledCommit: AS_FILED_COMMIT,
      documents: documents.rows.map((d) => ({ label: d.label, asFiled: d.asFiled && jsonRun(d.asFiled), koa: jsonRun(d.koa), prepared: jsonRun(d.lean) })),
      bestConnections: best.connections,
      bestRps: round(best.rps),
    },
    refresh: {
      seeded: seed.count,
      seedSeconds: round(seed.seconds, 2),
      seedTokensPerSecond: round(seed.count / seed.seconds),
      runs: grantorRefresh.map((r) => ({ ...jsonRun(r), rotated: r.script.ok, failedRotations: r.script.bad, starved: r.script.starved, firstFailure: r.script.firstBad, poolBefore: r.script.poolBefore, poolAfter: r.script.poolAfter })),
      chainCheck: { poolLeft: chainCheck.poolLeft, active: chainCheck.active === true },
    },
    otherGrants: {
      authorizationCode: otherGrants.authorizationCode.map((r) => ({ ...jsonRun(r), redeemed: r.script.ok, failed: r.script.bad, firstFailure: r.script.firstBad })),
      tokenExchange: otherGrants.tokenExchange.map(jsonRun),
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
    introspectionAsFiled: introspectionAsFiled && jsonRun(introspectionAsFiled),
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
      // Per method: basic, post (unknown / wrong secret); ES256, RS256 (private_key_jwt: unknown / bad signature).
      ratios: Object.fromEntries(Object.entries(authTiming.ratios).map(([k, v]) => [k, round(v, 3)])),
      freshUnknownRatio: round(authTiming.freshUnknownRatio, 3),
      sameAnswers: authTiming.sameAnswers,
      unexpected: authTiming.unexpected ?? null,
    },
    dpop: dpop,
    registration: {
      connections: registration.connections,
      registrationsPerSecond: round(registration.rps),
      p50Ms: round(registration.latencyMs.p50, 2),
      p99Ms: round(registration.latencyMs.p99, 2),
      serverMsPerRequest: round(registration.cpu.serverMsPerRequest, 3),
    },
    metadataDocuments: {
      connections: md.document.connections,
      maxAgeSeconds: md.maxAgeSeconds,
      lifetimeSeconds: md.lifetimeSeconds,
      phaseSeconds: round(md.phaseSeconds, 1),
      fetches: md.fetches,
      fetchBound: md.fetchBound,
      documentRequests: md.documentRequests,
      documentRequestsPerSecond: round(md.document.rps),
      registeredRequestsPerSecond: round(md.registered.rps),
      documentOverRegistered: round(md.documentOverRegistered, 3),
      documentP99Ms: round(md.document.latencyMs.p99, 2),
      registeredP99Ms: round(md.registered.latencyMs.p99, 2),
    },
    revocationThroughStream: { ...revocation.stream, p50Ms: round(revocation.stream.p50Ms), p90Ms: round(revocation.stream.p90Ms), p99Ms: round(revocation.stream.p99Ms), maxMs: round(revocation.stream.maxMs), minMs: round(revocation.stream.minMs) },
    streamCost: { revocations: streamCost.revocations, gapMs: streamCost.gapMs, idleSeconds: streamCost.idleSeconds, rows: streamCost.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 2) : v]))) },
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
    oidcProvider: oidcToken.length ? { token: oidcToken.map(jsonRun), refresh: oidcRefresh.map((r) => ({ ...jsonRun(r), rotated: r.script.ok, failedRotations: r.script.bad, starved: r.script.starved })), refreshSeedSeconds: oidcSeed ? round(oidcSeed.seconds, 2) : null } : null,
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
        : { skipped: soRefreshOutcome.skipped ?? null, error: soRefreshOutcome.error ?? null },
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
  return { text: out.join('\n') + '\n', json };
}

/**
 * A one-line reading of a run's CPU figures: event loop bound, CPU bound, or waiting.
 * @param {{ cpu: { serverLoopPctOfOneCore?: number, machineBusyPct?: number } }} r
 */
function bottleneck(r) {
  const loop = r.cpu.serverLoopPctOfOneCore;
  const busy = r.cpu.machineBusyPct;
  if (loop === undefined || busy === undefined) return 'unknown (no /proc)';
  if (loop >= 90) return `the event loop (main thread ${fmt.pct(loop)} busy)`;
  if (busy >= 90) return `the machine's CPU (${fmt.pct(busy)} of all cores busy: server, load generator and others)`;
  return `neither the event loop (${fmt.pct(loop)}) nor the CPU (machine ${fmt.pct(busy)} busy) is saturated: requests wait on something serial (a pool, a lock, one connection)`;
}

/** A scale-out row: jsonRun's figures plus the whole server's CPU split, or why there is none. */
/** @param {NonNullable<import('./types.js').BenchResults['scaleOut']['runs'][ScaleOutKey]> | NonNullable<import('./figures.js').BenchFigures['soRefresh']>} r */
function jsonScaleOut(r) {
  const base = { database: r.setup?.db, workers: r.setup?.workers };
  if (!('cpu' in r)) return { ...base, skipped: 'skipped' in r ? r.skipped : null, error: 'error' in r ? r.error : null };
  return {
    ...base,
    ...jsonRun(r),
    timeouts: r.timeouts,
    statusCodeStats: r.statusCodeStats,
    serverProcesses: r.cpu.serverProcesses,
    serverProcessesGone: r.cpu.serverProcessesGone,
    serverPrimaryCpuPctOfOneCore: round(r.cpu.serverPrimaryPctOfOneCore),
    serverWorkersCpuPctOfOneCore: r.cpu.serverWorkersPctOfOneCore?.map((/** @type {number} */ v) => round(v)) ?? null,
    postgresCpuPctOfOneCore: round(r.cpu.postgresPctOfOneCore),
    startSeconds: 'startSeconds' in r ? round(r.startSeconds, 2) : undefined,
    warmup: r.warmup,
    schemaDropError: 'schemaDropError' in r ? r.schemaDropError : undefined,
  };
}

/** @param {MeasuredRun} r */
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
    ...(r.tail ? { tail: { over: r.tail.over, atStart: round(r.tail.atStart, 3), inBursts: round(r.tail.inBursts, 3), bursts: r.tail.bursts.length, steadySpread: round(r.tail.steadySpread, 3), windowSpread: round(r.tail.windowSpread, 3) } } : {}),
  };
}


/**
 * Section 8's Shared Signals rows (issue #13 item 4): the stream beside the status list on the same
 * revocations, and what a stream costs Grantor per revocation by number of receivers. Also printed
 * alone by bench/ssf.js (`npm run bench:ssf`).
 * @param {import('./types.js').BenchResults['revocation']} revocation
 * @param {import('./types.js').BenchResults['streamCost']} streamCost
 * @param {number} ttlBoundMs
 */
export function renderStreams(revocation, streamCost, ttlBoundMs) {
  const s = revocation.stream;
  const lines = [
    `   Through a Shared Signals stream, on the same revocations: a second verifier of the same module with \`revocationEvents\` (poll delivery,`,
    `   RFC 8936 long polls; status list still on), each revoked token verified every ${s.pollMs} ms from the same moment:`,
    table(['channel', 'grants', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'min ms', 'over bound', 'other refusals', 'target p99 ≤ ms'], [
      ['status list only (ttl ' + revocation.ttl + ' s)', revocation.grants, fmt.int(revocation.p50Ms), fmt.int(revocation.p90Ms), fmt.int(revocation.p99Ms), fmt.int(revocation.maxMs), fmt.int(revocation.minMs), revocation.timedOut, revocation.errors.length, fmt.int(ttlBoundMs)],
      ['stream (poll)', revocation.grants, fmt.ms(s.p50Ms), fmt.ms(s.p90Ms), fmt.ms(s.p99Ms), fmt.ms(s.maxMs), fmt.ms(s.minMs), s.timedOut, s.errors.length, 100],
    ]),
    `   the subscribed verifier's channel at the end: ${s.channel}${s.lastError ? ` (${s.lastError})` : ''}`,
    '',
    `8a. What a stream costs Grantor per revocation: ${streamCost.revocations} admin revocations (DELETE /admin/grants/:id, ${streamCost.gapMs[0]}–${streamCost.gapMs[1]} ms apart) per row,`,
    '   each receiver a jose-only long poller with its own client and poll stream, in a child process (its CPU is not Grantor\'s);',
    `   Grantor as operators run it (access log at info, rate limits on). "net": minus Grantor's idle CPU with the polls held (${streamCost.idleSeconds} s measured);`,
    '   "last receiver": from the DELETE\'s answer until the last receiver had verified the SET.',
    table(['receivers', 'Grantor CPU ms/revocation', 'net ms/revocation', 'idle CPU % (polls held)', 'DELETE p50 ms', 'DELETE p99 ms', 'last receiver p50 ms', 'last receiver p99 ms', 'delivered', 'others CPU %'],
      streamCost.rows.map((r) => [r.receivers, fmt.ms(r.grantorCpuMsPerRevocation), fmt.ms(r.grantorNetCpuMsPerRevocation), fmt.pct(r.idleCpuPctOfOneCore), fmt.ms(r.revokeP50Ms), fmt.ms(r.revokeP99Ms), r.receivers ? fmt.ms(r.lastReceiverP50Ms) : '—', r.receivers ? fmt.ms(r.lastReceiverP99Ms) : '—', `${r.delivered}/${r.expected}`, fmt.pct(r.othersPctOfOneCore)])),
  ];
  return lines.join('\n');
}
