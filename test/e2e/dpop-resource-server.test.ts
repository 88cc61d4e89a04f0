/**
 * The resource-server module and DPoP-bound tokens (RFC 9449 §7): `Authorization: DPoP` with its
 * proof (method, URL, `ath`, the key of `cnf.jkt`, single use), a bound token refused as Bearer,
 * `WWW-Authenticate: DPoP algs="…"` with the RFC 9449 error codes. Every check sends its bad variant.
 */
import { decodeJwt } from 'jose';
import { ath, dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createVerifier, ResourceServerError, type Verifier } from '../../src/resource-server/index.js';

const API = 'https://api.example.com';
const ALGS = 'algs="ES256 ES384 PS256 RS256 EdDSA"';
const dpopChallenge = (error: string) => new RegExp(`^DPoP realm="api", error="${error}", error_description="[^"]*"(, scope="[^"]+")?, ${ALGS}$`);

describe('resource-server module: DPoP-bound tokens (RFC 9449 §7)', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  let key: DpopKey;
  let verifier: Verifier;
  let api: ResourceApi;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }, { name: 'write' }] });
    creds = await app.client({ scopes: ['read', 'write'] });
    key = await dpopKey('ES256');
    verifier = createVerifier({ issuer: app.issuer, audience: API });
    api = await startResourceApi(verifier);
  });
  afterAll(async () => {
    await api.close();
    await app.close();
  });

  /** A token bound to `k` (or a bearer token without `k`). */
  async function issue(k?: DpopKey, scope = 'read'): Promise<string> {
    const headers: Record<string, string> = k ? { DPoP: await proof(k, 'POST', `${app.url}/oauth/token`) } : {};
    const res = await app.token({ grant_type: 'client_credentials', scope }, { basic: [creds.client_id, creds.client_secret], headers });
    return (await res.json()).access_token;
  }

  const call = (path: string, headers: Record<string, string>, method = 'GET') => fetch(`${api.url}${path}`, { method, headers });
  const withDpop = async (path: string, token: string, p?: string) => call(path, { Authorization: `DPoP ${token}`, ...(p ? { DPoP: p } : {}) });

  it('accepts a bound token with a proof for this request, by its key, and hands the claims to the route', async () => {
    const token = await issue(key);
    const res = await withDpop('/read', token, await proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(token) } }));
    expect(res.status).toBe(200);
    expect((await res.json()).claims).toEqual(decodeJwt(token));
  });

  it('takes the scheme in any case and ignores the query in htu', async () => {
    const token = await issue(key);
    const res = await fetch(`${api.url}/read?page=2`, { headers: { Authorization: `dpop ${token}`, DPoP: await proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(token) } }) } });
    expect(res.status).toBe(200);
  });

  it('refuses a DPoP-bound token presented as Bearer (§7.2), with a DPoP challenge', async () => {
    const token = await issue(key);
    const res = await call('/read', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(dpopChallenge('invalid_token'));
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('refuses the DPoP scheme with a token that is not bound', async () => {
    const token = await issue();
    const res = await withDpop('/read', token, await proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(token) } }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(dpopChallenge('invalid_token'));
  });

  describe('refuses a bad proof with 401 invalid_dpop_proof and a DPoP challenge (§7.1)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, (token: string) => Promise<string | undefined>]> = [
      ['no proof at all', async () => undefined],
      ['htm of another method', async (t) => proof(key, 'POST', `${api.url}/read`, { claims: { ath: ath(t) } })],
      ['htu of another path', async (t) => proof(key, 'GET', `${api.url}/write`, { claims: { ath: ath(t) } })],
      ['htu of another host', async (t) => proof(key, 'GET', `https://elsewhere.example/read`, { claims: { ath: ath(t) } })],
      ['no ath', async () => proof(key, 'GET', `${api.url}/read`)],
      ['the ath of another token', async () => proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath('another token') } })],
      ['a proof by another key than cnf.jkt', async (t) => proof(await dpopKey('ES256'), 'GET', `${api.url}/read`, { claims: { ath: ath(t) } })],
      ['an old iat', async (t) => proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(t), iat: now() - 600 } })],
      ['typ JWT', async (t) => proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(t) }, header: { typ: 'JWT' } })],
      ['an alg the API does not accept (ES512)', async (t) => proof(await dpopKey('ES512'), 'GET', `${api.url}/read`, { claims: { ath: ath(t) } })],
      ['a signature by a key other than the header’s', async (t) => proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(t) }, signWith: (await dpopKey('ES256')).privateKey })],
    ];
    it.each(cases)('%s', async (_what, make) => {
      const token = await issue(key);
      const res = await withDpop('/read', token, await make(token));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(dpopChallenge('invalid_dpop_proof'));
      expect(await res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: expect.any(String) });
    });

    it('a proof used twice (replay)', async () => {
      const token = await issue(key);
      const once = await proof(key, 'GET', `${api.url}/read`, { claims: { ath: ath(token) } });
      expect((await withDpop('/read', token, once)).status).toBe(200);
      const again = await withDpop('/read', token, once);
      expect(again.status).toBe(401);
      expect(again.headers.get('www-authenticate')).toMatch(dpopChallenge('invalid_dpop_proof'));
    });
  });

  it('answers 403 insufficient_scope to a bound token with a DPoP challenge', async () => {
    const token = await issue(key, 'read');
    const res = await withDpop('/write', token, await proof(key, 'GET', `${api.url}/write`, { claims: { ath: ath(token) } }));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(`DPoP realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="write", ${ALGS}`);
  });

  it('refuses a bound token once its grant is revoked, as any other (status list)', async () => {
    const token = await issue(key);
    const { grant_id } = decodeJwt(token) as { grant_id: string };
    const admin = await app.adminToken();
    expect((await app.request(`/admin/grants/${grant_id}`, { method: 'DELETE', token: admin, json: { reason: 'stolen' } })).status).toBe(200);
    const fresh = createVerifier({ issuer: app.issuer, audience: API });
    const err = await fresh.verifyRequest({ method: 'GET', url: `${API}/x`, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', `${API}/x`, { claims: { ath: ath(token) } }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceServerError);
    expect((err as ResourceServerError).code).toBe('invalid_token');
  });

  describe('an API that requires DPoP (dpop.required)', () => {
    let strict: ResourceApi;
    beforeAll(async () => {
      strict = await startResourceApi(createVerifier({ issuer: app.issuer, audience: API, dpop: { required: true } }));
    });
    afterAll(() => strict.close());

    it('refuses a bearer token and says DPoP with its algs, also when no token is sent', async () => {
      const bearer = await fetch(`${strict.url}/read`, { headers: { Authorization: `Bearer ${await issue()}` } });
      expect(bearer.status).toBe(401);
      expect(bearer.headers.get('www-authenticate')).toMatch(dpopChallenge('invalid_token'));
      const none = await fetch(`${strict.url}/read`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe(`DPoP realm="api", scope="read", ${ALGS}`);
    });

    it('accepts a bound token with its proof', async () => {
      const token = await issue(key);
      const res = await fetch(`${strict.url}/read`, { headers: { Authorization: `DPoP ${token}`, DPoP: await proof(key, 'GET', `${strict.url}/read`, { claims: { ath: ath(token) } }) } });
      expect(res.status).toBe(200);
    });
  });
});
