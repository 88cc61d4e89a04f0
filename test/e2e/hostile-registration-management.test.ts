/**
 * Hostile use of the RFC 7592 client configuration endpoint (from a security review on
 * 2026-11-30, after hostile-outbound-and-pages.test.ts). Each test is named for the secure
 * behaviour it expects; attacks already pinned in dynamic-registration.test.ts (another client's
 * token, deleted/unknown/admin/blocked clients, client_id mismatch) and in
 * client-metadata-documents.test.ts (forbidden URL forms, secret-holding documents) are not
 * repeated here.
 */
import type http from 'node:http';
import { fixedClock } from '../../src/lib/clock.js';
import { createDocumentCache } from '../../src/outbound/document-cache.js';
import type { FetchOutcome } from '../../src/outbound/fetch-document.js';
import { Person, pkce } from '../helpers/browserless.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { assertionParams, clientAssertion, clientKey, type ClientKey } from '../helpers/client-assertion.js';
import { API, authorizeUrl, delegatedFixture, PASSWORD } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { openScopes, register, startOpenRegistration } from '../helpers/registration.js';

const REDIRECT = 'https://app.example.com/callback';

function manage(uri: string, token: string, init: { method?: string; json?: unknown } = {}): Promise<Response & { json(): Promise<any> }> {
  return fetch(uri, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
}

const PUBLIC_APP = { client_name: 'Public agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' };

/** Signs alice in, allows, and redeems a code for `clientId` (with `auth` form parameters for a keyed client). */
async function codeFor(app: TestApp, clientId: string, redirectUri = REDIRECT): Promise<{ code: string; verifier: string }> {
  const person = new Person(app.url);
  const p = pkce();
  const back = await person.authorize(authorizeUrl(clientId, { redirect_uri: redirectUri, code_challenge: p.challenge, code_challenge_method: 'S256' }), { username: 'alice', password: PASSWORD });
  const code = back.searchParams.get('code');
  expect(code).toBeTruthy();
  return { code: code!, verifier: p.verifier };
}

async function tokensFor(app: TestApp, clientId: string, auth: () => Promise<Record<string, string>> = async () => ({})): Promise<{ access_token: string; refresh_token: string }> {
  const { code, verifier } = await codeFor(app, clientId);
  const res = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier, ...(await auth()) });
  expect(res.status).toBe(200);
  const body = await res.json();
  expect(body.refresh_token).toBeTruthy();
  return body;
}

describe('hostile: the RFC 7592 client configuration endpoint', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startOpenRegistration();
  });
  afterAll(() => app.close());

  it('DELETE then re-registering with the same metadata: the old registration\'s refresh and access tokens stay dead', async () => {
    const first = await (await register(app, PUBLIC_APP)).json();
    const tokens = await tokensFor(app, first.client_id);
    expect((await manage(first.registration_client_uri, first.registration_access_token, { method: 'DELETE' })).status).toBe(204);
    const again = await (await register(app, PUBLIC_APP)).json();
    expect(again.client_id).not.toBe(first.client_id);
    // The old refresh token, presented as either client.
    expect((await app.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: first.client_id })).status).not.toBe(200);
    expect((await app.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: again.client_id })).status).not.toBe(200);
    // The old access token is revoked too (Grantor's own introspection through an admin token is not needed: the grant row says so).
    const grants = await app.deps.db('grants').where({ client_id: first.client_id });
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.every((g: { revoked_at: unknown }) => g.revoked_at !== null)).toBe(true);
    // The new registration's token does not manage the old one.
    expect((await manage(first.registration_client_uri, again.registration_access_token)).status).toBe(401);
  });

  it('a PUT cannot grant the client client_credentials, a shared secret, or another client_id, and a refused PUT changes nothing', async () => {
    const reg = await (await register(app, PUBLIC_APP)).json();
    const attempts: Array<Record<string, unknown>> = [
      { ...PUBLIC_APP, client_id: reg.client_id, grant_types: ['authorization_code', 'client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' },
      { ...PUBLIC_APP, client_id: reg.client_id, token_endpoint_auth_method: 'client_secret_basic' },
      { ...PUBLIC_APP, client_id: reg.client_id, token_endpoint_auth_method: 'client_secret_post' },
      { ...PUBLIC_APP, client_id: 'admin-chosen-id' },
      { ...PUBLIC_APP, client_id: reg.client_id, client_secret: 'mine', scope: 'admin photos:write introspect' , redirect_uris: ['javascript:alert(1)'] },
    ];
    for (const json of attempts) {
      const res = await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json });
      expect(res.status).toBe(400);
    }
    const row = await app.deps.db('clients').where({ client_id: reg.client_id }).first();
    expect(row.secret_hash ?? null).toBeNull();
    expect(JSON.parse(row.grant_types)).not.toContain('client_credentials');
    const read = await (await manage(reg.registration_client_uri, reg.registration_access_token)).json();
    expect(read).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scope: 'photos:read' });
    // A PUT asking for scopes nobody opened stores only the opened ones.
    const wide = await (await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json: { ...PUBLIC_APP, client_id: reg.client_id, scope: 'admin photos:read photos:write introspect' } })).json();
    expect(wide.scope).toBe('photos:read');
  });

  it('a PUT that drops refresh_token from grant_types stops the refresh tokens already issued', async () => {
    const reg = await (await register(app, PUBLIC_APP)).json();
    const { refresh_token } = await tokensFor(app, reg.client_id);
    const put = await manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json: { ...PUBLIC_APP, client_id: reg.client_id, grant_types: ['authorization_code'] } });
    expect(put.status).toBe(200);
    const res = await app.token({ grant_type: 'refresh_token', refresh_token, client_id: reg.client_id });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('unauthorized_client');
  });

  it('a PUT racing an admin\'s block never leaves the client enabled', async () => {
    const reg = await (await register(app, PUBLIC_APP)).json();
    const admin = await app.adminToken();
    await Promise.all([
      ...Array.from({ length: 5 }, () => manage(reg.registration_client_uri, reg.registration_access_token, { method: 'PUT', json: { ...PUBLIC_APP, client_id: reg.client_id, client_name: 'Racer' } })),
      app.request('/admin/blocked-clients', { method: 'POST', token: admin, json: { client_id: reg.client_id } }),
    ]);
    const row = await app.deps.db('clients').where({ client_id: reg.client_id }).first();
    expect(Boolean(row.disabled)).toBe(true);
    expect((await manage(reg.registration_client_uri, reg.registration_access_token)).status).toBe(401);
  });

  it('an admin\'s token, or the registration access token in the query or a form body, does not open the configuration endpoint', async () => {
    const reg = await (await register(app, PUBLIC_APP)).json();
    const admin = await app.adminToken();
    expect((await manage(reg.registration_client_uri, admin)).status).toBe(401);
    expect((await fetch(`${reg.registration_client_uri}?access_token=${reg.registration_access_token}`)).status).toBe(401);
    const form = await fetch(reg.registration_client_uri, { method: 'DELETE', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `access_token=${reg.registration_access_token}` });
    expect(form.status).toBe(401);
    expect(await app.deps.db('clients').where({ client_id: reg.client_id }).first()).toBeDefined();
  });
});

