/**
 * private_key_jwt and the existence of a client_id (RFC 7523 §3; the client_secret path's rule of
 * issue #10 item 6): an unknown client, a disabled one, one that uses a secret and a key the
 * client never registered get exactly the answer of a known client's bad signature, after the same
 * work — one signature check, against a decoy key of the assertion's algorithm. The bug this pins:
 * an unknown client was refused before any signature work, a known one after a signature check,
 * so the time told which client_ids exist. The time itself is measured by `npm run bench:timing`,
 * never here; these tests pin the answers, and that the decoy check is a real signature check.
 */
import { decodeProtectedHeader } from 'jose';
import { checkAgainstDecoy, checkedHeader } from '../../src/oauth/client-assertion.js';
import { assertionParams, clientAssertion, clientKey, type ClientKey } from '../helpers/client-assertion.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { startTestApp, type JsonResponse, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';

/** Status, headers (bar the request id and the date) and body: what a client can compare. */
async function answer(res: JsonResponse) {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date'));
  return { status: res.status, headers, body: await res.text() };
}

describe('private_key_jwt: an unknown client_id is answered like a bad signature', () => {
  let app: TestApp;
  const ask = (params: Record<string, string>) => app.token({ grant_type: 'client_credentials', resource: API, ...params });

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  describe.each(['ES256', 'RS256'])('%s', (alg) => {
    let key: ClientKey;
    let clientId: string;
    beforeAll(async () => {
      key = await clientKey(alg);
      ({ client_id: clientId } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scopes: ['read'] }));
    });

    it('gives an unknown client the same status, headers and body as a known client whose signature is bad', async () => {
      const foreign = { ...(await clientKey(alg)), kid: key.kid };
      const badSignature = await answer(await ask(assertionParams(await clientAssertion(foreign, clientId, app.issuer))));
      expect(badSignature.status).toBe(401);
      expect(JSON.parse(badSignature.body).error).toBe('invalid_client');
      const unknown = await answer(await ask(assertionParams(await clientAssertion(key, `unknown-${alg}`, app.issuer))));
      expect(unknown).toEqual(badSignature);
    });

    it('gives a kid the client never registered, a disabled client and a secret client that same answer', async () => {
      const badSignature = await answer(await ask(assertionParams(await clientAssertion({ ...(await clientKey(alg)), kid: key.kid }, clientId, app.issuer))));
      const unknownKid = await answer(await ask(assertionParams(await clientAssertion({ ...key, kid: 'never-registered' }, clientId, app.issuer))));
      const disabledKey = await clientKey(alg);
      const disabled = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [disabledKey.publicJwk] }, scopes: ['read'] });
      await app.request(`/admin/clients/${disabled.client_id}`, { method: 'PATCH', token: await app.adminToken(), json: { disabled: true } });
      const secretClient = await app.client({ scopes: ['read'] });
      expect(unknownKid).toEqual(badSignature);
      expect(await answer(await ask(assertionParams(await clientAssertion(disabledKey, disabled.client_id, app.issuer))))).toEqual(badSignature);
      expect(await answer(await ask(assertionParams(await clientAssertion(key, secretClient.client_id, app.issuer))))).toEqual(badSignature);
    });
  });
});

describe('private_key_jwt with a jwks_uri: an unknown kid is answered like a bad signature', () => {
  let server: TestHttpsServer;
  let app: TestApp;
  let key: ClientKey;
  beforeAll(async () => {
    key = await clientKey('ES256');
    server = await startHttpsServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    app = await startTestApp({ env: { OUTBOUND_ALLOWED_HOSTS: server.host } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it('refuses an unknown kid, refetched once and then within the refetch cooldown, with the answer of a bad signature', async () => {
    const { client_id: clientId } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${server.origin}/jwks.json`, scopes: ['read'] });
    const ask = async (k: ClientKey) => answer(await app.token({ grant_type: 'client_credentials', resource: API, ...assertionParams(await clientAssertion(k, clientId, app.issuer)) }));
    const badSignature = await ask({ ...(await clientKey('ES256')), kid: key.kid });
    expect(badSignature.status).toBe(401);
    const refetched = await ask({ ...key, kid: 'rotated-away' });
    const withinCooldown = await ask({ ...key, kid: 'rotated-away' });
    expect([refetched, withinCooldown]).toEqual([badSignature, badSignature]);
  });
});

describe('the decoy key an unknown client is checked against', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])('makes %s assertions go through a real signature check (regression: an unknown client did no signature work)', async (alg) => {
    const key = await clientKey(alg);
    const assertion = await clientAssertion(key, 'nobody', 'https://issuer.example');
    expect(decodeProtectedHeader(assertion).alg).toBe(alg);
    // Not "no matching key" nor "unsupported": the signature itself was checked, and failed.
    expect(await checkAgainstDecoy(assertion, checkedHeader(assertion))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });
});
