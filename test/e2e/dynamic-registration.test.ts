/**
 * Dynamic client registration (issue #11 item 2; RFC 7591, RFC 7592): an app registers itself at
 * the registration endpoint and is then a client like any other — limited, as a client nobody
 * vetted, to the scopes resources opened to such clients.
 */
import * as oauth from 'oauth4webapi';
import { Person } from '../helpers/browserless.js';
import { API, delegatedFixture, introspect, PASSWORD, REDIRECT, signIn, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** Opens photos:read of the Photos API to clients nobody vetted. */
async function openPhotosRead(app: TestApp): Promise<void> {
  const token = await app.adminToken();
  const list = await (await app.request('/admin/resources?limit=200', { token })).json();
  const id = list.items.find((r: { identifier: string }) => r.identifier === API).id;
  const patched = await app.request(`/admin/resources/${id}`, { method: 'PATCH', token, json: { dynamic_client_scopes: ['photos:read'] } });
  expect(patched.status).toBe(200);
}

function register(app: TestApp, body: unknown, headers: Record<string, string> = {}): Promise<Response & { json(): Promise<any> }> {
  return fetch(`${app.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
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
    const body = await (await register(app, { client_name: 'Shown', redirect_uris: [REDIRECT] })).json();
    const person = new Person(app.url);
    const q = new URLSearchParams({ response_type: 'code', client_id: body.client_id, redirect_uri: REDIRECT, scope: 'photos:read', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const login = await (await person.get(`/oauth/authorize?${q}`)).text();
    expect(login).toContain('Shown');
    await signIn(person, 'alice');
    const consent = await (await person.get(`/oauth/authorize?${q}`)).text();
    expect(consent).toContain('it registered itself');
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
