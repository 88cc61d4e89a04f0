// @ts-check
/**
 * Revocation propagation, end to end: how long after an admin revokes a grant does a resource
 * server using Grantor's resource-server module (createVerifier) start refusing its token?
 *
 * Against a Grantor started with STATUS_LIST_TTL=ttl: an admin client (CLI) and its admin token;
 * `grants` + 2 client_credentials clients made through the admin API, one token each (one standing
 * grant each), all verifying OK with one verifier in this process. Meanwhile a background loop
 * verifies a never-revoked token every `pollMs` (a resource server with steady traffic). Then one
 * after another, with random gaps, each grant is revoked with DELETE /admin/grants/:grant_id; from
 * the moment that answer is read, the token is verified every `pollMs` until it is refused as
 * revoked (bounded at `boundMs`). Pollers overlap: one verifier, one status list cache, as in a
 * real resource server.
 *
 * Beside it, in the same run and on the same revocations (issue #13 item 4), a second verifier
 * subscribed to Grantor's revocation events (`revocationEvents`, poll delivery: RFC 8936 long
 * polls; its own client with scope `ssf`, made by the admin) — otherwise the same module as
 * deployed, status list included — verifies each revoked token every `streamPollMs` from the same
 * moment: the stream's figure. Its channel must still be `stream` at the end.
 *
 * Then one probe of an idle verifier: it fetched the list, stays idle past its ttl, the grant is
 * revoked, and after ttl + 1 s more of idleness one verify is made: is the revoked token accepted?
 */
import { claimsOf, clientCredentialsToken, loadResourceServerModule } from './resource-server-module.js';
import { sleep } from './procs.js';
import { quantile } from './report.js';

/**
 * @typedef {import('./types.js').PropagationPoll} PropagationPoll
 * @typedef {import('./types.js').PropagationSummary} PropagationSummary
 */


/**
 * How the pollers of one verifier ended, the same figures for the status list and the stream:
 * how many saw their token refused as revoked, the other refusals, how many reached the bound,
 * and quantiles over every grant (a timed-out one counts with the bound: it only makes them worse).
 * @param {PropagationPoll[]} results
 * @returns {PropagationSummary}
 */
function summarize(results) {
  const all = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    refused: results.filter((r) => !r.error && !r.timedOut).length,
    errors: results.flatMap((r) => (r.error ? [r.error] : [])),
    timedOut: results.filter((r) => r.timedOut).length,
    p50Ms: quantile(all, 0.5),
    p90Ms: quantile(all, 0.9),
    p99Ms: quantile(all, 0.99),
    maxMs: all.at(-1),
    minMs: all[0],
  };
}

