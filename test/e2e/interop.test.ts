/**
 * Real, unmodified clients against a running Grantor: oauth4webapi 3.x, openid-client 6.x and jose.
 * If one of these breaks, a relying party in the wild breaks the same way.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';

describe('interoperability with real clients', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  /** A client whose scope only API defines, so it needs no resource parameter. */
  let single: { client_id: string; client_secret: string };

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }, { name: 'write' }], access_token_ttl: 300 });
    await app.resource({ identifier: OTHER, scopes: [{ name: 'read' }, { name: 'report' }] });
    creds = await app.client({ scopes: ['read', 'write', 'report'] });
    single = await app.client({ scopes: ['write'] });
  });
  afterAll(() => app.close());

  const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

  describe('the metadata document (RFC 8414)', () => {
    it('is served at the well-known path without a redirect, as JSON, with the exact issuer', async () => {
      const res = await fetch(`${app.url}/.well-known/oauth-authorization-server`, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const md = await res.json();
      // §3.3: identical to the issuer the client expects, not merely equivalent.
      expect(md.issuer).toBe(app.issuer);
      expect(md.issuer).not.toMatch(/\/$/);
      // §2: REQUIRED members, and what Grantor offers today.
      expect(md.token_endpoint).toBe(`${app.issuer}/oauth/token`);
      expect(md.jwks_uri).toBe(`${app.issuer}/.well-known/jwks.json`);
      expect(Array.isArray(md.response_types_supported)).toBe(true);
      expect(md.grant_types_supported).toContain('client_credentials');
      // RFC 9700 §2.1.2, §2.4: never implicit or password.
      expect(md.grant_types_supported).not.toContain('implicit');
      expect(md.grant_types_supported).not.toContain('password');
      expect(md.response_types_supported).not.toContain('token');
      // Issue #10 item 12: public clients (no secret) use the token endpoint too (RFC 8414 §2).
      expect(md.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
      expect(md.introspection_endpoint_auth_methods_supported).not.toContain('none');
      expect(md.scopes_supported).toEqual(expect.arrayContaining(['admin', 'read', 'write', 'report']));
      // Every endpoint lives under the issuer.
      for (const [name, value] of Object.entries(md)) {
        if (name.endsWith('_endpoint') || name === 'jwks_uri') expect(String(value).startsWith(`${app.issuer}/`)).toBe(true);
      }
    });

    it('answers the token and JWKS endpoints without redirects', async () => {
      const jwks = await fetch(`${app.url}/.well-known/jwks.json`, { redirect: 'manual' });
      expect(jwks.status).toBe(200);
      const token = await fetch(`${app.url}/oauth/token`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: single.client_id, client_secret: single.client_secret }).toString(),
      });
      expect(token.status).toBe(200);
    });
  });

  describe('the revocation endpoint (RFC 7009)', () => {
    it('issue #10 item 12: answers 200 application/json {} — strict clients (simple-oauth2 revokeAll) refuse an empty text/plain body', async () => {
      const revoke = (token: string) =>
        fetch(`${app.url}/oauth/revoke`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}` },
          body: new URLSearchParams({ token }),
        });
      const issued = await (await app.token({ grant_type: 'client_credentials', scope: 'read', resource: API }, { basic: [creds.client_id, creds.client_secret] })).json();
      // A real token of the caller's, and (§2.2) an unknown one: the same answer.
      for (const token of [issued.access_token, 'not-a-token']) {
        const res = await revoke(token);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await res.text()).toBe('{}');
      }
    });
  });

  describe('the JWKS document (RFC 7517)', () => {
    it('publishes only public RSA members, with caching headers', async () => {
      const res = await fetch(`${app.url}/.well-known/jwks.json`, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/(jwk-set\+)?json(;|$)/);
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      expect(res.headers.get('etag')).toMatch(/^(W\/)?"[^"]+"$/);
      const { keys, ...rest } = await res.json();
      expect(rest).toEqual({});
      expect(keys.length).toBeGreaterThanOrEqual(1);
      const kids = new Set<string>();
      for (const key of keys) {
        expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(key).not.toHaveProperty(secret);
        expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
        kids.add(key.kid);
      }
      expect(kids.size).toBe(keys.length);
    });

    it('answers a conditional GET with the current ETag with 304 and no body', async () => {
      const first = await fetch(`${app.url}/.well-known/jwks.json`);
      const etag = first.headers.get('etag')!;
      // node:http, not fetch(): the Fetch standard adds `Cache-Control: no-cache` to any request
      // carrying If-None-Match, and koa's freshness check then always answers 200.
      const again = await rawRequest(app.url, '/.well-known/jwks.json', { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expect(again.headers.etag).toBe(etag);
      const stale = await rawRequest(app.url, '/.well-known/jwks.json', { headers: { 'If-None-Match': '"not-the-etag"' } });
      expect(stale.status).toBe(200);
      expect(stale.json().keys.length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('oauth4webapi 3.x', () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    let as: oauth.AuthorizationServer;

    beforeAll(async () => {
      const issuer = new URL(app.issuer);
      // Grantor is an OAuth server, not an OpenID provider: RFC 8414 discovery.
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
      as = await oauth.processDiscoveryResponse(issuer, response);
    });

    it('discovers the server', () => {
      expect(as.issuer).toBe(app.issuer);
      expect(as.token_endpoint).toBe(`${app.issuer}/oauth/token`);
    });

    it('revokes a token (RFC 7009) and reads the answer', async () => {
      const c: oauth.Client = { client_id: creds.client_id };
      const auth = oauth.ClientSecretBasic(creds.client_secret);
      const issued = await oauth.processClientCredentialsResponse(as, c, await oauth.clientCredentialsGrantRequest(as, c, auth, { scope: 'read', resource: API }, insecure));
      const response = await oauth.revocationRequest(as, c, auth, issued.access_token, insecure);
      await expect(oauth.processRevocationResponse(response)).resolves.toBeUndefined();
    });

    it('gets a token with client_secret_basic and validates it as a resource server would', async () => {
      const c: oauth.Client = { client_id: creds.client_id };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(creds.client_secret), { scope: 'read write', resource: API }, insecure);
      const result = await oauth.processClientCredentialsResponse(as, c, response);
      expect(result.token_type).toBe('bearer'); // oauth4webapi lower-cases it
      expect(result.expires_in).toBe(300);
      expect(result.scope).toBe('read write');
      expect(result.refresh_token).toBeUndefined();

      const request = new Request(`${API}/things`, { headers: { Authorization: `Bearer ${result.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, API, insecure);
      expect(claims).toMatchObject({ iss: app.issuer, aud: API, sub: creds.client_id, client_id: creds.client_id, scope: 'read write' });
    });

    it('gets a token with client_secret_post', async () => {
      const c: oauth.Client = { client_id: single.client_id };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretPost(single.client_secret), {}, insecure);
      const result = await oauth.processClientCredentialsResponse(as, c, response);
      expect(result.scope).toBe('write');
      const request = new Request(`${API}/things`, { headers: { Authorization: `Bearer ${result.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, API, insecure);
      expect(claims.client_id).toBe(single.client_id);
    });

    it('refuses, as a resource server, a Grantor token meant for another audience', async () => {
      const c: oauth.Client = { client_id: creds.client_id };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(creds.client_secret), { scope: 'report', resource: OTHER }, insecure);
      const { access_token } = await oauth.processClientCredentialsResponse(as, c, response);
      const request = new Request(`${API}/things`, { headers: { Authorization: `Bearer ${access_token}` } });
      await expect(oauth.validateJwtAccessToken(as, request, API, insecure)).rejects.toThrow(/aud/);
    });

    it('surfaces a Basic challenge for a wrong secret sent with client_secret_basic', async () => {
      const c: oauth.Client = { client_id: creds.client_id };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic('wrong'), { scope: 'read', resource: API }, insecure);
      const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      const challenge = err as oauth.WWWAuthenticateChallengeError;
      expect(challenge.status).toBe(401);
      expect(challenge.cause[0].scheme).toBe('basic');
    });

    it('parses an RFC 6749 §5.2 error body for a wrong secret sent with client_secret_post', async () => {
      const c: oauth.Client = { client_id: creds.client_id };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretPost('wrong'), { scope: 'read', resource: API }, insecure);
      const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(oauth.ResponseBodyError);
      expect((err as oauth.ResponseBodyError).error).toBe('invalid_client');
      expect((err as oauth.ResponseBodyError).status).toBe(401);
    });

    it('parses invalid_scope for a scope beyond the client', async () => {
      const c: oauth.Client = { client_id: single.client_id };
      const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretPost(single.client_secret), { scope: 'report' }, insecure);
      const err = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(oauth.ResponseBodyError);
      expect((err as oauth.ResponseBodyError).error).toBe('invalid_scope');
      expect((err as oauth.ResponseBodyError).status).toBe(400);
    });
  });

  describe('openid-client 6.x', () => {
    const discover = (id: string, metadata: string | undefined, auth?: client.ClientAuth) =>
      // algorithm 'oauth2': RFC 8414 well-known path (the default, 'oidc', asks for openid-configuration).
      client.discovery(new URL(app.issuer), id, metadata, auth, { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });

    it('discovers the server and gets a token with the default client_secret_post', async () => {
      const config = await discover(single.client_id, single.client_secret);
      expect(config.serverMetadata().issuer).toBe(app.issuer);
      const tokens = await client.clientCredentialsGrant(config);
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.scope).toBe('write');
      expect(tokens.expires_in).toBe(300); // the raw field: expiresIn() counts down with the wall clock
      expect(claimsOf(tokens.access_token)).toMatchObject({ aud: API, client_id: single.client_id });
    });

    it('gets a token with ClientSecretBasic', async () => {
      const config = await discover(creds.client_id, undefined, client.ClientSecretBasic(creds.client_secret));
      const tokens = await client.clientCredentialsGrant(config, { scope: 'read', resource: API });
      expect(tokens.scope).toBe('read');
      expect(claimsOf(tokens.access_token)).toMatchObject({ aud: API, scope: 'read', sub: creds.client_id });
    });

    it('passes the resource parameter through (RFC 8707) with both authentication methods', async () => {
      const post = await discover(creds.client_id, creds.client_secret);
      const viaPost = await client.clientCredentialsGrant(post, { scope: 'read', resource: OTHER });
      expect(claimsOf(viaPost.access_token).aud).toBe(OTHER);

      const basic = await discover(creds.client_id, undefined, client.ClientSecretBasic(creds.client_secret));
      const viaBasic = await client.clientCredentialsGrant(basic, { resource: OTHER });
      expect(claimsOf(viaBasic.access_token)).toMatchObject({ aud: OTHER, scope: 'read report' });
    });

    it('reports invalid_target from the server as a ResponseBodyError', async () => {
      const config = await discover(creds.client_id, creds.client_secret);
      const err = await client.clientCredentialsGrant(config, { scope: 'read', resource: 'https://unknown.example.com' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(client.ResponseBodyError);
      expect((err as client.ResponseBodyError).error).toBe('invalid_target');
    });
  });

  describe('jose createRemoteJWKSet', () => {
    it('verifies a Grantor access token from the published JWKS', async () => {
      const md = await (await fetch(`${app.url}/.well-known/oauth-authorization-server`)).json();
      const res = await app.token({ grant_type: 'client_credentials', scope: 'read', resource: API }, { basic: [creds.client_id, creds.client_secret] });
      expect(res.status).toBe(200);
      const { access_token } = await res.json();
      const jwks = createRemoteJWKSet(new URL(md.jwks_uri));
      const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
        issuer: md.issuer,
        audience: API,
        typ: 'at+jwt',
        algorithms: ['RS256'],
      });
      expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: decodeProtectedHeader(access_token).kid });
      expect(payload).toMatchObject({ iss: app.issuer, aud: API, sub: creds.client_id, client_id: creds.client_id, scope: 'read' });
      for (const claim of ['exp', 'iat', 'jti']) expect(payload[claim]).toBeDefined();

      await expect(jwtVerify(access_token, jwks, { issuer: md.issuer, audience: OTHER, typ: 'at+jwt', algorithms: ['RS256'] })).rejects.toThrow();
    });
  });
});
