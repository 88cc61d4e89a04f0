/**
 * Dynamic client registration (issue #11 item 2; RFC 7591, RFC 7592): an app registers itself at
 * the registration endpoint and is then a client like any other — limited, as a client nobody
 * vetted, to the scopes resources opened to such clients.
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, pruneRetention } from '../../src/deps.js';
import os from 'node:os';
import path from 'node:path';
import * as oauth from 'oauth4webapi';
import { fixedClock } from '../../src/lib/clock.js';
import { runCliProcess } from '../helpers/processes.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';
import { Person } from '../helpers/browserless.js';
import { API, delegatedFixture, delegatedTokens, introspect, PASSWORD, REDIRECT, signIn, type Delegated } from '../helpers/delegated.js';
import { pruneExpired } from '../../src/store/prune.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { register } from '../helpers/registration.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** Opens photos:read of the Photos API to clients nobody vetted. */
async function openPhotosRead(app: TestApp): Promise<void> {
  const token = await app.adminToken();
  const list = await (await app.request('/admin/resources?limit=200', { token })).json();
  const id = list.items.find((r: { identifier: string }) => r.identifier === API).id;
  const patched = await app.request(`/admin/resources/${id}`, { method: 'PATCH', token, json: { dynamic_client_scopes: ['photos:read'] } });
  expect(patched.status).toBe(200);
}

