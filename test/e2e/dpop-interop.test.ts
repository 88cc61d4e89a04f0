/**
 * DPoP with real, unmodified clients (issue #12 item 1): oauth4webapi 3.x and openid-client 6.x
 * get DPoP-bound tokens from Grantor — through a server nonce retry when DPOP_NONCES=required —
 * and call an API guarded by the resource-server module with them; oauth4webapi also validates
 * them as a resource server would.
 */
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createVerifier } from '../../src/resource-server/index.js';

const API = 'https://api.example.com';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe.each([['off'], ['required']])('DPoP interop with DPOP_NONCES=%s', (nonces) => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  let api: ResourceApi;
  beforeAll(async () => {
    app = await startTestApp({ env: { DPOP_NONCES: nonces } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
    api = await startResourceApi(createVerifier({ issuer: app.issuer, audience: API }));
  });
  afterAll(async () => {
    await api.close();
    await app.close();
  });

  it('oauth4webapi: gets a DPoP token (retrying with the server nonce when asked), calls the API with it, and validates it', async () => {
    const issuer = new URL(app.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    expect(as.dpop_signing_alg_values_supported).toContain('ES256');
    const c: oauth.Client = { client_id: creds.client_id };
    const auth = oauth.ClientSecretBasic(creds.client_secret);
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(c, keyPair);
    const grant = () => oauth.clientCredentialsGrantRequest(as, c, auth, { scope: 'read' }, { DPoP, ...insecure });
    let result: oauth.TokenEndpointResponse;
    let retried = false;
    try {
      result = await oauth.processClientCredentialsResponse(as, c, await grant());
    } catch (err) {
      if (!oauth.isDPoPNonceError(err)) throw err;
      retried = true;
      result = await oauth.processClientCredentialsResponse(as, c, await grant());
    }
    expect(retried).toBe(nonces === 'required');
    expect(result.token_type).toBe('dpop');
    expect(decodeJwt(result.access_token).cnf).toEqual({ jkt: expect.any(String) });

    const res = await oauth.protectedResourceRequest(result.access_token, 'GET', new URL(`${api.url}/read`), undefined, undefined, { DPoP, ...insecure });
    expect(res.status).toBe(200);

    // oauth4webapi as a resource server checks the proof and the binding itself.
    const request = new Request(`${API}/things`, { headers: { Authorization: `DPoP ${result.access_token}` } });
    const proofFor = oauth.DPoP(c, keyPair);
    // The client's own proof for that request, caught on its way out.
    const signed = await oauth.protectedResourceRequest(result.access_token, 'GET', new URL(`${API}/things`), undefined, undefined, {
      DPoP: proofFor,
      [oauth.customFetch]: async (_url, init) => {
        request.headers.set('DPoP', new Headers(init.headers).get('dpop')!);
        return new Response(null, { status: 204 });
      },
    });
    expect(signed.status).toBe(204);
    const claims = await oauth.validateJwtAccessToken(as, request, API, { requireDPoP: true, ...insecure });
    expect(claims.client_id).toBe(creds.client_id);
  });

  it('openid-client: gets a DPoP token (its own nonce retry) and calls the API with fetchProtectedResource', async () => {
    const config = await client.discovery(new URL(app.issuer), creds.client_id, undefined, client.ClientSecretBasic(creds.client_secret), { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    // One call: openid-client retries use_dpop_nonce itself with the DPoP-Nonce it was given.
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const res = await client.fetchProtectedResource(config, tokens.access_token, new URL(`${api.url}/read`), 'GET', undefined, undefined, { DPoP });
    expect(res.status).toBe(200);
  });
});