describe('hostile: Client ID Metadata Documents that change, or URLs that almost match', () => {
  type Answer = { status?: number; headers?: Record<string, string>; body?: string };
  let server: TestHttpsServer;
  let app: TestApp;
  const clock = fixedClock(1_900_000_000);
  const answers = new Map<string, (url: string) => Answer>();
  const fetched: string[] = [];
  const doc = (url: string, over: Record<string, unknown> = {}) =>
    JSON.stringify({ client_id: url, client_name: 'Doc agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', ...over });
  const serve = (path: string, answer: (url: string) => Answer): string => {
    answers.set(path.toLowerCase(), answer);
    return `${server.origin}${path}`;
  };

  beforeAll(async () => {
    // Like many web servers, this one matches paths case-insensitively and ignores a trailing slash.
    server = await startHttpsServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      const pathname = new URL(req.url ?? '/', 'https://x').pathname;
      fetched.push(pathname);
      const a = answers.get(pathname.toLowerCase().replace(/\/$/, ''))?.(`${server.origin}${pathname}`) ?? { status: 404, body: '' };
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
    app = await startTestApp({ clock, env: { OUTBOUND_ALLOWED_HOSTS: server.host, OUTBOUND_TIMEOUT: '1', RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await delegatedFixture(app);
    await openScopes(app, API, ['photos:read']);
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it('a code is redeemed only with the redirect URI it was issued for, even after the document lists another', async () => {
    const OTHER = 'https://attacker.example/harvest';
    let uris = [REDIRECT];
    const clientId = serve('/moving.json', (url) => ({ body: doc(url.replace(/\/moving\.json$/i, '/moving.json'), { redirect_uris: uris }), headers: { 'cache-control': 'max-age=60' } }));
    const { code, verifier } = await codeFor(app, clientId);
    uris = [OTHER];
    clock.advance(61);
    const res = await app.token({ grant_type: 'authorization_code', code, redirect_uri: OTHER, client_id: clientId, code_verifier: verifier });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
  });

  it('client_ids differing only in case, a trailing slash or a default port are other clients: never answered from the genuine one\'s cached document', async () => {
    const clientId = serve('/genuine.json', () => ({ body: doc(`${server.origin}/genuine.json`), headers: { 'cache-control': 'max-age=3600' } }));
    // The genuine document is fetched and cached.
    expect((await new Person(app.url).get(authorizeUrl(clientId, { code_challenge: pkce().challenge, code_challenge_method: 'S256' }))).status).not.toBe(400);
    const variants = [clientId.replace('/genuine.json', '/GENUINE.json'), `${clientId}/`, clientId.replace('/genuine.json', '/genuine.json?'), `https://${server.host.toUpperCase()}${new URL(clientId).pathname}`];
    for (const v of variants) {
      const res = await app.token({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, client_id: v, code_verifier: 'a'.repeat(43) });
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_client');
      const page = await new Person(app.url).get(authorizeUrl(v, { code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
      expect(page.status).toBe(400);
    }
    // The genuine one still works (not poisoned by the variants' refusals).
    const page = await new Person(app.url).get(authorizeUrl(clientId, { code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    expect(page.status).not.toBe(400);
  });

  it('holds at most maxEntries documents however many distinct client_id URLs are tried (oldest evicted)', async () => {
    let now = 0;
    const cache = createDocumentCache({ maxEntries: 3, minTtl: 60, maxTtl: 86400, defaultTtl: 300, failureTtl: 30, maxInFlight: 32, now: () => now });
    const calls: string[] = [];
    const f = async (url: string): Promise<FetchOutcome> => {
      calls.push(url);
      return { ok: false, reason: 'nope' };
    };
    for (let i = 0; i < 1000; i++) await cache.get(`https://x.example/${i}`, f);
    calls.length = 0;
    // Only the last three are still held: asking for them fetches nothing; the first is fetched again.
    for (const i of [997, 998, 999]) await cache.get(`https://x.example/${i}`, f);
    expect(calls).toEqual([]);
    await cache.get('https://x.example/0', f);
    expect(calls).toEqual(['https://x.example/0']);
  });
});