describe('dynamic client registration under REGISTRATION=open (RFC 7591)', () => {
  let app: TestApp;
  let fx: Delegated;
  beforeAll(async () => {
    app = await startTestApp({ env: { REGISTRATION: 'open' } });
    fx = await delegatedFixture(app);
    await openPhotosRead(app);
  });
  afterAll(() => app.close());

  it('advertises registration_endpoint in the metadata (RFC 8414 §2)', async () => {
    const meta = await (await app.request('/.well-known/oauth-authorization-server')).json();
    expect(meta.registration_endpoint).toBe(`${app.issuer}/oauth/register`);
  });

  it('registers a public client and answers 201 with the client information response (§3.2.1)', async () => {
    const res = await register(app, { client_name: 'Agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', software_id: 'agent-kit', software_version: '1.2', contacts: ['ops@example.com'], logo_uri: 'https://app.example.com/logo.png', surprise: 'ignored' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toMatchObject({
      client_name: 'Agent',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'photos:read',
      software_id: 'agent-kit',
      software_version: '1.2',
      contacts: ['ops@example.com'],
      logo_uri: 'https://app.example.com/logo.png',
    });
    expect(typeof body.client_id).toBe('string');
    expect(typeof body.client_id_issued_at).toBe('number');
    expect(body.registration_client_uri).toBe(`${app.issuer}/oauth/register/${body.client_id}`);
    expect(body.registration_access_token.length).toBeGreaterThanOrEqual(40);
    expect(body).not.toHaveProperty('client_secret');
    expect(body).not.toHaveProperty('surprise');
    // Stored only as a hash (RFC 7592 §1.1).
    const row = await app.deps.db('clients').where({ client_id: body.client_id }).first();
    expect(row.source).toBe('registration');
    expect(JSON.stringify(row)).not.toContain(body.registration_access_token);
  });

  it('narrows scope to what resources opened to unvetted clients and returns what it stored', async () => {
    const body = await (await register(app, { redirect_uris: [REDIRECT], scope: 'photos:read photos:write admin' })).json();
    expect(body.scope).toBe('photos:read');
    expect(body.client_name).toBe('app.example.com');
  });

  it('runs the whole flow with oauth4webapi: register, consent, code, tokens, refresh, revoke on the connected-apps page', async () => {
    const issuer = new URL(app.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, { client_name: 'MCP agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }, insecure),
    );
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'photos:read', state: 'st', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const person = new Person(app.url);
    const back = await person.authorize(`${url.pathname}${url.search}`, { username: 'alice', password: PASSWORD });
    const params = oauth.validateAuthResponse(as, client, back, 'st');
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure));
    expect(tokens.scope).toBe('photos:read');
    expect(await introspect(app, fx.rs, tokens.access_token)).toMatchObject({ active: true, client_id: client.client_id, scope: 'photos:read' });
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    // The connected-apps page lists it as not registered by an administrator, and revokes it.
    const account = await (await person.get('/account')).text();
    expect(account).toContain('MCP agent');
    expect(account).toContain('not registered by an administrator');
    const grantId = /data-grant="([^"]+)"/.exec(account)![1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(account)![1];
    const revoked = await person.post(`/account/grants/${grantId}/revoke`, { csrf });
    expect([302, 303]).toContain(revoked.status);
    expect(await introspect(app, fx.rs, refreshed.access_token)).toEqual({ active: false });
  });

  it('shows the consent page with the not-registered-by-an-administrator note', async () => {
    const body = await (await register(app, { client_name: 'Shown <script>alert(1)</script>', redirect_uris: [REDIRECT] })).json();
    const person = new Person(app.url);
    const q = new URLSearchParams({ response_type: 'code', client_id: body.client_id, redirect_uri: REDIRECT, scope: 'photos:read', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const login = await (await person.get(`/oauth/authorize?${q}`)).text();
    expect(login).toContain('Shown');
    await signIn(person, 'alice');
    const consent = await (await person.get(`/oauth/authorize?${q}`)).text();
    expect(consent).toContain('it registered itself');
    // The name is the app's own claim: shown escaped, never as markup.
    expect(consent).toContain('Shown &lt;script&gt;');
    expect(consent).not.toContain('<script>alert(1)');
    expect(consent).toContain('app.example.com');
  });

  it('refuses a scope the resource did not open to unvetted clients with invalid_scope', async () => {
    const body = await (await register(app, { redirect_uris: [REDIRECT] })).json();
    const person = new Person(app.url);
    await signIn(person, 'alice');
    const q = new URLSearchParams({ response_type: 'code', client_id: body.client_id, redirect_uri: REDIRECT, scope: 'photos:write', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const res = await person.get(`/oauth/authorize?${q}`);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('refusing bad registration requests (RFC 7591 §3.2.2): a clear 400, nothing stored', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0', BODY_LIMIT: '4096' } });
    await delegatedFixture(app);
  });
  afterAll(() => app.close());

  const registered = async () => Number(((await app.deps.db('clients').where({ source: 'registration' }).count({ n: '*' }).first()) as { n: string | number }).n);

  it.each([
    ['a non-string redirect URI', { redirect_uris: [42] }, 'invalid_redirect_uri'],
    ['a javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
    ['a redirect URI with a fragment', { redirect_uris: ['https://app.example.com/cb#x'] }, 'invalid_redirect_uri'],
    ['an http redirect URI off loopback', { redirect_uris: ['http://app.example.com/cb'] }, 'invalid_redirect_uri'],
    ['no redirect URI', { client_name: 'x' }, 'invalid_redirect_uri'],
    ['redirect_uris not an array', { redirect_uris: REDIRECT }, 'invalid_redirect_uri'],
    ['an unknown auth method', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'tls_client_auth' }, 'invalid_client_metadata'],
    ['a client secret (client_secret_basic)', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
    ['a client secret (client_secret_post)', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' }, 'invalid_client_metadata'],
    ['client_credentials', { redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'client_credentials'] }, 'invalid_client_metadata'],
    ['the implicit grant', { redirect_uris: [REDIRECT], grant_types: ['implicit'] }, 'invalid_client_metadata'],
    ['refresh_token without authorization_code', { redirect_uris: [REDIRECT], grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
    ['response_types token', { redirect_uris: [REDIRECT], response_types: ['token'] }, 'invalid_client_metadata'],
    ['private_key_jwt without keys', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    ['jwks and jwks_uri both', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] }, jwks_uri: 'https://app.example.com/jwks.json' }, 'invalid_client_metadata'],
    ['a private key in jwks', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] } }, 'invalid_client_metadata'],
    ['keys for a public client', { redirect_uris: [REDIRECT], jwks_uri: 'https://app.example.com/jwks.json' }, 'invalid_client_metadata'],
    ['a control character in the name', { redirect_uris: [REDIRECT], client_name: 'Evil\u0000App' }, 'invalid_client_metadata'],
    ['a javascript: logo_uri', { redirect_uris: [REDIRECT], logo_uri: 'javascript:alert(1)' }, 'invalid_client_metadata'],
    ['an array bomb of contacts', { redirect_uris: [REDIRECT], contacts: Array(500).fill('a') }, 'invalid_client_metadata'],
    ['too many redirect URIs', { redirect_uris: Array(50).fill(REDIRECT) }, 'invalid_redirect_uri'],
    ['a JSON array', [REDIRECT], 'invalid_client_metadata'],
  ])('refuses %s', async (_what, body, error) => {
    const before = await registered();
    const res = await register(app, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = await res.json();
    expect(answer.error).toBe(error);
    expect(typeof answer.error_description).toBe('string');
    expect(await registered()).toBe(before);
  });

  it('refuses malformed JSON, another content type and an oversized body', async () => {
    const malformed = await register(app, '{"redirect_uris": [');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toBe('invalid_request');
    const form = await fetch(`${app.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'redirect_uris=https://app.example.com/callback' });
    expect(form.status).toBe(415);
    const big = await register(app, { redirect_uris: [REDIRECT], client_name: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    const empty = await fetch(`${app.url}/oauth/register`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(await registered()).toBe(0);
  });

  it('refuses a body naming a member twice, which parsers read differently (RFC 8259 §4)', async () => {
    for (const body of [
      `{"redirect_uris": ["${REDIRECT}"], "redirect_uris": ["https://evil.example/cb"]}`,
      `{"redirect_uris": ["${REDIRECT}"], "redirect_\\u0075ris": ["https://evil.example/cb"]}`,
      `{"redirect_uris": ["${REDIRECT}"], "jwks": {"keys": [{"kty": "EC", "kty": "RSA"}]}}`,
    ]) {
      const res = await register(app, body);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_request');
    }
    // The same name in different objects, or as a value, is fine.
    const fine = await register(app, `{"redirect_uris": ["${REDIRECT}"], "client_name": "redirect_uris", "contacts": ["a"], "x": {"contacts": 1}}`);
    expect(fine.status).toBe(201);
  });

  it('answers other methods with 405', async () => {
    const res = await fetch(`${app.url}/oauth/register`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('POST');
  });

  it('registers a private_key_jwt client with its keys (a method stronger than none)', async () => {
    const res = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' });
  });
});

describe('managing a registration with its registration access token (RFC 7592)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0' } });
    await delegatedFixture(app);
    await openPhotosRead(app);
  });
  afterAll(() => app.close());

  const manage = (uri: string, token: string | undefined, init: { method?: string; json?: unknown } = {}) =>
    fetch(uri, {
      method: init.method ?? 'GET',
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.json !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
    });
  const fresh = async (name = 'Managed') => (await register(app, { client_name: name, redirect_uris: [REDIRECT] })).json();

  it('reads the registration (§2.1), with the token it was given', async () => {
    const reg = await fresh();
    const res = await manage(reg.registration_client_uri, reg.registration_access_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual(reg);
  });

  it('replaces the metadata (§2.2); the token is not rotated and must name its client_id', async () => {
    const reg = await fresh();
    const wrongId = await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json: { client_id: 'other', redirect_uris: [REDIRECT] } });
    expect(wrongId.status).toBe(400);
    expect((await wrongId.json()).error).toBe('invalid_client_metadata');
    const res = await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json: { client_id: reg.client_id, client_name: 'Renamed', redirect_uris: ['https://app.example.com/other'] } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ client_id: reg.client_id, client_name: 'Renamed', redirect_uris: ['https://app.example.com/other'], registration_access_token: reg.registration_access_token });
    const bad = await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json: { client_id: reg.client_id, redirect_uris: ['javascript:x'] } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe('invalid_redirect_uri');
    expect((await (await manage(reg.registration_client_uri, reg.registration_access_token)).json()).client_name).toBe('Renamed');
  });

  it('deletes the registration (§2.3): 204, then the client is unknown everywhere', async () => {
    const reg = await fresh();
    const res = await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'DELETE' });
    expect(res.status).toBe(204);
    const again = await manage(reg.registration_client_uri, reg.registration_access_token);
    expect(again.status).toBe(401);
    expect(await app.deps.db('clients').where({ client_id: reg.client_id }).first()).toBeUndefined();
  });

  it('answers 401 invalid_token alike for another client\'s token, no token, a deleted client and a client that never existed', async () => {
    const a = await fresh('A');
    const b = await fresh('B');
    const deleted = await fresh('gone');
    await manage(deleted.registration_client_uri, deleted.registration_access_token, { method: 'DELETE' });
    const cases: Array<[string, string | undefined]> = [
      [a.registration_client_uri, b.registration_access_token],
      [a.registration_client_uri, undefined],
      [deleted.registration_client_uri, deleted.registration_access_token],
      [`${app.url}/oauth/register/no-such-client`, a.registration_access_token],
    ];
    const answers = [];
    for (const [uri, token] of cases) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await manage(uri, token, { method, json: method === 'PUT' ? { client_id: 'x', redirect_uris: [REDIRECT] } : undefined });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        answers.push((await res.json()).error);
      }
    }
    expect(new Set(answers)).toEqual(new Set(['invalid_token']));
    // Nothing changed: A is still there, named A.
    expect((await (await manage(a.registration_client_uri, a.registration_access_token)).json()).client_name).toBe('A');
  });

  it('refuses the management API for an admin\'s client, even with a token of a registered one', async () => {
    const reg = await fresh();
    const res = await manage(`${app.url}/oauth/register/${(await app.client()).client_id}`, reg.registration_access_token);
    expect(res.status).toBe(401);
  });

  it('after an admin blocks the client: its tokens stop, and its registration can be neither read, changed nor deleted', async () => {
    const reg = await fresh('Blocked');
    const token = await app.adminToken();
    const blocked = await app.request('/admin/blocked-clients', { method: 'POST', token, json: { client_id: reg.client_id, reason: 'spam' } });
    expect(blocked.status).toBe(201);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await manage(reg.registration_client_uri, reg.registration_access_token, { method, json: method === 'PUT' ? { client_id: reg.client_id, redirect_uris: [REDIRECT] } : undefined });
      expect(res.status).toBe(401);
    }
    expect(await app.deps.db('clients').where({ client_id: reg.client_id }).first()).toMatchObject({ disabled: expect.anything() });
    const person = new Person(app.url);
    await signIn(person, 'alice');
    const q = new URLSearchParams({ response_type: 'code', client_id: reg.client_id, redirect_uri: REDIRECT, scope: 'photos:read', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    expect((await person.get(`/oauth/authorize?${q}`)).status).toBe(400);
  });

  it('lists self-registered clients in the admin API, with a filter', async () => {
    const reg = await fresh('Listed');
    const token = await app.adminToken();
    const all = await (await app.request('/admin/clients?source=registration&limit=200', { token })).json();
    expect(all.items.every((c: { source?: string }) => c.source === 'registration')).toBe(true);
    expect(all.items.map((c: { client_id: string }) => c.client_id)).toContain(reg.client_id);
    const admins = await (await app.request('/admin/clients?source=admin&limit=200', { token })).json();
    expect(admins.items.map((c: { client_id: string }) => c.client_id)).not.toContain(reg.client_id);
  });
});

describe('REGISTRATION=token: an initial access token an admin minted (RFC 7591 §3)', () => {
  let app: TestApp;
  const clock = fixedClock(1_900_000_000);
  beforeAll(async () => {
    app = await startTestApp({ clock, env: { REGISTRATION: 'token', REGISTRATION_RATE_LIMIT: '0' } });
  });
  afterAll(() => app.close());

  const mint = async (json: Record<string, unknown> = {}) => {
    const res = await app.request('/admin/registration-tokens', { method: 'POST', token: await app.adminToken(), json });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return res.json();
  };
  const withToken = (token: string) => register(app, { redirect_uris: [REDIRECT] }, { Authorization: `Bearer ${token}` });

  it('still advertises registration_endpoint', async () => {
    expect((await (await app.request('/.well-known/oauth-authorization-server')).json()).registration_endpoint).toBe(`${app.issuer}/oauth/register`);
  });

  it('refuses a registration without a token, or with a wrong one, with 401 invalid_token', async () => {
    for (const headers of [{}, { Authorization: 'Bearer not-a-token' }, { Authorization: 'Basic eDp5' }] as Array<Record<string, string>>) {
      const res = await register(app, { redirect_uris: [REDIRECT] }, headers);
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_token');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('registers with a minted token, which is stored only as a hash and listed with its uses', async () => {
    const minted = await mint({ description: 'for the agent team' });
    const res = await withToken(minted.token);
    expect(res.status).toBe(201);
    const rows = await app.deps.db('registration_tokens').select('*');
    expect(JSON.stringify(rows)).not.toContain(minted.token);
    const list = await (await app.request('/admin/registration-tokens', { token: await app.adminToken() })).json();
    expect(list.items.find((t: { id: string }) => t.id === minted.id)).toMatchObject({ description: 'for the agent team', uses: 1 });
    expect(JSON.stringify(list)).not.toContain(minted.token);
  });

  it('a token of max_uses 2 registers two clients, then 401', async () => {
    const minted = await mint({ max_uses: 2 });
    expect((await withToken(minted.token)).status).toBe(201);
    expect((await withToken(minted.token)).status).toBe(201);
    expect((await withToken(minted.token)).status).toBe(401);
  });

  it('a bad registration spends no use of the token', async () => {
    const minted = await mint({ max_uses: 1 });
    const bad = await register(app, { redirect_uris: ['javascript:x'] }, { Authorization: `Bearer ${minted.token}` });
    expect(bad.status).toBe(400);
    expect((await withToken(minted.token)).status).toBe(201);
  });

  it('an expired token is refused', async () => {
    const minted = await mint({ expires_in: 60 });
    clock.advance(61);
    expect((await withToken(minted.token)).status).toBe(401);
  });

  it('a revoked token is refused', async () => {
    const minted = await mint();
    expect((await app.request(`/admin/registration-tokens/${minted.id}`, { method: 'DELETE', token: await app.adminToken() })).status).toBe(204);
    expect((await withToken(minted.token)).status).toBe(401);
    expect((await app.request('/admin/registration-tokens/no-such-token', { method: 'DELETE', token: await app.adminToken() })).status).toBe(404);
  });

  it('refuses bad mint requests and non-admins', async () => {
    for (const json of [{ max_uses: 0 }, { expires_in: 'soon' }, { extra: 1 }]) {
      expect((await app.request('/admin/registration-tokens', { method: 'POST', token: await app.adminToken(), json })).status).toBe(400);
    }
    expect((await app.request('/admin/registration-tokens', { method: 'POST', json: {} })).status).toBe(401);
  });

  it('a registration access token is no initial access token, and no admin token either', async () => {
    const reg = await (await withToken((await mint()).token)).json();
    expect((await withToken(reg.registration_access_token)).status).toBe(401);
    expect((await withToken(await app.adminToken())).status).toBe(401);
  });
});

describe('the CLI mints, lists and revokes registration tokens (grantor registration-tokens)', () => {
  it('create prints the token once; list shows its uses; revoke stops it', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-dcr-'));
    const db = onPostgres ? await createTestDatabase() : { url: `sqlite:${path.join(cwd, 'grantor.sqlite')}`, drop: async () => undefined };
    const cli = (args: string[]) => runCliProcess(args, { cwd, env: { DATABASE_URL: db.url } });
    try {
      const created = await cli(['registration-tokens', 'create', '--description', 'ci', '--max-uses', '5', '--json']);
      expect(created.stderr).toBe('');
      const minted = JSON.parse(created.stdout);
      expect(minted).toMatchObject({ description: 'ci', max_uses: 5, uses: 0 });
      const app = await startTestApp({ env: { DATABASE_URL: db.url, REGISTRATION: 'token' } });
      try {
        expect((await register(app, { redirect_uris: [REDIRECT] }, { Authorization: `Bearer ${minted.token}` })).status).toBe(201);
        const listed = JSON.parse((await cli(['registration-tokens', 'list', '--json'])).stdout);
        expect(listed.items).toEqual([expect.objectContaining({ id: minted.id, uses: 1 })]);
        expect(JSON.stringify(listed)).not.toContain(minted.token);
        expect((await cli(['registration-tokens', 'revoke', minted.id])).code).toBe(0);
        expect((await register(app, { redirect_uris: [REDIRECT] }, { Authorization: `Bearer ${minted.token}` })).status).toBe(401);
        expect((await cli(['registration-tokens', 'revoke', 'nope'])).code).not.toBe(0);
        const listedClients = JSON.parse((await cli(['clients', 'list', '--source', 'registration', '--json'])).stdout);
        expect(listedClients.items).toEqual([expect.objectContaining({ source: 'registration' })]);
      } finally {
        await app.close();
      }
    } finally {
      await db.drop();
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('abuse controls (issue #11: open registration gets abused)', () => {
  it('limits registrations per address, counting across X-Forwarded-For spoofing (TRUST_PROXY aware)', async () => {
    const app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '3', TRUST_PROXY: '1' } });
    try {
      // Behind one trusted proxy the client is the right-most X-Forwarded-For entry; what the
      // client wrote to its left is its own invention and changes nothing.
      const from = (spoofed: string) => register(app, { redirect_uris: [REDIRECT] }, { 'X-Forwarded-For': `${spoofed}, 203.0.113.7` });
      for (const spoofed of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect((await from(spoofed)).status).toBe(201);
      const limited = await from('10.0.0.4');
      expect(limited.status).toBe(429);
      expect((await limited.json()).error).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another address is not held back.
      expect((await register(app, { redirect_uris: [REDIRECT] }, { 'X-Forwarded-For': '198.51.100.9' })).status).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('the per-address limit opens again an hour later (counted by the injected clock)', async () => {
    const clock = fixedClock(1_900_000_000);
    const app = await startTestApp({ clock, env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '1' } });
    try {
      expect((await register(app, { redirect_uris: [REDIRECT] })).status).toBe(201);
      expect((await register(app, { redirect_uris: [REDIRECT] })).status).toBe(429);
      clock.advance(3601);
      expect((await register(app, { redirect_uris: [REDIRECT] })).status).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('caps the number of self-registered clients: 403 access_denied past REGISTRATION_MAX_CLIENTS, room again after a delete', async () => {
    const app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0', REGISTRATION_MAX_CLIENTS: '2' } });
    try {
      const first = await (await register(app, { redirect_uris: [REDIRECT] })).json();
      expect((await register(app, { redirect_uris: [REDIRECT] })).status).toBe(201);
      const capped = await register(app, { redirect_uris: [REDIRECT] });
      expect(capped.status).toBe(403);
      expect((await capped.json()).error).toBe('access_denied');
      // Admin-registered clients do not count.
      await app.client();
      await fetch(first.registration_client_uri, { method: 'DELETE', headers: { Authorization: `Bearer ${first.registration_access_token}` } });
      expect((await register(app, { redirect_uris: [REDIRECT] })).status).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('the reaper deletes a self-registered client that held no grant for REGISTRATION_IDLE_TTL, and keeps one that holds a grant', async () => {
    const clock = fixedClock(1_900_000_000);
    const app = await startTestApp({ clock, env: { REGISTRATION: 'open', REGISTRATION_IDLE_TTL: '3600' } });
    try {
      await delegatedFixture(app);
      await openPhotosRead(app);
      const idle = await (await register(app, { redirect_uris: [REDIRECT] })).json();
      const busy = await (await register(app, { client_name: 'Busy', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'] })).json();
      const tokens = await delegatedTokens(app, new Person(app.url), busy.client_id);
      const prune = () => pruneExpired(app.deps.db, clock.now(), pruneRetention(app.deps.config), app.deps.config.grantIdleTimeout);
      clock.advance(3599);
      expect((await prune()).registeredClients).toBe(0);
      clock.advance(2);
      expect((await prune()).registeredClients).toBe(1);
      expect(await app.deps.db('clients').where({ client_id: idle.client_id }).first()).toBeUndefined();
      expect((await fetch(idle.registration_client_uri, { headers: { Authorization: `Bearer ${idle.registration_access_token}` } })).status).toBe(401);
      // The busy one holds a live grant: kept, and it still works.
      expect(await app.deps.db('clients').where({ client_id: busy.client_id }).first()).toBeDefined();
      const refreshed = await app.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: busy.client_id });
      expect(refreshed.status).toBe(200);
      // Once its grant is revoked and an idle period has passed, it goes too.
      await app.request(`/admin/grants/${tokens.grant_id}`, { method: 'DELETE', token: await app.adminToken() });
      clock.advance(3601);
      expect((await prune()).registeredClients).toBe(1);
      expect(await app.deps.db('clients').where({ client_id: busy.client_id }).first()).toBeUndefined();
      // Admin-registered clients are never reaped.
      expect(Number(((await app.deps.db('clients').whereNull('source').count({ n: '*' }).first()) as { n: string }).n)).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});

describe('registration with two instances on one database', () => {
  let two: TwoInstances;
  beforeAll(async () => {
    two = await startTwoInstances({ REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '3' });
    await delegatedFixture(two.a);
    await openPhotosRead(two.a);
  });
  afterAll(() => two.close());

  it('a client registered on A works on B at once: authorization, token, management', async () => {
    const reg = await (await register(two.a, { client_name: 'Roaming', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'] })).json();
    const tokens = await delegatedTokens(two.b, new Person(two.b.url), reg.client_id);
    expect(tokens.scope).toBe('photos:read');
    const read = await fetch(reg.registration_client_uri.replace(two.a.url, two.b.url), { headers: { Authorization: `Bearer ${reg.registration_access_token}` } });
    expect(read.status).toBe(200);
  });

  it('counts the per-address limit in the database, across instances', async () => {
    // One registration was made above; two more, one on each instance, reach the limit of 3.
    expect((await register(two.b, { redirect_uris: [REDIRECT] })).status).toBe(201);
    expect((await register(two.a, { redirect_uris: [REDIRECT] })).status).toBe(201);
    expect((await register(two.b, { redirect_uris: [REDIRECT] })).status).toBe(429);
    expect((await register(two.a, { redirect_uris: [REDIRECT] })).status).toBe(429);
  });

  it('both instances reaping at once delete each idle client once, and keep the one holding a grant', async () => {
    const registered = async () => (await two.a.deps.db('clients').where({ source: 'registration' }).select('client_id', 'name')) as Array<{ client_id: string; name: string }>;
    const before = await registered();
    expect(before.length).toBe(3);
    const later = Math.floor(Date.now() / 1000) + two.a.deps.config.registration.idleTtl + 1;
    const [a, b] = await Promise.all([two.a, two.b].map((i) => pruneExpired(i.deps.db, later, pruneRetention(i.deps.config), i.deps.config.grantIdleTimeout)));
    expect(a.registeredClients + b.registeredClients).toBe(2);
    expect((await registered()).map((c) => c.name)).toEqual(['Roaming']);
  });
});

describe('CORS for browser clients (issue #11 item 5)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0' } });
    await delegatedFixture(app);
    await openPhotosRead(app);
  });
  afterAll(() => app.close());

  const preflight = (path: string, origin: string, method: string, requestHeaders: string) =>
    fetch(`${app.url}${path}`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': requestHeaders } });
  const ORIGIN = 'https://agent.example.net';

  it.each(['/.well-known/oauth-authorization-server', '/.well-known/jwks.json'])('answers a preflight for %s from any origin: GET, any header, no credentials', async (path) => {
    const res = await preflight(path, ORIGIN, 'GET', 'mcp-protocol-version');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('GET');
    expect(res.headers.get('access-control-allow-headers')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await fetch(`${app.url}${path}`, { headers: { Origin: ORIGIN, 'MCP-Protocol-Version': '2025-06-18' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers a preflight for the registration endpoint from any origin, echoing it, with Content-Type and Authorization allowed and no credentials', async () => {
    const res = await preflight('/oauth/register', ORIGIN, 'POST', 'content-type, authorization');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/)).toEqual(expect.arrayContaining(['content-type', 'authorization']));
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
    const item = await preflight('/oauth/register/some-client', ORIGIN, 'PUT', 'content-type, authorization');
    expect(item.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(item.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  it('echoes the origin on the registration answer and on its errors, exposing WWW-Authenticate', async () => {
    const ok = await register(app, { redirect_uris: [`${ORIGIN}/cb`] }, { Origin: ORIGIN });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const bad = await fetch(`${app.url}/oauth/register/nope`, { headers: { Origin: ORIGIN } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(bad.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/i);
  });

  it('admits a self-registered browser app at the token endpoint from its redirect URI\'s origin at once (DPoP allowed), and no other origin', async () => {
    const origin = 'https://spa.example.org';
    expect((await preflight('/oauth/token', origin, 'POST', 'content-type, dpop')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await register(app, { redirect_uris: [`${origin}/callback`] })).status).toBe(201);
    const res = await preflight('/oauth/token', origin, 'POST', 'content-type, dpop');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-headers')!.toLowerCase()).toContain('dpop');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await preflight('/oauth/token', 'https://evil.example', 'POST', 'content-type')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the log of registrations', () => {
  it('says who registered, and never holds a registration access token or an initial access token', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await startTestApp({ logger: createLogger('debug', stream), env: { REGISTRATION: 'token' } });
    try {
      const minted = await (await app.request('/admin/registration-tokens', { method: 'POST', token: await app.adminToken(), json: {} })).json();
      const reg = await (await register(app, { client_name: 'Logged', software_id: 'kit', redirect_uris: [REDIRECT] }, { Authorization: `Bearer ${minted.token}` })).json();
      await fetch(reg.registration_client_uri, { headers: { Authorization: `Bearer ${reg.registration_access_token}` } });
      await fetch(reg.registration_client_uri, { method: 'PUT', headers: { Authorization: `Bearer ${reg.registration_access_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ client_id: 'wrong', redirect_uris: [REDIRECT] }) });
      const all = lines.join('');
      expect(all).toContain('client registered itself');
      expect(all).toContain(reg.client_id);
      expect(all).not.toContain(reg.registration_access_token);
      expect(all).not.toContain(minted.token);
    } finally {
      await app.close();
    }
  });
});

describe('REGISTRATION=off (the default)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('serves no registration endpoint and the metadata names none', async () => {
    const meta = await (await app.request('/.well-known/oauth-authorization-server')).json();
    expect(meta).not.toHaveProperty('registration_endpoint');
    const res = await register(app, { redirect_uris: [REDIRECT] });
    expect(res.status).toBe(404);
    const row = (await app.deps.db('clients').where({ source: 'registration' }).count({ n: '*' }).first()) as { n: string | number };
    expect(Number(row.n)).toBe(0);
  });
});