/** @param {Response} res @param {string} what @returns {Promise<any>} the answer's JSON */
async function json(res, what) {
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * A thrown value's `code` and `message`, when it is an object that has them (`err?.code`, `err?.message`).
 * @param {unknown} err
 * @returns {{ code?: unknown, message?: unknown }}
 */
const fieldsOf = (err) => (typeof err === 'object' && err !== null ? err : {});

/**
 * @param {import('./types.js').RevocationPropagationOptions} o
 * @returns {Promise<import('./types.js').RevocationPropagationResult>}
 */
export async function measureRevocationPropagation({ grantor, ttl, grants, gapMs = [20, 300], pollMs = 20, streamPollMs = 1, boundMs = 10_000, log = () => {} }) {
  const { createVerifier, ResourceServerError } = await loadResourceServerModule();
  const base = grantor.url;

  // 1. an admin client (the bootstrap is the CLI) and its token for the admin API
  const admin = await grantor.cli(['clients', 'create', '--name', 'ops', '--scopes', 'admin', '--json']);
  const adminToken = await clientCredentialsToken(base, { clientId: admin.client_id, clientSecret: admin.client_secret, scope: 'admin' });
  const adminFetch = (/** @type {string} */ path, /** @type {RequestInit & { headers?: Record<string, string> }} */ init = {}) => fetch(`${base}/admin${path}`, { ...init, headers: { ...init.headers, Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' } });

  // 2. grants + 2 clients (the measured ones, one for background traffic, one for the idle probe), one token each
  const t0 = performance.now();
  /** @type {Array<{ token: string, grantId: string }>} */
  const subjects = [];
  const make = async (/** @type {number} */ i) => {
    const client = await json(await adminFetch('/clients', { method: 'POST', body: JSON.stringify({ name: `revocation-${i}`, grant_types: ['client_credentials'], scopes: [grantor.scope] }) }), 'POST /admin/clients');
    const token = await clientCredentialsToken(base, { clientId: client.client_id, clientSecret: client.client_secret, scope: grantor.scope, resource: grantor.resource });
    subjects[i] = { token, grantId: claimsOf(token).grant_id };
  };
  for (let i = 0; i < grants + 2; i += 4) await Promise.all([i, i + 1, i + 2, i + 3].filter((j) => j < grants + 2).map(make));
  const setupSeconds = (performance.now() - t0) / 1000;
  const traffic = subjects[grants];
  const probe = subjects[grants + 1];
  if (new Set(subjects.map((s) => s.grantId)).size !== subjects.length) throw new Error('two clients share a grant_id');

  // 3. one verifier; every token verifies OK before anything is revoked
  const verifier = createVerifier({ issuer: grantor.url, audience: grantor.resource });
  for (const s of subjects) await verifier.verify(s.token);
  // 3b. the subscribed verifier: the admin allows its client the `ssf` scope; it long-polls its stream
  const rs = await json(await adminFetch('/clients', { method: 'POST', body: JSON.stringify({ name: 'bench api (ssf)', grant_types: ['client_credentials'], scopes: ['ssf'] }) }), 'POST /admin/clients (ssf)');
  /** @type {string[]} */
  const streamLog = [];
  const streamVerifier = createVerifier({
    issuer: grantor.url,
    audience: grantor.resource,
    revocationEvents: { credentials: { clientId: rs.client_id, clientSecret: rs.client_secret }, logger: (line) => streamLog.push(line) },
  });
  for (const s of subjects) await streamVerifier.verify(s.token);
  for (const until = Date.now() + 10_000; streamVerifier.revocationState().channel !== 'stream'; await sleep(10)) {
    if (Date.now() > until) throw new Error(`the subscribed verifier never got its stream: ${JSON.stringify(streamVerifier.revocationState())}`);
  }
  log(`  revocation: ${grants} grants (+2) made and verified in ${setupSeconds.toFixed(1)} s; revoking with ${gapMs[0]}–${gapMs[1]} ms gaps`);

  const isRevokedRefusal = (/** @type {unknown} */ err) => err instanceof ResourceServerError && err.code === 'invalid_token' && /revoked/.test(err.message);

  // 4. steady traffic on the verifier: a live token every pollMs (it must keep verifying)
  let trafficOn = true;
  /** @type {string[]} */
  const trafficErrors = [];
  let trafficVerifies = 0;
  const trafficLoop = (async () => {
    while (trafficOn) {
      try {
        await verifier.verify(traffic.token);
        trafficVerifies++;
      } catch (err) {
        trafficErrors.push(String(fieldsOf(err).message ?? err));
      }
      await sleep(pollMs);
    }
  })();

  // 5. revoke one after another; poll each token from the moment its revocation was answered
  /** @type {(token: string, start: number, v?: typeof verifier, every?: number) => Promise<PropagationPoll>} */
  const pollUntilRefused = async (token, start, v = verifier, every = pollMs) => {
    let polls = 0;
    for (;;) {
      polls++;
      try {
        await v.verify(token);
      } catch (err) {
        const at = performance.now() - start;
        if (isRevokedRefusal(err)) return { ms: at, polls };
        return { ms: at, polls, error: `${fieldsOf(err).code ?? ''} ${fieldsOf(err).message ?? err}` };
      }
      const elapsed = performance.now() - start;
      if (elapsed >= boundMs) return { ms: elapsed, polls, timedOut: true };
      // every pollMs from the revocation's answer, not pollMs after each verify
      await sleep(Math.max(0, start + polls * every - performance.now()));
    }
  };
  const pollers = [];
  const streamPollers = [];
  const revokeMs = [];
  for (let i = 0; i < grants; i++) {
    await sleep(gapMs[0] + Math.random() * (gapMs[1] - gapMs[0]));
    const sent = performance.now();
    const res = await adminFetch(`/grants/${encodeURIComponent(subjects[i].grantId)}`, { method: 'DELETE' });
    const view = await json(res, `DELETE /admin/grants/${subjects[i].grantId}`);
    const answered = performance.now();
    revokeMs.push(answered - sent);
    if (view.status !== 'revoked') throw new Error(`DELETE /admin/grants answered status ${view.status}`);
    pollers.push(pollUntilRefused(subjects[i].token, answered));
    streamPollers.push(pollUntilRefused(subjects[i].token, answered, streamVerifier, streamPollMs));
  }
  const results = await Promise.all(pollers);
  const streamResults = await Promise.all(streamPollers);
  const streamState = streamVerifier.revocationState();
  await streamVerifier.close();
  trafficOn = false;
  await trafficLoop;

  // 6. the idle verifier
  const idle = createVerifier({ issuer: grantor.url, audience: grantor.resource });
  await idle.verify(probe.token); // fetches the JWKS and the list now
  await sleep((ttl + 1.5) * 1000); // idle past the list's ttl
  await json(await adminFetch(`/grants/${encodeURIComponent(probe.grantId)}`, { method: 'DELETE' }), 'DELETE /admin/grants (probe)');
  const revokedAt = performance.now();
  await sleep((ttl + 1) * 1000); // idle past ttl + 1 s after the revocation
  const afterSeconds = (performance.now() - revokedAt) / 1000;
  const idleVerdict = async () => {
    try {
      await idle.verify(probe.token);
      return 'accepted';
    } catch (err) {
      return isRevokedRefusal(err) ? 'refused (revoked)' : `refused: ${fieldsOf(err).message ?? err}`;
    }
  };
  const firstVerify = await idleVerdict();
  await sleep(100);
  const secondVerify = await idleVerdict();
  const idleProbe = { afterSeconds, firstVerify, secondVerify };

  revokeMs.sort((a, b) => a - b);
  return {
    ttl,
    grants,
    gapMs,
    pollMs,
    boundMs,
    setupSeconds,
    ...summarize(results),
    revokeRequestP50Ms: quantile(revokeMs, 0.5),
    revokeRequestMaxMs: revokeMs.at(-1),
    traffic: { verifies: trafficVerifies, errors: trafficErrors.length, firstError: trafficErrors[0] },
    idleProbe,
    stream: {
      delivery: 'poll',
      pollMs: streamPollMs,
      ...summarize(streamResults),
      channel: streamState.channel,
      lastError: streamState.lastError,
      logLines: streamLog.length,
    },
  };
}
