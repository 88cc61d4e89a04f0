// @ts-check
/**
 * Client ID Metadata Documents at the authorization endpoint (issue #11: "the fetch of a Client ID
 * Metadata Document is paid once per cache lifetime, not per authorization request"). A loopback
 * https server in this process serves one document with `Cache-Control: max-age=MAX_AGE`, under a
 * throwaway CA (test/throwaway-tls.js, as the tests use; the Grantor child trusts it through
 * NODE_EXTRA_CA_CERTS and reaches it through OUTBOUND_ALLOWED_HOSTS). Grantor, on a server of its
 * own (rate limits off: one load generator address), answers GET /oauth/authorize with the login
 * page (no person signed in; PKCE S256), back to back for:
 *   - an admin-registered public client (the same redirect URI and scope), then
 *   - the app known only by its document URL,
 * counting the document's fetches at the server over the whole phase (first request to last).
 * Expected: at most 1 + ⌊phase seconds / lifetime⌋ fetches, the lifetime being max-age within the
 * cache's floor (60 s, src/deps.ts), for one instance.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { throwawayTls } from '../test/throwaway-tls.js';
import { LIMITS_OFF, startGrantor } from './grantor-server.js';

/** The document's Cache-Control max-age, seconds (also the metadata document cache's least lifetime). */
export const MAX_AGE = 60;
const CACHE_FLOOR = 60;
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/**
 * @typedef {import('./types.js').MeasuredRun} LoadRun
 * @param {{ connections: number, seconds: number,
 *   warmUp: (target: any, req: any) => Promise<void>,
 *   load: (target: any, label: string, req: any, connections: number, seconds: number) => Promise<LoadRun>,
 *   log: (msg: string) => void }} o
 */
export async function measureMetadataDocuments(o) {
  const tls = throwawayTls();
  let fetches = 0;
  /** @type {number | undefined} */
  let firstFetchAt;
  let clientId = '';
  const server = https.createServer({ cert: fs.readFileSync(tls.TEST_TLS_CERT), key: fs.readFileSync(tls.TEST_TLS_KEY) }, (req, res) => {
    if (new URL(req.url ?? '/', 'https://x').pathname !== '/bench-agent.json') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    firstFetchAt ??= Date.now();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': `max-age=${MAX_AGE}` });
    res.end(JSON.stringify({ client_id: clientId, client_name: 'Bench agent', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  clientId = `https://localhost:${port}/bench-agent.json`;

  const grantor = await startGrantor({ env: { ...LIMITS_OFF, OUTBOUND_ALLOWED_HOSTS: `localhost:${port}`, NODE_EXTRA_CA_CERTS: tls.NODE_EXTRA_CA_CERTS } });
  try {
    // The bench resource opens its scope to clients nobody vetted; an admin registers the comparison client.
    const resources = await grantor.cli(['resources', 'list', '--json']);
    const resource = (resources.items ?? resources).find((/** @type {{ identifier: string }} */ r) => r.identifier === grantor.resource);
    await grantor.cli(['resources', 'update', resource.id, '--dynamic-client-scope', grantor.scope, '--json']);
    const registered = await grantor.cli(['clients', 'create', '--name', 'Bench agent (registered)', '--type', 'public', '--redirect-uris', REDIRECT_URI, '--scopes', grantor.scope, '--json']);

    const verifier = randomBytes(32).toString('base64url');
    const authorize = (/** @type {string} */ id) => ({
      url: `${grantor.url}/oauth/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: id,
        redirect_uri: REDIRECT_URI,
        scope: grantor.scope,
        resource: grantor.resource,
        state: 'bench',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })}`,
      method: 'GET',
      headers: {},
    });
    const docReq = authorize(clientId);
    const adminReq = authorize(registered.client_id);
    // One real request each first: the login page, naming the app, or the phase stops.
    for (const [label, req] of /** @type {const} */ ([['registered client', adminReq], ['metadata document', docReq]])) {
      const res = await fetch(req.url, { redirect: 'manual' });
      const page = await res.text();
      if (res.status !== 200 || !/<form[^>]*>/i.test(page) || !/password/i.test(page)) {
        throw new Error(`GET /oauth/authorize (${label}) did not give the login page: HTTP ${res.status} ${page.slice(0, 300)}\n${grantor.logs()}`);
      }
    }
    const startedAt = firstFetchAt ?? Date.now();
    o.log(`  authorization requests: registered client, then the metadata document (max-age ${MAX_AGE} s), c=${o.connections}`);
    await o.warmUp(grantor, adminReq);
    const registeredRun = await o.load(grantor, 'GET /oauth/authorize (registered client)', adminReq, o.connections, o.seconds);
    await o.warmUp(grantor, docReq);
    const documentRun = await o.load(grantor, 'GET /oauth/authorize (client_id a metadata document URL)', docReq, o.connections, o.seconds);
    const phaseSeconds = (Date.now() - startedAt) / 1000;
    const lifetime = Math.max(MAX_AGE, CACHE_FLOOR);
    const fetchBound = 1 + Math.floor(phaseSeconds / lifetime);
    return {
      maxAgeSeconds: MAX_AGE,
      lifetimeSeconds: lifetime,
      phaseSeconds,
      fetches,
      fetchBound,
      documentRequests: documentRun.requests,
      registered: registeredRun,
      document: documentRun,
      documentOverRegistered: documentRun.rps / registeredRun.rps,
      pass: fetches >= 1 && fetches <= fetchBound && documentRun.rps > 0 && registeredRun.rps > 0,
    };
  } finally {
    await grantor.stop();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  }
}
