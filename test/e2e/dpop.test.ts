/**
 * RFC 9449 (DPoP) at the token endpoint: proofs checked as §4.3 says, tokens bound by `cnf.jkt`
 * (§6.1), refresh tokens of public clients bound to the key (§5), introspection showing the
 * binding (§6.2). Every check has a test that sends the bad variant (issue #12 item 1).
 */
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { ath, dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { statusBit } from '../helpers/delegated.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { pruneRetention } from '../../src/deps.js';
import { PROOF_MAX_AGE } from '../../src/oauth/dpop-proof.js';
import { pruneExpired } from '../../src/store/prune.js';

const API = 'https://api.example.com';
const FORM = 'application/x-www-form-urlencoded';

describe('DPoP at the token endpoint (RFC 9449 §5)', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  let rs: { client_id: string; client_secret: string };
  let key: DpopKey;
  let htu: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
    rs = await app.client({ name: 'rs', scopes: ['introspect'] });
    key = await dpopKey('ES256');
    htu = `${app.url}/oauth/token`;
  });
  afterAll(() => app.close());

  const basic = () => ({ basic: [creds.client_id, creds.client_secret] as [string, string] });
  const withProof = (dpop: string) => app.token({ grant_type: 'client_credentials', scope: 'read' }, { ...basic(), headers: { DPoP: dpop } });

  it('advertises the proof algorithms in the metadata (§5.1)', async () => {
    const meta = await (await app.request('/.well-known/oauth-authorization-server')).json();
    expect(meta.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'PS256', 'RS256', 'EdDSA']));
  });

  it.each(['ES256', 'PS256', 'RS256', 'EdDSA'])('issues a DPoP token bound by cnf.jkt to a %s proof key (§5, §6.1)', async (alg) => {
    const k = await dpopKey(alg);
    const res = await withProof(await proof(k, 'POST', htu));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.token_type).toBe('DPoP');
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet({ keys: app.deps.keyRing.publicJwks() }), { issuer: app.issuer, typ: 'at+jwt' });
    expect(payload.cnf).toEqual({ jkt: k.jkt });
  });

  it('issues a Bearer token without cnf when no proof is sent', async () => {
    const res = await app.token({ grant_type: 'client_credentials', scope: 'read' }, basic());
    const body = await res.json();
    expect(body.token_type).toBe('Bearer');
    expect(decodeJwt(body.access_token).cnf).toBeUndefined();
  });

  it('accepts an htu differing only in case, default port, query or fragment (§4.3 step 9: normalised)', async () => {
    const u = new URL(htu);
    const variant = `HTTP://${u.host.toUpperCase()}/oauth/token?x=1#frag`;
    expect((await withProof(await proof(key, 'POST', variant))).status).toBe(200);
  });

  it('shows the binding in introspection: token_type DPoP and cnf.jkt (§6.2)', async () => {
    const { access_token } = await (await withProof(await proof(key, 'POST', htu))).json();
    const res = await fetch(`${app.url}/oauth/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': FORM, Authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: access_token }),
    });
    expect(await res.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });

  it('revokes a bound token as any other: revocation (RFC 7009) makes it inactive, and its grant’s status bit is set', async () => {
    const { access_token } = await (await withProof(await proof(key, 'POST', htu))).json();
    const basicAuth = `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}`;
    const revoked = await fetch(`${app.url}/oauth/revoke`, { method: 'POST', headers: { 'Content-Type': FORM, Authorization: basicAuth }, body: new URLSearchParams({ token: access_token }) });
    expect(revoked.status).toBe(200);
    const res = await fetch(`${app.url}/oauth/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': FORM, Authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: access_token }),
    });
    expect(await res.json()).toEqual({ active: false });
    const idx = (decodeJwt(access_token) as { status: { status_list: { idx: number } } }).status.status_list.idx;
    expect(await statusBit(app, idx)).toBe(1);
  });

  describe('refuses every bad proof with 400 invalid_dpop_proof, and issues nothing (§4.3)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => Promise<string>]> = [
      ['a proof that is not a JWT', async () => 'not-a-jwt'],
      ['typ other than dpop+jwt (step 4)', () => proof(key, 'POST', htu, { header: { typ: 'JWT' } })],
      ['no typ (step 4)', () => proof(key, 'POST', htu, { header: { typ: undefined } })],
      ['alg none (step 5)', async () => {
        const h = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk })).toString('base64url');
        const p = Buffer.from(JSON.stringify({ htm: 'POST', htu, iat: now(), jti: 'none-1' })).toString('base64url');
        return `${h}.${p}.`;
      }],
      ['an HMAC alg keyed with the jwk (step 5)', async () => {
        const secret = new TextEncoder().encode('a shared secret of thirty-two bytes!');
        return new SignJWT({ htm: 'POST', htu, iat: now(), jti: 'hs-1' }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } } as never).sign(secret);
      }],
      ['an alg not in dpop_signing_alg_values_supported (ES512, step 5)', async () => proof(await dpopKey('ES512'), 'POST', htu)],
      ['no jwk in the header (step 6)', () => proof(key, 'POST', htu, { header: { jwk: undefined } })],
      ['a private key in the jwk (step 6)', async () => {
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        const priv = await exportJWK(privateKey);
        return new SignJWT({ htm: 'POST', htu, iat: now(), jti: 'priv-1' }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: priv } as never).sign(privateKey);
      }],
      ['a signature by another key than the jwk (step 7)', async () => proof(key, 'POST', htu, { signWith: (await dpopKey('ES256')).privateKey })],
      ['htm other than POST (step 8)', () => proof(key, 'GET', htu)],
      ['no htm (step 8)', () => proof(key, 'POST', htu, { claims: { htm: undefined } })],
      ['htu of another endpoint (step 9)', () => proof(key, 'POST', `${htu.replace('/token', '/revoke')}`)],
      ['htu of another host (step 9)', () => proof(key, 'POST', 'https://evil.example/oauth/token')],
      ['no htu (step 9)', () => proof(key, 'POST', htu, { claims: { htu: undefined } })],
      ['iat five minutes old (step 11)', () => proof(key, 'POST', htu, { claims: { iat: now() - 300 } })],
      ['iat five minutes ahead (step 11)', () => proof(key, 'POST', htu, { claims: { iat: now() + 300 } })],
      ['no iat (step 11)', () => proof(key, 'POST', htu, { claims: { iat: undefined } })],
      ['no jti (§4.2)', () => proof(key, 'POST', htu, { claims: { jti: undefined } })],
      ['an ath where no access token is presented (step 12)', () => proof(key, 'POST', htu, { claims: { ath: ath('some token') } })],
    ];
    it.each(cases)('%s', async (_what, make) => {
      const before = await app.deps.db('grants').count({ n: '*' }).first();
      const res = await withProof(await make());
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: expect.any(String) });
      expect(await app.deps.db('grants').count({ n: '*' }).first()).toEqual(before);
    });

    it('two DPoP headers (step 1)', async () => {
      const [a, b] = [await proof(key, 'POST', htu), await proof(key, 'POST', htu)];
      const res = await rawRequest(app.url, '/oauth/token', {
        method: 'POST',
        headers: { 'Content-Type': FORM, Authorization: `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}`, DPoP: [a, b] },
        body: 'grant_type=client_credentials&scope=read',
      });
      expect(res.status).toBe(400);
      expect(res.json().error).toBe('invalid_dpop_proof');
    });

    it('a proof used a second time: the jti is single use (§11.1)', async () => {
      const once = await proof(key, 'POST', htu);
      expect((await withProof(once)).status).toBe(200);
      const again = await withProof(once);
      expect(again.status).toBe(400);
      expect((await again.json()).error).toBe('invalid_dpop_proof');
    });
  });

  it('refuses a DPoP-bound admin token presented as Bearer to the admin API (RFC 9449 §7.2)', async () => {
    const admin = await app.client({ name: 'admin', scopes: ['admin'] });
    const res = await app.token({ grant_type: 'client_credentials', scope: 'admin' }, { basic: [admin.client_id, admin.client_secret], headers: { DPoP: await proof(key, 'POST', htu) } });
    const { access_token } = await res.json();
    const call = await app.request('/admin/clients', { token: access_token });
    expect(call.status).toBe(401);
    expect((await call.json()).error).toBe('invalid_token');
    const bearer = await app.token({ grant_type: 'client_credentials', scope: 'admin' }, { basic: [admin.client_id, admin.client_secret] });
    expect((await app.request('/admin/clients', { token: (await bearer.json()).access_token })).status).toBe(200);
  });

  it('keeps a proof’s record only while the proof could be accepted, then prunes it (standards: replay)', async () => {
    await withProof(await proof(key, 'POST', htu));
    const count = async () => Number(((await app.deps.db('used_jtis').count({ n: '*' }).first()) as { n: string }).n);
    expect(await count()).toBeGreaterThan(0);
    const now = Math.floor(Date.now() / 1000);
    await pruneExpired(app.deps.db, now, pruneRetention(app.deps.config), app.deps.config.grantIdleTimeout);
    expect(await count()).toBeGreaterThan(0);
    const counts = await pruneExpired(app.deps.db, now + PROOF_MAX_AGE + 2, pruneRetention(app.deps.config), app.deps.config.grantIdleTimeout);
    expect(counts.usedJtis).toBeGreaterThan(0);
    expect(await count()).toBe(0);
  });

  it('answers DPoP requests the same through the lean path and through koa (an Origin sends it to koa)', async () => {
    const lean = await withProof(await proof(key, 'POST', htu));
    const koa = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { ...basic(), headers: { DPoP: await proof(key, 'POST', htu), Origin: 'https://elsewhere.example' } });
    expect(lean.status).toBe(200);
    expect(koa.status).toBe(200);
    expect(decodeJwt((await koa.json()).access_token).cnf).toEqual({ jkt: key.jkt });
    expect(decodeJwt((await lean.json()).access_token).cnf).toEqual({ jkt: key.jkt });
    const bad = await proof(key, 'GET', htu);
    const [l, k] = [await withProof(bad), await app.token({ grant_type: 'client_credentials', scope: 'read' }, { ...basic(), headers: { DPoP: await proof(key, 'GET', htu), Origin: 'https://elsewhere.example' } })];
    expect([l.status, k.status]).toEqual([400, 400]);
    expect(await k.json()).toEqual(await l.json());
  });
});
