// @ts-check
/**
 * The smoke run's verdict (BENCH_SMOKE=1, part of `npm test`): sane results from every phase, or
 * the build fails — non-zero rates, no unexpected non-2xx, every refresh rotated, every
 * introspection active, every revocation seen. (The loads of 2, 2b, 3, 7c, 7e and 8 already throw
 * on any non-2xx.) Its figures mean nothing; only their sanity is judged.
 */

/**
 * What is insane in `results`, one line each; empty when every phase is sane.
 * @param {import('./types.js').BenchResults} results
 * @param {import('./figures.js').BenchFigures} f
 * @returns {string[]}
 */
export function insaneResults(results, f) {
  const { signing, issuance, documents, edgeCosts, delegated, registration, metadataDocuments: md, oidcProvider, dpop, revocation, streamCost, scaleOut } = results;
  const { refresh, otherGrants, introspection, verifyCost, authTiming } = delegated;
  /** @type {string[]} */
  const broken = [];
  const positive = (/** @type {string} */ label, /** @type {unknown} */ v) => { if (!(typeof v === 'number' && v > 0)) broken.push(`${label}: ${v}`); };
  if (signing) for (const k of /** @type {const} */ (['nodeSingle', 'nodeAll', 'joseSingle', 'joseAll', 'joseOneLoopPool'])) positive(`signing ${k} sig/s`, signing[k]?.signaturesPerSecond);
  const rate = (/** @type {string} */ label, /** @type {{ connections: number, rps: number }} */ r) => positive(`${label} c=${r.connections} req/s`, r.rps);
  for (const r of issuance.runs) rate('client_credentials', r);
  if (issuance.bare) rate('bare signer', issuance.bare);
  for (const d of documents.rows) {
    if (d.asFiled) rate(`GET ${d.label} as filed`, d.asFiled);
    rate(`GET ${d.label} via koa`, d.koa);
    rate(`GET ${d.label}`, d.lean);
  }
  for (const r of refresh.runs) rate('refresh', r);
  for (const r of otherGrants.authorizationCode) rate('authorization_code', r);
  for (const r of otherGrants.tokenExchange) rate('token exchange', r);
  rate('introspection', introspection.lean);
  rate('introspection via koa', introspection.koa);
  if (introspection.asFiled) rate('introspection as filed', introspection.asFiled);
  rate('registration', registration);
  rate('authorize, registered client', md.registered);
  rate('authorize, metadata document', md.document);
  for (const r of oidcProvider?.token ?? []) rate('oidc-provider client_credentials', r);
  for (const row of edgeCosts.rows) positive(`2b ${row.label} req/s`, row.meanRps);
  const scriptOf = (/** @type {import('./types.js').ScriptedRun[]} */ runs) => JSON.stringify(runs.map((r) => ({ non2xx: r.non2xx, bad: r.script.bad, starved: r.script.starved, firstBad: r.script.firstBad })));
  if (!f.refreshClean || !refresh.chainCheck.active) broken.push(`refresh: ${scriptOf(refresh.runs)}, pooled token active ${refresh.chainCheck.active}`);
  if (otherGrants.authorizationCode.some((r) => r.non2xx || r.errors || r.script.bad || r.script.starved)) broken.push(`authorization_code: ${scriptOf(otherGrants.authorizationCode)}`);
  if (oidcProvider?.refresh.some((r) => r.non2xx || r.errors || r.script.bad || r.script.starved)) broken.push(`oidc-provider refresh: ${scriptOf(oidcProvider.refresh)}`);
  if (!f.introspectionClean) broken.push(`introspection: ${introspection.lean.non2xx} non-2xx, ${introspection.lean.script.bad} not active (${introspection.lean.script.firstBad})`);
  positive('verify µs (module)', verifyCost.module.wallUs);
  if (!authTiming.sameAnswers || authTiming.unexpected) broken.push(`client-auth timing: answers differ or unexpected: ${JSON.stringify(authTiming.unexpected ?? null)}`);
  const stream = revocation.stream;
  if (!f.streamOk) broken.push(`revocation through the stream: ${stream.timedOut} not refused within the bound, ${stream.errors.length} refused for another reason (${stream.errors[0] ?? ''}), channel ${stream.channel} (${stream.lastError ?? ''})`);
  if (!f.streamCostOk) broken.push(`stream cost: ${JSON.stringify(streamCost.rows.map((r) => ({ receivers: r.receivers, delivered: r.delivered, expected: r.expected, errors: r.receiverErrors, first: r.firstReceiverError, cpu: r.grantorCpuMsPerRevocation })))}`);
  if (!f.revocationOk) broken.push(`revocation: ${revocation.timedOut} not refused within the bound, ${revocation.errors.length} refused for another reason (${revocation.errors[0] ?? ''})`);
  for (const r of Object.values(scaleOut.runs)) {
    if ('skipped' in r && r.skipped) continue;
    if (!('cpu' in r) || !r.cpu || r.non2xx || r.errors || r.timeouts) broken.push(`scale-out ${r.setup.label}: ${'error' in r && r.error ? r.error : `${'non2xx' in r ? r.non2xx : '?'} non-2xx, ${'errors' in r ? r.errors : '?'} errors, ${'timeouts' in r ? r.timeouts : '?'} timeouts`}`);
  }
  if (scaleOut.postgres.reachable && !f.soRefresh) broken.push(`scale-out PostgreSQL refresh: ${scaleOut.refresh && 'error' in scaleOut.refresh ? scaleOut.refresh.error : 'not run'}`);
  if (f.soRefresh && (f.soRefresh.non2xx || f.soRefresh.script?.bad)) broken.push(`scale-out PostgreSQL refresh: ${f.soRefresh.non2xx} non-2xx, ${f.soRefresh.script?.bad} failed rotations`);
  for (const r of dpop.issuance) {
    if (!(r.dpop.rps > 0) || r.dpop.non2xx || r.bearer.non2xx || r.dpop.firstBad) broken.push(`DPoP issuance at c=${r.connections}: ${JSON.stringify(r)}`);
  }
  if (!((dpop.verify?.dpopUs ?? 0) > 0)) broken.push('DPoP verification measured nothing');
  if (!md.pass) broken.push(`metadata documents: ${md.fetches} fetches (bound ${md.fetchBound}) for ${md.documentRequests} requests`);
  return broken;
}
