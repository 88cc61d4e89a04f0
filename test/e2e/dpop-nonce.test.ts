/**
 * RFC 9449 §8 server nonces, switched on with DPOP_NONCES=required: a proof without the server's
 * nonce is answered 400 use_dpop_nonce with a DPoP-Nonce header; any instance accepts any
 * instance's nonce (an HMAC over a time window with a secret shared through the database).
 */
import { decodeJwt } from 'jose';
import { dpopNonceValid } from '../../src/oauth/dpop-nonce.js';
import { dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startTwoInstances } from '../helpers/two-instances.js';
import { APP_ORIGIN, REDIRECT } from '../helpers/delegated.js';

describe('DPoP server nonces (RFC 9449 §8, DPOP_NONCES=required)', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  let key: DpopKey;
  let htu: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { DPOP_NONCES: 'required', RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
    await app.client({ name: 'spa', type: 'public', redirect_uris: [REDIRECT], scopes: ['read'] });
    key = await dpopKey('ES256');
    htu = `${app.url}/oauth/token`;
  });
  afterAll(() => app.close());

  const send = (dpop: string, headers: Record<string, string> = {}) =>
    app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret], headers: { DPoP: dpop, ...headers } });

  it('asks for a nonce with 400 use_dpop_nonce and a DPoP-Nonce header, then accepts the proof that carries it', async () => {
    const first = await send(await proof(key, 'POST', htu));
    expect(first.status).toBe(400);
    expect(await first.json()).toEqual({ error: 'use_dpop_nonce', error_description: expect.any(String) });
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9._-]+$/);
    const second = await send(await proof(key, 'POST', htu, { claims: { nonce } }));
    expect(second.status).toBe(200);
    expect(decodeJwt((await second.json()).access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('hands the next nonce out with every DPoP token answer, on both paths (§8.2)', async () => {
    const asked = await send(await proof(key, 'POST', htu));
    const nonce = asked.headers.get('dpop-nonce');
    const lean = await send(await proof(key, 'POST', htu, { claims: { nonce } }));
    const koa = await send(await proof(key, 'POST', htu, { claims: { nonce } }), { Origin: APP_ORIGIN });
    expect([lean.status, koa.status]).toEqual([200, 200]);
    // The current window's nonce (the same as `nonce` unless a window ended in between).
    for (const res of [lean, koa]) expect(dpopNonceValid(app.deps.secrets.dpopNonce, res.headers.get('dpop-nonce'), Math.floor(Date.now() / 1000))).toBe(true);
    // A bearer answer carries none.
    const bearer = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret] });
    expect(bearer.headers.get('dpop-nonce')).toBeNull();
  });

  it('refuses a nonce it never handed out', async () => {
    const res = await send(await proof(key, 'POST', htu, { claims: { nonce: 'made.up' } }));
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('use_dpop_nonce');
    expect(res.headers.get('dpop-nonce')).toBeTruthy();
  });

  it('asks for the nonce the same way on the koa path, and lets browser apps send DPoP and read DPoP-Nonce (CORS)', async () => {
    const res = await send(await proof(key, 'POST', htu), { Origin: APP_ORIGIN });
    expect(res.status).toBe(400);
    expect(res.headers.get('dpop-nonce')).toBeTruthy();
    expect(res.headers.get('access-control-expose-headers')).toMatch(/DPoP-Nonce/);
    const preflight = await fetch(htu, { method: 'OPTIONS', headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'dpop, content-type' } });
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/DPoP/);
  });

  it('is off by default: a proof without a nonce is accepted', async () => {
    const plain = await startTestApp();
    try {
      await plain.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
      const c = await plain.client({ scopes: ['read'] });
      const res = await plain.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret], headers: { DPoP: await proof(key, 'POST', `${plain.url}/oauth/token`) } });
      expect(res.status).toBe(200);
    } finally {
      await plain.close();
    }
  });

  it('accepts on instance B a nonce handed out by instance A', async () => {
    const { a, b, close } = await startTwoInstances({ ISSUER: 'https://auth.example.com', DPOP_NONCES: 'required', RATE_LIMIT_ADDRESS: '0' });
    try {
      await a.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
      const c = await a.client({ scopes: ['read'] });
      const url = 'https://auth.example.com/oauth/token';
      const asked = await a.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret], headers: { DPoP: await proof(key, 'POST', url) } });
      const nonce = asked.headers.get('dpop-nonce');
      const res = await b.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret], headers: { DPoP: await proof(key, 'POST', url, { claims: { nonce } }) } });
      expect(res.status).toBe(200);
    } finally {
      await close();
    }
  });
});
