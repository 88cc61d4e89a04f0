/**
 * Token exchange (RFC 8693) with real, unmodified clients — oauth4webapi's
 * genericTokenEndpointRequest and openid-client's genericGrantRequest — and, built by hand with
 * jose, every kind of subject token Grantor must refuse (RFC 8693 §2.2.2: invalid_request).
 */
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { dpopKey, proof } from '../helpers/dpop.js';
import { counts, hs256Jwt, rs256Jwt, tamper, unsignedJwt } from '../helpers/hostile.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PHOTOS = 'https://photos.example.com';
const PRINT = 'https://print.example.com';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

type Creds = { client_id: string; client_secret: string };

describe('token exchange with real clients and hand-built subject tokens', () => {
  let app: TestApp;
  let backend: Creds;
  let printer: Creds;
  /** Seconds Grantor's clock runs ahead of the real one. */
  let skew = 0;

  beforeAll(async () => {
    app = await startTestApp({ clock: { now: () => Math.floor(Date.now() / 1000) + skew } });
    await app.resource({ identifier: PHOTOS, scopes: [{ name: 'photos:read' }] });
    backend = await app.client({ scopes: ['photos:read'] });
    printer = await app.client({ scopes: ['photos:read'] });
    await app.resource({ identifier: PRINT, scopes: [{ name: 'photos:read' }], token_exchange_clients: [printer.client_id, backend.client_id] });
  });
  afterAll(() => app.close());

  const subjectToken = async (headers?: Record<string, string>) => {
    const res = await app.token({ grant_type: 'client_credentials', resource: PHOTOS }, { basic: [backend.client_id, backend.client_secret], headers });
    return (await res.json()).access_token as string;
  };
  const exchange = (subject: string, headers?: Record<string, string>, caller = printer) =>
    app.token({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: subject, resource: PRINT }, { basic: [caller.client_id, caller.client_secret], headers });

  it('oauth4webapi: genericTokenEndpointRequest exchanges a token and processGenericTokenEndpointResponse takes the answer', async () => {
    const issuer = new URL(app.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    expect(as.grant_types_supported).toContain(GRANT_TYPE);
    const c: oauth.Client = { client_id: printer.client_id };
    const subject = await subjectToken();
    const res = await oauth.genericTokenEndpointRequest(as, c, oauth.ClientSecretBasic(printer.client_secret), GRANT_TYPE, { subject_token: subject, subject_token_type: ACCESS_TOKEN, resource: PRINT }, insecure);
    const answer = await oauth.processGenericTokenEndpointResponse(as, c, res);
    expect(answer.token_type).toBe('bearer');
    expect(answer.issued_token_type).toBe(ACCESS_TOKEN);
    expect(decodeJwt(answer.access_token)).toMatchObject({ aud: PRINT, client_id: printer.client_id, sub: backend.client_id, act: { sub: printer.client_id } });
  });

  it('openid-client: genericGrantRequest exchanges a token (client_secret_post, its default)', async () => {
    const config = await client.discovery(new URL(app.issuer), printer.client_id, printer.client_secret, undefined, { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });
    const tokens = await client.genericGrantRequest(config, GRANT_TYPE, { subject_token: await subjectToken(), subject_token_type: ACCESS_TOKEN, audience: PRINT });
    expect(tokens.issued_token_type).toBe(ACCESS_TOKEN);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: PRINT, act: { sub: printer.client_id } });
  });

  it('openid-client: a refusal surfaces as its ResponseBodyError with the RFC 8693 code', async () => {
    const config = await client.discovery(new URL(app.issuer), printer.client_id, printer.client_secret, undefined, { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });
    await expect(client.genericGrantRequest(config, GRANT_TYPE, { subject_token: 'not-a-token', subject_token_type: ACCESS_TOKEN, resource: PRINT })).rejects.toMatchObject({ error: 'invalid_request', status: 400 });
  });

  describe('subject tokens refused with invalid_request, storing nothing', () => {
    const forged: Array<[string, (real: string) => Promise<string> | string]> = [
      ['alg none', (real) => unsignedJwt({ alg: 'none', typ: 'at+jwt' }, decodeJwt(real))],
      ['HS256 keyed with the public key', (real) => hs256Jwt({ alg: 'HS256', typ: 'at+jwt', kid: app.deps.keyRing.signingKey().kid }, decodeJwt(real), JSON.stringify(app.deps.keyRing.publicJwks()[0]))],
      ['a tampered payload (wider scope)', (real) => tamper(real, (c) => ({ ...c, scope: 'photos:read admin' }))],
      ['a foreign key with the real kid', async (real) => {
        const { privateKey } = await generateKeyPair('RS256', { extractable: true });
        return rs256Jwt(privateKey, { alg: 'RS256', typ: 'at+jwt', kid: app.deps.keyRing.signingKey().kid }, decodeJwt(real));
      }],
      ['an expired token (re-signed by a foreign key so exp can move)', async (real) => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({ ...decodeJwt(real), exp: Math.floor(Date.now() / 1000) - 10 }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: app.deps.keyRing.signingKey().kid }).sign(privateKey);
      }],
      ['another typ (a JWT that is no access token)', async (real) => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT(decodeJwt(real)).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
      }],
      ['garbage', () => 'a.b.c'],
      ['a 10 kB value', () => 'x'.repeat(10_000)],
    ];
    it.each(forged)('%s', async (_name, forge) => {
      const real = await subjectToken();
      const token = await forge(real);
      const before = await counts(app);
      const res = await exchange(token);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      expect(await counts(app)).toEqual(before);
    });

    it('a token past exp by Grantor’s own clock', async () => {
      const real = await subjectToken();
      skew = 3601;
      try {
        const res = await exchange(real);
        expect(res.status).toBe(400);
        expect((await res.json()).error).toBe('invalid_request');
      } finally {
        skew = 0;
      }
    });
  });

  describe('DPoP-bound subject tokens (RFC 9449 with RFC 8693)', () => {
    const tokenUrl = () => `${app.issuer}/oauth/token`;

    it('are refused without a proof by their key', async () => {
      const key = await dpopKey();
      const bound = await subjectToken({ DPoP: await proof(key, 'POST', tokenUrl()) });
      expect(decodeJwt(bound).cnf).toEqual({ jkt: key.jkt });
      const before = await counts(app);
      const without = await exchange(bound);
      expect(without.status).toBe(400);
      expect((await without.json()).error).toBe('invalid_request');
      const other = await exchange(bound, { DPoP: await proof(await dpopKey(), 'POST', tokenUrl()) });
      expect((await other.json()).error).toBe('invalid_request');
      expect(await counts(app)).toEqual(before);
    });

    it('are exchanged with a proof by their key, into a token bound to the same key', async () => {
      const key = await dpopKey();
      const bound = await subjectToken({ DPoP: await proof(key, 'POST', tokenUrl()) });
      const res = await exchange(bound, { DPoP: await proof(key, 'POST', tokenUrl()) });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.token_type).toBe('DPoP');
      expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
    });
  });

  it(`refuses chains of exchanges deeper than the limit`, async () => {
    // backend and printer are both listed for Print: exchange Print → Print again and again.
    let token = await subjectToken();
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await exchange(token, undefined, i % 2 ? backend : printer);
      answers.push(res.status);
      if (res.status !== 200) {
        expect((await res.json()).error).toBe('invalid_request');
        break;
      }
      token = (await res.json()).access_token;
    }
    expect(answers).toEqual([200, 200, 200, 200, 400]);
  });
});
