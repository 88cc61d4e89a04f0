/**
 * private_key_jwt client authentication (RFC 7523 §2.2, §3; draft-ietf-oauth-rfc7523bis; issue #12
 * item 2): a client proves itself with a JWT signed by a key it registered. Every check has a test
 * that sends the bad variant, built by hand with jose.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { fixedClock } from '../../src/lib/clock.js';
import { assertionParams, clientAssertion, clientKey, JWT_BEARER, type ClientKey } from '../helpers/client-assertion.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';
const NOW = 1_900_000_000;

describe('private_key_jwt client authentication (RFC 7523 §2.2)', () => {
  let app: TestApp;
  let key: ClientKey;
  let clientId: string;
  const clock = fixedClock(NOW);
  /** An assertion of the registered client, valid unless options say otherwise. */
  const assertion = (opts: Parameters<typeof clientAssertion>[3] = {}, k = key, id = clientId) => clientAssertion(k, id, app.issuer, { now: clock.now(), ...opts });
  const ask = (params: Record<string, string>, init?: Parameters<TestApp['token']>[1]) => app.token({ grant_type: 'client_credentials', resource: API, ...params }, init);
  const grantCount = async () => Number(((await app.deps.db('grants').count({ n: '*' }).first()) as { n: string }).n);

  beforeAll(async () => {
    app = await startTestApp({ clock });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    key = await clientKey('ES256');
    const created = await app.request('/admin/clients', {
      method: 'POST',
      token: await app.adminToken(),
      json: { name: 'signer', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scopes: ['read', 'introspect'] },
    });
    expect(created.status).toBe(201);
    clientId = (await created.json()).client_id;
  });
  afterAll(() => app.close());

  it('issues tokens to a client that signs an assertion with its registered key', async () => {
    const res = await ask(assertionParams(await assertion()));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: clientId, client_id: clientId, aud: API });
  });

  it('accepts every required algorithm: RS256, PS256, ES256 and EdDSA', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
      const k = await clientKey(alg);
      const { client_id } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [k.publicJwk] }, scopes: ['read'] });
      const res = await ask(assertionParams(await assertion({}, k, client_id)));
      expect([alg, res.status]).toEqual([alg, 200]);
    }
  });

  it('authenticates at the introspection and revocation endpoints too (RFC 7662 §2.1, RFC 7009 §2.1)', async () => {
    const { access_token } = await (await ask(assertionParams(await assertion()))).json();
    const form = async (token: string) => new URLSearchParams({ token, ...assertionParams(await assertion()) }).toString();
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const introspected = await app.request('/oauth/introspect', { method: 'POST', headers, body: await form(access_token) });
    expect(introspected.status).toBe(200);
    expect(await introspected.json()).toMatchObject({ active: true, client_id: clientId });
    const revoked = await app.request('/oauth/revoke', { method: 'POST', headers, body: await form(access_token) });
    expect(revoked.status).toBe(200);
    const after = await app.request('/oauth/introspect', { method: 'POST', headers, body: await form(access_token) });
    expect(await after.json()).toEqual({ active: false });
    // Without an assertion the same endpoint refuses the client.
    const bare = await app.request('/oauth/introspect', { method: 'POST', headers, body: new URLSearchParams({ token: access_token, client_id: clientId }).toString() });
    expect(bare.status).toBe(401);
  });

  it('uses a jti once: the same assertion a second time is refused (RFC 7523 §3 item 7)', async () => {
    const once = await assertion();
    expect((await ask(assertionParams(once))).status).toBe(200);
    const again = await ask(assertionParams(once));
    expect(again.status).toBe(401);
    expect((await again.json()).error).toBe('invalid_client');
  });

  it('forgets a used jti once its assertion can no longer be accepted (pruning)', async () => {
    const count = async () => Number(((await app.deps.db('used_jtis').count({ n: '*' }).first()) as { n: string }).n);
    expect((await ask(assertionParams(await assertion()))).status).toBe(200);
    expect(await count()).toBeGreaterThan(0);
    const { pruneExpired } = await import('../../src/store/prune.js');
    await pruneExpired(app.deps.db, NOW + 60 + 31, { maxTokenLifetime: 86400, revocationFeed: 86400, spentRefreshTokens: 86400 }, 86400);
    expect(await count()).toBe(0);
  });

  describe('refuses, as invalid_client with no token and no grant, an assertion that', () => {
    const foreign = clientKey('ES256');
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ['has another client_assertion_type', async () => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: await assertion() })],
      ['has no client_assertion_type', async () => ({ client_assertion: await assertion() })],
      ['is missing (type only)', async () => ({ client_assertion_type: JWT_BEARER })],
      ['is not a JWT', async () => assertionParams('not.a.jwt')],
      ['is huge', async () => assertionParams(`${'a'.repeat(9000)}.b.c`)],
      ['is unsigned (alg none)', async () => assertionParams(new UnsecuredJWT({ iss: clientId, sub: clientId, aud: app.issuer, exp: NOW + 60, jti: randomUUID() }).encode())],
      [
        'is a MAC (HS256) keyed with the public key',
        async () =>
          assertionParams(
            await new SignJWT({ iss: clientId, sub: clientId, aud: app.issuer, exp: NOW + 60, jti: randomUUID() })
              .setProtectedHeader({ alg: 'HS256', kid: key.kid })
              .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk))),
          ),
      ],
      ['is signed by a foreign key under the registered kid', async () => assertionParams(await assertion({}, { ...(await foreign), kid: key.kid }))],
      ['carries its own key in an embedded jwk header', async () => { const f = await foreign; return assertionParams(await assertion({ header: { jwk: f.publicJwk } }, f)); }],
      ['has a tampered payload', async () => { const [h, , s] = (await assertion()).split('.'); return assertionParams(`${h}.${Buffer.from(JSON.stringify({ iss: clientId, sub: clientId, aud: app.issuer, exp: NOW + 60, jti: 'x', scope: 'admin' })).toString('base64url')}.${s}`); }],
      ['names another iss (RFC 7523 §3 item 1)', async () => assertionParams(await assertion({ claims: { iss: 'someone-else' } }))],
      ['names a sub that is not a client (item 2)', async () => assertionParams(await assertion({ claims: { sub: 'nobody' } }))],
      ['is addressed to the token endpoint URL, not the issuer (rfc7523bis)', async () => assertionParams(await assertion({ claims: { aud: `${app.issuer}/oauth/token` } }))],
      ['is addressed to another server (item 3)', async () => assertionParams(await assertion({ claims: { aud: 'https://other-as.example.com' } }))],
      ['names the issuer among other audiences (rfc7523bis: one value)', async () => assertionParams(await assertion({ claims: { aud: [app.issuer, 'https://other-as.example.com'] } }))],
      ['has no aud', async () => assertionParams(await assertion({ claims: { aud: undefined } }))],
      ['has no exp (item 4)', async () => assertionParams(await assertion({ claims: { exp: undefined } }))],
      ['has expired', async () => assertionParams(await assertion({ claims: { iat: NOW - 600, exp: NOW - 60 } }))],
      ['expires more than five minutes ahead', async () => assertionParams(await assertion({ claims: { exp: NOW + 3600 } }))],
      ['is not valid yet (nbf, item 5)', async () => assertionParams(await assertion({ claims: { nbf: NOW + 120 } }))],
      ['was issued in the future (iat, item 6)', async () => assertionParams(await assertion({ claims: { iat: NOW + 120 } }))],
      ['has no jti (item 7)', async () => assertionParams(await assertion({ claims: { jti: undefined } }))],
      ['is typed as another kind of JWT (typ at+jwt)', async () => assertionParams(await assertion({ header: { typ: 'at+jwt' } }))],
      ['comes with a client_id that is not its sub (RFC 7521 §4.2)', async () => ({ ...assertionParams(await assertion()), client_id: 'someone-else' })],
    ];
    it.each(cases)('%s', async (_name, params) => {
      const before = await grantCount();
      const res = await ask(await params());
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_client');
      expect(await grantCount()).toBe(before);
    });

    it('accepts the explicit type client-authentication+jwt and a client_id equal to sub', async () => {
      expect((await ask({ ...assertionParams(await assertion({ header: { typ: 'client-authentication+jwt' } })), client_id: clientId })).status).toBe(200);
    });
  });

  describe('one method per client and per request (RFC 6749 §2.3)', () => {
    it('refuses an assertion sent with a client_secret or with Basic as invalid_request', async () => {
      const withSecret = await ask({ ...assertionParams(await assertion()), client_secret: 'x' });
      expect(withSecret.status).toBe(400);
      expect((await withSecret.json()).error).toBe('invalid_request');
      const withBasic = await ask(assertionParams(await assertion()), { basic: [clientId, 'x'] });
      expect(withBasic.status).toBe(400);
      expect((await withBasic.json()).error).toBe('invalid_request');
    });

    it('refuses a private_key_jwt client that presents a secret or only its client_id', async () => {
      expect((await ask({ client_id: clientId, client_secret: 'anything' })).status).toBe(401);
      expect((await ask({}, { basic: [clientId, 'anything'] })).status).toBe(401);
      expect((await ask({ client_id: clientId })).status).toBe(401);
    });

    it('refuses an assertion from a client that registered a secret', async () => {
      const secretClient = await app.client({ scopes: ['read'] });
      const res = await ask(assertionParams(await assertion({}, key, secretClient.client_id)));
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_client');
    });

    it('refuses a disabled private_key_jwt client', async () => {
      const k = await clientKey();
      const { client_id } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [k.publicJwk] }, scopes: ['read'] });
      await app.request(`/admin/clients/${client_id}`, { method: 'PATCH', token: await app.adminToken(), json: { disabled: true } });
      expect((await ask(assertionParams(await assertion({}, k, client_id)))).status).toBe(401);
    });
  });

  it('advertises private_key_jwt and its algorithms at every endpoint that authenticates clients (RFC 8414 §2)', async () => {
    const md = await (await app.request('/.well-known/oauth-authorization-server')).json();
    for (const endpoint of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
      expect(md[`${endpoint}_auth_methods_supported`]).toContain('private_key_jwt');
      expect(md[`${endpoint}_auth_signing_alg_values_supported`]).toEqual(expect.arrayContaining(['RS256', 'PS256', 'ES256', 'EdDSA']));
      expect(md[`${endpoint}_auth_signing_alg_values_supported`]).not.toContain('none');
      expect(md[`${endpoint}_auth_signing_alg_values_supported`].some((a: string) => a.startsWith('HS'))).toBe(false);
    }
  });
});
