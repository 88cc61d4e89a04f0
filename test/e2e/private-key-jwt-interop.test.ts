/**
 * private_key_jwt with unmodified clients (oauth4webapi 3.x, openid-client 6.x; issue #12 item 4),
 * and a client assertion's jti used once across instances (RFC 7523 §3 item 7).
 */
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { assertionParams, clientAssertion, clientKey, type ClientKey } from '../helpers/client-assertion.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

const API = 'https://api.example.com';

describe('private_key_jwt with real clients', () => {
  let app: TestApp;
  let key: ClientKey;
  let clientId: string;

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    key = await clientKey('ES256');
    ({ client_id: clientId } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scopes: ['read', 'introspect'] }));
  });
  afterAll(() => app.close());

  describe('oauth4webapi 3.x', () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    let as: oauth.AuthorizationServer;
    beforeAll(async () => {
      const issuer = new URL(app.issuer);
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    });

    it('gets a token, introspects it and revokes it, authenticating with PrivateKeyJwt each time', async () => {
      const c: oauth.Client = { client_id: clientId };
      const auth = () => oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid });
      const issued = await oauth.processClientCredentialsResponse(as, c, await oauth.clientCredentialsGrantRequest(as, c, auth(), { scope: 'read', resource: API }, insecure));
      expect(issued.scope).toBe('read');
      const introspected = await oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, auth(), issued.access_token, insecure));
      expect(introspected).toMatchObject({ active: true, client_id: clientId });
      await expect(oauth.processRevocationResponse(await oauth.revocationRequest(as, c, auth(), issued.access_token, insecure))).resolves.toBeUndefined();
    });

    it('surfaces invalid_client when the key is not the registered one', async () => {
      const stranger = await clientKey('ES256');
      const c: oauth.Client = { client_id: clientId };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt({ key: stranger.privateKey, kid: key.kid }), { resource: API }, insecure);
      const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(oauth.ResponseBodyError);
      expect((err as oauth.ResponseBodyError).error).toBe('invalid_client');
    });
  });

  describe('openid-client 6.x', () => {
    it('gets a token with PrivateKeyJwt (RS256 key)', async () => {
      const rsa = await clientKey('RS256');
      const { client_id } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [rsa.publicJwk] }, scopes: ['read'] });
      const config = await client.discovery(new URL(app.issuer), client_id, undefined, client.PrivateKeyJwt({ key: rsa.privateKey, kid: rsa.kid }), {
        execute: [client.allowInsecureRequests],
        algorithm: 'oauth2',
      });
      const tokens = await client.clientCredentialsGrant(config, { scope: 'read', resource: API });
      expect(tokens.scope).toBe('read');
      expect(tokens.token_type).toBe('bearer');
    });
  });
});

describe('a client assertion across instances (RFC 7523 §3 item 7)', () => {
  let two: TwoInstances;
  let key: ClientKey;
  let clientId: string;
  beforeAll(async () => {
    two = await startTwoInstances();
    await two.a.resource({ identifier: API, scopes: [{ name: 'read' }] });
    key = await clientKey();
    ({ client_id: clientId } = await two.a.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scopes: ['read'] }));
  });
  afterAll(() => two.close());

  // Both instances share the issuer identifier only in production; here each has its own, so the
  // assertion is addressed to each in turn under the same jti.
  it('is accepted once: the same jti presented to the other instance is refused', async () => {
    const jti = 'one-jti-for-both';
    const atA = await two.a.token({ grant_type: 'client_credentials', ...assertionParams(await clientAssertion(key, clientId, two.a.issuer, { claims: { jti } })) });
    expect(atA.status).toBe(200);
    const atB = await two.b.token({ grant_type: 'client_credentials', ...assertionParams(await clientAssertion(key, clientId, two.b.issuer, { claims: { jti } })) });
    expect(atB.status).toBe(401);
    expect((await atB.json()).error).toBe('invalid_client');
  });

  it('lets exactly one of two racing requests through', async () => {
    const jti = 'raced-jti';
    const [ra, rb] = await Promise.all([
      clientAssertion(key, clientId, two.a.issuer, { claims: { jti } }).then((a) => two.a.token({ grant_type: 'client_credentials', ...assertionParams(a) })),
      clientAssertion(key, clientId, two.b.issuer, { claims: { jti } }).then((a) => two.b.token({ grant_type: 'client_credentials', ...assertionParams(a) })),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 401]);
  });
});
