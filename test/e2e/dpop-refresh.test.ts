/**
 * RFC 9449 §5: a public client's refresh token is bound to the DPoP key of the request that got
 * it; a refresh with another key, or with none, fails. A confidential client's is bound to its
 * credentials, so its key may change. And a proof's jti is single use across instances (§11.1).
 */
import { decodeJwt } from 'jose';
import { Person } from '../helpers/browserless.js';
import { delegatedFixture, introspect, obtainCode, redeem, refresh, REDIRECT, type Delegated } from '../helpers/delegated.js';
import { dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startTwoInstances } from '../helpers/two-instances.js';

describe('DPoP-bound refresh tokens (RFC 9449 §5)', () => {
  let app: TestApp;
  let fx: Delegated;
  let key: DpopKey;
  let htu: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0', REFRESH_GRACE: '60' } });
    fx = await delegatedFixture(app);
    key = await dpopKey('ES256');
    htu = `${app.url}/oauth/token`;
  });
  afterAll(() => app.close());

  /** A public client's code redeemed with a proof by `k`. */
  async function redeemWithProof(k: DpopKey) {
    const person = new Person(app.url);
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    const res = await app.token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: fx.spa.client_id, code_verifier: verifier! },
      { headers: { DPoP: await proof(k, 'POST', htu) } },
    );
    expect(res.status).toBe(200);
    return res.json();
  }

  const refreshWith = async (token: string, k?: DpopKey) =>
    app.token({ grant_type: 'refresh_token', refresh_token: token, client_id: fx.spa.client_id }, { headers: k ? { DPoP: await proof(k, 'POST', htu) } : {} });

  it('binds the code redemption: a DPoP access token and a refresh token bound to the same key', async () => {
    const body = await redeemWithProof(key);
    expect(body.token_type).toBe('DPoP');
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
    const row = await app.deps.db('refresh_tokens').where({ client_id: fx.spa.client_id }).orderBy('created_at', 'desc').first();
    expect(row.dpop_jkt).toBe(key.jkt);
  });

  it('refreshes with a proof by the same key, and the successor stays bound', async () => {
    const first = await redeemWithProof(key);
    const res = await refreshWith(first.refresh_token, key);
    expect(res.status).toBe(200);
    const second = await res.json();
    expect(second.token_type).toBe('DPoP');
    expect(decodeJwt(second.access_token).cnf).toEqual({ jkt: key.jkt });
    const other = await dpopKey('ES256');
    expect((await refreshWith(second.refresh_token, other)).status).toBe(400);
  });

  it('refuses a refresh with a proof by another key (invalid_dpop_proof), and the token stays usable by its holder', async () => {
    const { refresh_token } = await redeemWithProof(key);
    const thief = await dpopKey('ES256');
    const res = await refreshWith(refresh_token, thief);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_dpop_proof');
    expect((await refreshWith(refresh_token, key)).status).toBe(200);
  });

  it('refuses a refresh of a bound token without any proof', async () => {
    const { refresh_token } = await redeemWithProof(key);
    const res = await refreshWith(refresh_token);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_dpop_proof');
  });

  it('refuses another key even for a repeat within the grace window (the stored answer is not handed out)', async () => {
    const { refresh_token } = await redeemWithProof(key);
    expect((await refreshWith(refresh_token, key)).status).toBe(200);
    const thief = await dpopKey('ES256');
    expect((await refreshWith(refresh_token, thief)).status).toBe(400);
    // The holder's own repeat within REFRESH_GRACE gets the same DPoP answer again.
    const repeat = await refreshWith(refresh_token, key);
    expect(repeat.status).toBe(200);
    const body = await repeat.json();
    expect(body.token_type).toBe('DPoP');
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('leaves a confidential client’s refresh token unbound: its key may change (§5)', async () => {
    const conf = await app.client({ name: 'server app', type: 'confidential', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    const person = new Person(app.url);
    const { code, verifier } = await obtainCode(person, conf.client_id);
    const basic = { basic: [conf.client_id, conf.client_secret] as [string, string] };
    const first = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier! }, { ...basic, headers: { DPoP: await proof(key, 'POST', htu) } });
    const { refresh_token } = await first.json();
    const other = await dpopKey('ES256');
    const res = await app.token({ grant_type: 'refresh_token', refresh_token }, { ...basic, headers: { DPoP: await proof(other, 'POST', htu) } });
    expect(res.status).toBe(200);
    expect(decodeJwt((await res.json()).access_token).cnf).toEqual({ jkt: other.jkt });
  });

  it('introspects a bound refresh token as active', async () => {
    const { refresh_token } = await redeemWithProof(key);
    expect(await introspect(app, fx.rs, refresh_token)).toMatchObject({ active: true, token_type: 'refresh_token' });
  });

  it('a plain refresh of an unbound public-client token still works without DPoP', async () => {
    const person = new Person(app.url);
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    const { refresh_token } = await (await redeem(app, fx.spa.client_id, code, verifier)).json();
    const res = await refresh(app, fx.spa.client_id, refresh_token);
    expect(res.status).toBe(200);
    expect((await res.json()).token_type).toBe('Bearer');
  });
});

describe('a DPoP proof is used once across instances (RFC 9449 §11.1)', () => {
  it('refuses on instance B a proof already used on instance A', async () => {
    const { a, b, close } = await startTwoInstances({ ISSUER: 'https://auth.example.com', RATE_LIMIT_ADDRESS: '0' });
    try {
      await a.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
      const creds = await a.client({ scopes: ['read'] });
      const key = await dpopKey('ES256');
      // Both instances publish the same token endpoint URL (the issuer's), whatever their port.
      const once = await proof(key, 'POST', 'https://auth.example.com/oauth/token');
      const basic = { basic: [creds.client_id, creds.client_secret] as [string, string], headers: { DPoP: once } };
      expect((await a.token({ grant_type: 'client_credentials' }, basic)).status).toBe(200);
      const replay = await b.token({ grant_type: 'client_credentials' }, basic);
      expect(replay.status).toBe(400);
      expect((await replay.json()).error).toBe('invalid_dpop_proof');
    } finally {
      await close();
    }
  });
});
