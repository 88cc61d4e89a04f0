/**
 * Who may insist on DPoP: a client registered with `dpop_bound_access_tokens` (RFC 9449 §5.2), an
 * API registered with it (RFC 9728 §2), and an authorization request naming `dpop_jkt` (§10).
 */
import { decodeJwt } from 'jose';
import { Person } from '../helpers/browserless.js';
import { authorizeUrl, delegatedFixture, obtainCode, REDIRECT, type Delegated } from '../helpers/delegated.js';
import { dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { runCliProcess } from '../helpers/processes.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('requiring DPoP (RFC 9449 §5.2, §10)', () => {
  let app: TestApp;
  let fx: Delegated;
  let key: DpopKey;
  let htu: string;
  let admin: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    fx = await delegatedFixture(app);
    await app.resource({ identifier: 'https://open.example.com', scopes: [{ name: 'read' }] });
    key = await dpopKey('ES256');
    htu = `${app.url}/oauth/token`;
    admin = await app.adminToken();
  });
  afterAll(() => app.close());

  const grant = async (c: { client_id: string; client_secret: string }, resource: string, k?: DpopKey) =>
    app.token({ grant_type: 'client_credentials', resource }, { basic: [c.client_id, c.client_secret], headers: k ? { DPoP: await proof(k, 'POST', htu) } : {} });

  it('a client registered with dpop_bound_access_tokens gets tokens only with a proof', async () => {
    const res = await app.request('/admin/clients', { method: 'POST', token: admin, json: { name: 'strict', scopes: ['read'], dpop_bound_access_tokens: true } });
    expect(res.status).toBe(201);
    const c = await res.json();
    expect(c.dpop_bound_access_tokens).toBe(true);
    const without = await grant(c, 'https://open.example.com');
    expect(without.status).toBe(400);
    expect((await without.json()).error).toBe('invalid_dpop_proof');
    const withProof = await grant(c, 'https://open.example.com', key);
    expect(withProof.status).toBe(200);
    expect((await withProof.json()).token_type).toBe('DPoP');
    // Switched off, bearer tokens again.
    const off = await app.request(`/admin/clients/${c.client_id}`, { method: 'PATCH', token: admin, json: { dpop_bound_access_tokens: false } });
    expect((await off.json()).dpop_bound_access_tokens).toBe(false);
    expect((await grant(c, 'https://open.example.com')).status).toBe(200);
  });

  it('an API registered with dpop_bound_access_tokens gets only DPoP-bound tokens issued for it', async () => {
    const created = await app.request('/admin/resources', { method: 'POST', token: admin, json: { identifier: 'https://bound.example.com', name: 'bound', scopes: [{ name: 'bound:read' }], dpop_bound_access_tokens: true } });
    expect(created.status).toBe(201);
    expect((await created.json()).dpop_bound_access_tokens).toBe(true);
    const c = await app.client({ scopes: ['bound:read', 'read'] });
    const without = await grant(c, 'https://bound.example.com');
    expect(without.status).toBe(400);
    expect((await without.json()).error).toBe('invalid_dpop_proof');
    const bound = await grant(c, 'https://bound.example.com', key);
    expect(decodeJwt((await bound.json()).access_token).cnf).toEqual({ jkt: key.jkt });
    // The same client still gets bearer tokens for an API that does not insist.
    expect((await (await grant(c, 'https://open.example.com')).json()).token_type).toBe('Bearer');
  });

  describe('dpop_jkt at the authorization endpoint (§10)', () => {
    const redeem = async (code: string, verifier: string, k?: DpopKey) =>
      app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: fx.spa.client_id, code_verifier: verifier }, { headers: k ? { DPoP: await proof(k, 'POST', htu) } : {} });

    it('binds the code to the key: another key or no proof is refused (and the code is not spent), the named key redeems it', async () => {
      const person = new Person(app.url);
      const { code, verifier } = await obtainCode(person, fx.spa.client_id, { extra: { dpop_jkt: key.jkt } });
      const other = await redeem(code, verifier!, await dpopKey('ES256'));
      expect(other.status).toBe(400);
      expect((await other.json()).error).toBe('invalid_dpop_proof');
      const none = await redeem(code, verifier!);
      expect(none.status).toBe(400);
      expect((await none.json()).error).toBe('invalid_dpop_proof');
      const right = await redeem(code, verifier!, key);
      expect(right.status).toBe(200);
      expect(decodeJwt((await right.json()).access_token).cnf).toEqual({ jkt: key.jkt });
    });

    it('refuses a malformed dpop_jkt with an error redirect (invalid_request)', async () => {
      const person = new Person(app.url);
      const res = await person.get(authorizeUrl(fx.spa.client_id, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', dpop_jkt: 'not a thumbprint' }));
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('state')).toBe('xyz');
    });
  });
});

describe('CLI: --dpop-bound on clients and resources', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace('dpop-cli');
  });
  afterAll(() => ws.remove());
  const cli = async (...args: string[]) => {
    const res = await runCliProcess([...args, '--json'], { cwd: ws.cwd, env: { DATABASE_URL: ws.databaseUrl } });
    expect(res.stderr).toBe('');
    return JSON.parse(res.stdout);
  };

  it('sets and clears the flag; an unflagged client or resource is not bound', async () => {
    const resource = await cli('resources', 'create', '--identifier', 'https://cli.example.com', '--name', 'CLI API', '--scope', 'read', '--dpop-bound');
    expect(resource.dpop_bound_access_tokens).toBe(true);
    expect((await cli('resources', 'update', resource.id, '--no-dpop-bound')).dpop_bound_access_tokens).toBe(false);
    expect((await cli('resources', 'update', resource.id, '--name', 'renamed')).dpop_bound_access_tokens).toBe(false);
    const plain = await cli('clients', 'create', '--name', 'plain', '--scopes', 'read');
    expect(plain.dpop_bound_access_tokens).toBe(false);
    const strict = await cli('clients', 'create', '--name', 'strict', '--scopes', 'read', '--dpop-bound');
    expect(strict.dpop_bound_access_tokens).toBe(true);
    expect((await cli('clients', 'update', strict.client_id, '--no-dpop-bound')).dpop_bound_access_tokens).toBe(false);
    expect((await cli('clients', 'update', strict.client_id, '--dpop-bound')).dpop_bound_access_tokens).toBe(true);
  });
});
